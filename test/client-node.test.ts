import anyTest, { type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { CLIENT_BUILD_DIR } from '../src/paths.js';
import { startTcpProxy, type TcpProxy } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Signal } from './helpers/wait.js';

// The ES module as shipped (dist/client/channeld.mjs), run under Node with the `ws` package as its
// WebSocket, as a Node backend or a test harness would use it. The client's sources are typed
// against the DOM, so this file sees the module only through the little it uses.

interface ChannelEvent {
  readonly type: string;
  readonly data?: string;
  readonly resumed?: boolean;
  readonly delayMs?: number;
  readonly at: number;
}
interface NodeChannelSocket {
  on(type: string, listener: (event: object) => void): () => void;
  close(): void;
}
type ChannelSocketConstructor = new (token: string, options: object) => NodeChannelSocket;

const test = anyTest as TestFn<{ ts: TestServer; proxy: TcpProxy; ChannelSocket: ChannelSocketConstructor }>;

test.before(async (t) => {
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const module = (await import(pathToFileURL(join(CLIENT_BUILD_DIR, 'channeld.mjs')).href)) as { ChannelSocket: ChannelSocketConstructor };
  const ts = await startTestServer();
  const proxy = await startTcpProxy(ts.server.httpPort);
  t.context = { ts, proxy, ChannelSocket: module.ChannelSocket };
});

test.after.always(async (t) => {
  await t.context?.proxy?.close();
  await t.context?.ts?.close();
});

/** Opens a socket through the proxy and records its events. */
function open(t: { context: { proxy: TcpProxy; ChannelSocket: ChannelSocketConstructor }; teardown(fn: () => void): void }, token: string) {
  const events: ChannelEvent[] = [];
  const signal = new Signal();
  const socket = new t.context.ChannelSocket(token, { baseUrl: `http://127.0.0.1:${t.context.proxy.port}`, webSocket: WebSocket });
  for (const type of ['open', 'message', 'notrecovered', 'reconnecting', 'error', 'close']) {
    socket.on(type, (event) => {
      events.push({ type, at: Date.now(), ...event });
      signal.notify();
    });
  }
  t.teardown(() => socket.close());
  const count = (type: string) => events.filter((e) => e.type === type).length;
  const until = (type: string, n = 1) => signal.until(() => count(type) >= n, `${n} × ${type}`, () => JSON.stringify(events.map((e) => e.type)));
  return { events, until };
}

test.serial('client node - under Node with ws, failed reconnects are retried (not an uncaught error) and the socket resumes', async (t) => {
  const { ts, proxy } = t.context;
  const { token } = await ts.createChannel('node-refused');
  const { events, until } = open(t, token);
  await until('open');
  await ts.send('node-refused', 'before');
  await until('message');
  proxy.refuse(true);
  t.teardown(() => proxy.refuse(false));
  proxy.dropAll();
  // Each of these is a connection refused: with `ws`, an error event before the close.
  await until('reconnecting', 4);
  await ts.send('node-refused', 'while away');
  const back = Date.now();
  proxy.refuse(false);
  await until('message', 2);
  const reopened = events.filter((e) => e.type === 'open').at(-1)!;
  t.like(reopened, { resumed: true });
  t.deepEqual(
    events.filter((e) => e.type === 'message').map((e) => e.data),
    ['before', 'while away'],
  );
  t.false(events.some((e) => e.type === 'error' || e.type === 'close'));
  t.true(
    events.filter((e) => e.type === 'reconnecting').every((e) => e.delayMs! < 1000),
    'every wait under the 1 s cap',
  );
  t.true(reopened.at - back < 3000, `back ${reopened.at - back} ms after the network`);
});
