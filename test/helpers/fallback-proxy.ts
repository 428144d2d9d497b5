import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy in front of channeld that behaves like the corporate middleboxes the fallback
 * transport is for: it refuses every WebSocket upgrade (403), and, when asked, holds each response
 * until it has ended (as a buffering proxy does, which starves an event stream).
 */
export interface FallbackProxy {
  readonly port: number;
  readonly upgradesRefused: number;
  /** Requests forwarded, by path. */
  readonly requests: ReadonlyMap<string, number>;
  /** Every URL asked for, upgrades included, as an access log would keep them. */
  readonly urls: readonly string[];
  /** Hold every response until it is complete, from now on. */
  buffer(on: boolean): void;
  /** Leave upgrades unanswered instead of refusing them (a middlebox that drops them). */
  stallUpgrades(on: boolean): void;
  /** Cuts every open connection abruptly, like a network loss. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFallbackProxy(targetPort: number): Promise<FallbackProxy> {
  const sockets = new Set<Socket>();
  const requests = new Map<string, number>();
  const urls: string[] = [];
  let upgradesRefused = 0;
  let buffering = false;
  let stalling = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    urls.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const buffered = buffering;
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` } },
      (up) => {
        // The server cut the response short: the client's is cut too, as a real proxy would.
        up.on('close', () => {
          if (!up.complete) res.destroy();
        });
        if (!buffered) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (chunk: Buffer) => chunks.push(chunk));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          const headers = { ...up.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    urls.push(req.url ?? '');
    upgradesRefused++;
    if (stalling) return;
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 24\r\nconnection: close\r\n\r\nno WebSockets through me');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get upgradesRefused() {
      return upgradesRefused;
    },
    requests,
    urls,
    buffer(on) {
      buffering = on;
    },
    stallUpgrades(on) {
      stalling = on;
    },
    dropAll() {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
