import { lookup } from 'node:dns/promises';
import { createServer, isIP, type Server as NetServer, type Socket } from 'node:net';
import type { Server, ServerCredentials, ServerInterceptingCallInterface } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { GrpcCounters } from '../metrics/counters.js';

/**
 * Node's HTTP/2 (nghttp2) guards against the "rapid reset" attack with a token bucket per
 * connection: 1000 stream resets from the client at once, then 33 a second; past that it ends the
 * connection with GOAWAY(INTERNAL_ERROR), and every call still on it fails with INTERNAL. Node 20
 * cannot change those numbers (Node 22 added the http2 options streamResetBurst/streamResetRate,
 * which grpc-js does not pass on), and a backend that cancels streams in a loop (WatchPresence
 * open, cancel, open again) drains the bucket honestly.
 *
 * So channeld keeps its own copy of each connection's bucket, fed by the cancellations it sees,
 * and moves a connection that has spent RECYCLE_AT of it to a new one before nghttp2 would end it:
 * a graceful GOAWAY (no new calls there; the calls on it finish), after which nghttp2 stops
 * counting, and the client opens a new connection, with a full bucket, for its next calls.
 */
export const RESET_BURST = 1000;
export const RESET_RATE_PER_SECOND = 33;
/** Tokens left when a connection is moved on: headroom for resets our count has not seen yet. */
export const RECYCLE_AT = 400;
/** How long calls in flight may stay on a connection that was moved on (a WatchPresence may be long). */
const RECYCLE_GRACE_MS = 30 * 60_000;

interface Connection {
  readonly injector: ReturnType<Server['createConnectionInjector']>;
  tokens: number;
  lastMs: number;
  recycled: boolean;
}

function listenOn(listener: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host, port }, () => {
      listener.off('error', reject);
      const address = listener.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function key(address: string | undefined, port: number | undefined): string {
  return `${address ?? '?'}|${port ?? 0}`;
}

export interface ConnectionGuard {
  /** Counts a cancelled call against its connection (the interceptor calls it). */
  cancelled(call: ServerInterceptingCallInterface): void;
  /** Connections moved on so far. */
  readonly recycled: number;
  /** Listens on host:port and hands each connection to `server`; resolves with the port bound. */
  listen(server: Server, credentials: ServerCredentials, host: string, port: number): Promise<number>;
  /** Stops accepting connections (grpc-js shuts down those it holds). */
  close(): void;
}

/**
 * Listens for gRPC itself and hands each connection to grpc-js through a connection injector of
 * its own, so that one connection can be drained without touching the others.
 */
export function connectionGuard(logger: Logger, counters: GrpcCounters): ConnectionGuard {
  const log = logger.child({ mod: 'grpc' });
  const connections = new Map<string, Connection>();
  let recycled = 0;
  const listeners: NetServer[] = [];

  const cancelled = (remoteAddress: string | undefined, remotePort: number | undefined): void => {
    const connection = connections.get(key(remoteAddress, remotePort));
    if (connection === undefined || connection.recycled) return;
    const now = performance.now();
    connection.tokens = Math.min(RESET_BURST, connection.tokens + ((now - connection.lastMs) / 1000) * RESET_RATE_PER_SECOND) - 1;
    connection.lastMs = now;
    if (connection.tokens > RECYCLE_AT) return;
    connection.recycled = true;
    recycled++;
    counters.connectionsRecycled++;
    log.info({ remoteAddress, remotePort }, 'a backend connection cancels calls faster than HTTP/2 allows; moving it to a new connection');
    connection.injector.drain(RECYCLE_GRACE_MS);
  };

  return {
    cancelled(call) {
      const info = call.getConnectionInfo();
      cancelled(info.remoteAddress, info.remotePort);
    },
    get recycled() {
      return recycled;
    },
    async listen(server, credentials, host, port) {
      const onConnection = (socket: Socket): void => {
        const id = key(socket.remoteAddress, socket.remotePort);
        const injector = server.createConnectionInjector(credentials);
        connections.set(id, { injector, tokens: RESET_BURST, lastMs: performance.now(), recycled: false });
        socket.once('close', () => {
          connections.delete(id);
          injector.destroy();
        });
        injector.injectConnection(socket);
      };
      // As grpc-js's own bind does: a name (localhost) is every address it resolves to, one port.
      const addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
      let bound = port;
      for (const [i, address] of addresses.entries()) {
        const accepting = createServer(onConnection);
        try {
          bound = await listenOn(accepting, address, bound);
          listeners.push(accepting);
        } catch (err) {
          // A second address of a name (::1 on a host without IPv6) may be missing; the first may not.
          if (i === 0 || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
            for (const l of listeners) l.close();
            throw new Error(`cannot listen for gRPC on ${host}:${port}: ${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message}`);
          }
        }
      }
      for (const l of listeners) l.on('error', (err) => log.error({ err }, 'gRPC listener error'));
      return bound;
    },
    close() {
      for (const l of listeners) l.close();
    },
  };
}
