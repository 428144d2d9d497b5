import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';
import { Signal } from './helpers/wait.js';

const availability = redisAvailability();

/** An application's presence endpoint: records who each POST is from, per path. */
async function receiver(): Promise<{ server: Server; url: string; hits: { path: string; from: string }[]; signal: Signal }> {
  const hits: { path: string; from: string }[] = [];
  const signal = new Signal();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void new Response(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type'] ?? '' } })
        .formData()
        .then((form) => {
          hits.push({ path: new URL(req.url ?? '/', 'http://x').pathname, from: String(form.get('from')) });
          res.writeHead(200).end('ok');
          signal.notify();
        });
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  return { server, url: `http://127.0.0.1:${port}`, hits, signal };
}

const engines = availability.run ? (['memory', 'redis'] as const) : (['memory'] as const);
if (!availability.run) {
  if (availability.fail) test('shutdown - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
  else console.warn(`SKIPPING the Redis shutdown tests: ${availability.why}`);
}

for (const engine of engines) {
  test(`shutdown (${engine}) - every drained socket's DISCONNECTED reaches the presence webhook before the process is done`, async (t) => {
    const redis = engine === 'redis' ? await TestRedis.start() : undefined;
    const hook = await receiver();
    const runs = 5;
    const clients = 40;
    try {
      for (let run = 0; run < runs; run++) {
        const ts: TestServer = await startTestServer({
          ...(redis === undefined ? {} : { engine: 'redis', redisUrl: redis.url, redisPrefix: `shutdown${run}`, tokenSecrets: ['0123456789abcdef0123456789abcdef'] }),
          presenceWebhook: hook.url,
        });
        const ids = Array.from({ length: clients }, (_, i) => `run${run}-c${i}`);
        const sockets = await Promise.all(ids.map((id) => connect(ts, id).then((c) => c.socket)));
        await hook.signal.until(
          () => ids.every((id) => hook.hits.some((h) => h.from === id && h.path.endsWith('/connected/'))),
          'every CONNECTED notice',
        );
        await ts.close();
        const gone = ids.filter((id) => !hook.hits.some((h) => h.from === id && h.path.endsWith('/disconnected/')));
        t.deepEqual(gone, [], `run ${run}: DISCONNECTED notices missing after shutdown`);
        t.true(sockets.every((s) => s.closeCode === 1001 || s.closeCode === undefined));
        await Promise.all(sockets.map((s) => s.closed));
        t.true(sockets.every((s) => s.closeCode === 1001), 'drained sockets are told to come back (1001)');
      }
    } finally {
      hook.server.close();
      await redis?.dispose();
    }
  });

  test(`shutdown (${engine}) - a socket that opens while the node drains is closed with 1001, not left open`, async (t) => {
    const redis = engine === 'redis' ? await TestRedis.start() : undefined;
    try {
      const ts = await startTestServer(
        redis === undefined ? {} : { engine: 'redis', redisUrl: redis.url, tokenSecrets: ['0123456789abcdef0123456789abcdef'] },
      );
      const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => ts.createChannel(`late-${i}`)));
      // Opened as the shutdown starts: some upgrade before the listener closes, some during the drain.
      const sockets = tokens.map(({ token }) => new RawSocket(ts.wsUrl, token));
      const closing = ts.close();
      const outcomes = await Promise.all(
        sockets.map((s) => s.opened.then(() => s.closed.then((c) => c.code), () => 'refused' as const)),
      );
      await closing;
      t.true(
        outcomes.every((o) => o === 'refused' || o === 1001 || o === 1006),
        `every socket is refused or closed to come back: ${JSON.stringify(outcomes)}`,
      );
    } finally {
      await redis?.dispose();
    }
  });
}
