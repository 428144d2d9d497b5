import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { MAX_PROBE_HEADERS, type OpsAnswers } from './probes.js';

export interface OpsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The --metrics-port listener: /metrics, /healthz and /readyz on Node's own HTTP server, which
 * speaks what every load balancer and scraper sends (HTTP/1.0 and 1.1, HEAD). Kept off the
 * WebSocket port's hot path, and started before everything else so /readyz says 503 during start-up.
 */
export async function startOpsListener(host: string, port: number, answers: OpsAnswers, logger: Logger): Promise<OpsListener> {
  const log = logger.child({ mod: 'ops' });
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const reply = (status: number, contentType: string, body: string, close = false): void => {
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}) });
      // Node sends no body for HEAD on its own.
      res.end(body);
    };
    if (req.rawHeaders.length / 2 > MAX_PROBE_HEADERS) {
      reply(431, 'text/plain; charset=utf-8', `more than ${MAX_PROBE_HEADERS} headers\n`, true);
      return;
    }
    if (!answers.serves(path)) return reply(404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return reply(405, 'text/plain; charset=utf-8', 'use GET or HEAD\n');
    }
    Promise.resolve(answers.answer(path)).then(
      (a) => reply(a.status, a.contentType, a.body),
      (err: unknown) => {
        log.error({ err }, 'ops answer failed');
        reply(500, 'text/plain; charset=utf-8', 'internal error\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen for metrics and probes on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
    );
    server.listen({ host, port, exclusive: true }, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ host, port: bound }, 'metrics and probes listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
