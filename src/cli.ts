#!/usr/bin/env node
import { ConfigError, helpText, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`channeld: ${err.message}\n\n${helpText()}\n`);
    process.exit(2);
  }
  if (loaded.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const logger = createLogger(loaded.config.logLevel);
  const server = await startServer({ ...loaded.config, logger });
  logger.info({ grpcPort: server.grpcPort, httpPort: server.httpPort, demo: server.config.demo }, 'channeld ready');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`channeld: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
