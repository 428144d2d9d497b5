import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLIENT_BUILD_DIR } from '../../src/paths.js';

/** One browser socket as the fake gateway saw it. */
export interface FakeConnection {
  readonly ws: WebSocket;
  readonly url: string;
  readonly protocols: string[];
  /** Frames the browser sent, parsed. */
  readonly received: unknown[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(frame: readonly unknown[] | string): void;
  /** Resolves once `predicate` holds for the frames the browser has sent. */
  until(predicate: (received: readonly unknown[]) => boolean): Promise<void>;
}

export interface FakeGateway {
  readonly httpUrl: string;
  /** The next socket a browser opens (already open when it resolves). */
  nextConnection(): Promise<FakeConnection>;
  /** When false, the upgrade selects no subprotocol at all (a broken or foreign server). */
  selectProtocol: boolean;
  close(): Promise<void>;
}

/**
 * A scripted stand-in for the channeld gateway: serves the built jsapi bundle and lets a test play
 * the server side of docs/protocol.md frame by frame, including things the real server never does.
 */
export async function startFakeGateway(): Promise<FakeGateway> {
  const jsapi = readFileSync(join(CLIENT_BUILD_DIR, 'jsapi.js'));
  const http = createServer((req, res) => {
    if (req.url?.startsWith('/_ah/channel/jsapi')) {
      res.writeHead(200, { 'content-type': 'application/javascript' }).end(jsapi);
    } else {
      res.writeHead(404).end();
    }
  });
  const state = { selectProtocol: true };
  const wss = new WebSocketServer({
    server: http,
    path: '/_ah/channel/ws',
    handleProtocols: (offered) => (state.selectProtocol && offered.has('channeld.v1') ? 'channeld.v1' : false),
  });
  const ready: FakeConnection[] = [];
  const waiting: ((c: FakeConnection) => void)[] = [];
  wss.on('connection', (ws, req) => {
    const received: unknown[] = [];
    const wakers: (() => void)[] = [];
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)));
      for (const wake of wakers.splice(0)) wake();
    });
    const connection: FakeConnection = {
      ws,
      url: req.url ?? '',
      protocols: String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()),
      received,
      closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
      send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
      async until(predicate) {
        while (!predicate(received)) await new Promise<void>((resolve) => wakers.push(resolve));
      },
    };
    const waiter = waiting.shift();
    if (waiter) waiter(connection);
    else ready.push(connection);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    httpUrl: `http://127.0.0.1:${port}`,
    nextConnection: () => {
      const next = ready.shift();
      return next ? Promise.resolve(next) : new Promise((resolve) => waiting.push(resolve));
    },
    get selectProtocol() {
      return state.selectProtocol;
    },
    set selectProtocol(on: boolean) {
      state.selectProtocol = on;
    },
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
