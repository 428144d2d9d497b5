#!/usr/bin/env node
import { ConfigError, helpText, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

/** How long a shutdown after a crash may take beyond the webhook grace before the process just exits. */
const CRASH_GRACE_MS = 10_000;

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
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopping = false;
  let exitCode = 0;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (server === undefined) process.exit(exitCode);
    server.close().then(
      () => process.exit(exitCode),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Last resort: nothing should ever get here (every engine and core chain handles its errors),
  // but if something does, the node leaves the cluster the way SIGTERM makes it, and says so.
  const crash = (kind: string, err: unknown): void => {
    logger.fatal({ err, kind }, 'bug: an error escaped every handler; shutting down');
    if (exitCode === 0) {
      exitCode = 1;
      process.exitCode = 1;
      setTimeout(() => process.exit(1), (server?.config.shutdownGraceMs ?? 0) + CRASH_GRACE_MS).unref();
    }
    stop();
  };
  process.on('unhandledRejection', (reason) => crash('unhandledRejection', reason));
  process.on('uncaughtException', (err) => crash('uncaughtException', err));
  server = await startServer({ ...loaded.config, logger });
  logger.info({ grpcPort: server.grpcPort, httpPort: server.httpPort, demo: server.config.demo }, 'channeld ready');
  const onSignal = (signal: string): void => {
    if (stopping) return;
    logger.info({ signal }, 'signal received');
    stop();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`channeld: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
