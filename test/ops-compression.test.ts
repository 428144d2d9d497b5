import { connect as tcpConnect, createServer, type Server } from 'node:net';
import test from 'ava';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';

/** A TCP forwarder that counts the bytes coming back from the server: what crossed the wire. */
async function countingProxy(targetPort: number): Promise<{ port: number; down: () => number; close(): Promise<void> }> {
  let down = 0;
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    upstream.on('data', (chunk: Buffer) => (down += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    down: () => down,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Wire {
  readonly ws: WebSocket;
  readonly frames: unknown[][];
  readonly down: () => number;
  until(predicate: () => boolean): Promise<void>;
}

/** A socket through the counting proxy, offering permessage-deflate as browsers do. */
async function open(ts: TestServer, clientId: string): Promise<Wire & { close(): Promise<void> }> {
  const proxy = await countingProxy(ts.server.httpPort);
  const { token } = await ts.createChannel(clientId);
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/_ah/channel/ws`, ['channeld.v1', `token.${token}`], { perMessageDeflate: true });
  const frames: unknown[][] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as unknown[]);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (predicate: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  await until(() => frames.some((f) => f[0] === 0));
  return {
    ws,
    frames,
    down: proxy.down,
    until,
    async close() {
      ws.close();
      await proxy.close();
    },
  };
}

/** 10 kB of JSON-ish text that repeats, as application messages often do. */
const REPETITIVE = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i % 7, state: 'online', note: 'same again' }))).slice(0, 10_000);

async function channelBytes(ts: TestServer, wire: Wire, clientId: string): Promise<number> {
  const before = wire.down();
  const count = wire.frames.filter((f) => f[0] === 1).length;
  await ts.send(clientId, REPETITIVE);
  await wire.until(() => wire.frames.filter((f) => f[0] === 1).length === count + 1);
  const last = wire.frames.filter((f) => f[0] === 1).at(-1)!;
  if (last[2] !== REPETITIVE) throw new Error('the message arrived changed');
  return wire.down() - before;
}

async function topicBytes(ts: TestServer, wire: Wire, clientId: string, topic: string): Promise<number> {
  await ts.rpc.subscribe({ clientIds: [clientId], topic });
  await wire.until(() => wire.frames.some((f) => f[0] === 4 && f[1] === topic));
  const before = wire.down();
  await ts.rpc.broadcast({ message: REPETITIVE, clientIds: [], topics: [topic] });
  await wire.until(() => wire.frames.some((f) => f[0] === 2 && f[1] === topic));
  const frame = wire.frames.find((f) => f[0] === 2 && f[1] === topic)!;
  if (frame[3] !== REPETITIVE) throw new Error('the topic message arrived changed');
  return wire.down() - before;
}

for (const mode of ['shared', 'dedicated'] as const) {
  test(`compression ${mode} - permessage-deflate is negotiated; a 10 kB repetitive message crosses the wire in well under 2 kB, channel and topic`, async (t) => {
    const ts = await startTestServer({ compression: mode });
    t.teardown(() => ts.close());
    const wire = await open(ts, `z-${mode}`);
    t.teardown(() => wire.close());
    t.regex(wire.ws.extensions, /permessage-deflate/);
    const channel = await channelBytes(ts, wire, `z-${mode}`);
    t.true(channel < 2000, `channel frame: ${channel} bytes on the wire`);
    const topic = await topicBytes(ts, wire, `z-${mode}`, `z-room-${mode}`);
    t.true(topic < 2000, `topic frame: ${topic} bytes on the wire`);
  });
}

test('compression off (the default) - not negotiated; the same message crosses the wire whole', async (t) => {
  const ts = await startTestServer();
  t.teardown(() => ts.close());
  const wire = await open(ts, 'z-off');
  t.teardown(() => wire.close());
  t.is(wire.ws.extensions, '');
  t.true((await channelBytes(ts, wire, 'z-off')) > 10_000);
  t.true((await topicBytes(ts, wire, 'z-off', 'z-room-off')) > 10_000);
});
