#!/usr/bin/env node
import { ConfigError, helpText, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { unsupportedNode, VERSION } from './runtime.js';
import type { RunningServer } from './server.js';

/** How long a shutdown after a crash may take beyond the webhook grace before the process just exits. */
const CRASH_GRACE_MS = 10_000;

// A closed pipe on stdout or stderr (`channeld | head`) must cost a line of output, never the
// process or its shutdown: the logger (pino) already drops writes after EPIPE on its own.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
}

/** The one line for humans: where to go. */
function readyLine(server: RunningServer, config: Readonly<Config>): string {
  const tls = config.grpcTlsCert === '' ? '' : config.grpcTlsClientCa === '' ? ' (TLS)' : ' (mutual TLS)';
  const parts = [`gRPC ${displayHost(config.grpcHost)}:${server.grpcPort}${tls}`, `${config.httpTlsCert === '' ? 'http' : 'https'}://${displayHost(config.httpHost)}:${server.httpPort}/${config.demo ? ' (demo)' : ''}`];
  if (server.metricsPort !== undefined) parts.push(`probes http://${displayHost(config.metricsHost)}:${server.metricsPort}/readyz`);
  return `channeld ready — ${parts.join(' · ')}\n`;
}

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
  if (loaded.version) {
    process.stdout.write(`channeld ${VERSION}\n`);
    return;
  }
  const unsupported = unsupportedNode();
  if (unsupported !== undefined) {
    process.stderr.write(`channeld: ${unsupported}\n`);
    process.exit(1);
  }
  // Loaded only now: the server pulls in the native uWebSockets.js binding, which on an
  // unsupported Node would fail with a far less helpful message than the check above.
  const { startServer } = await import('./server.js');
  const logger = createLogger(loaded.config.logLevel);
  let server: RunningServer | undefined;
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
  // Before the start, so a signal at any moment gets a graceful stop, never the default kill.
  let signalled = false;
  const onSignal = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'signal received');
    if (server !== undefined) stop();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  server = await startServer({ ...loaded.config, logger });
  if (signalled) {
    stop();
    return;
  }
  logger.info({ grpcPort: server.grpcPort, httpPort: server.httpPort, metricsPort: server.metricsPort, demo: server.config.demo, version: VERSION }, 'channeld ready');
  process.stderr.write(readyLine(server, server.config));
}

main().catch((err: unknown) => {
  process.stderr.write(`channeld: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
