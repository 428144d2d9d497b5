import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { service as healthService } from 'grpc-health-check';
import { startServer, type RunningServer } from '../src/server.js';
import { getWithHeaders, rawRequest } from './helpers/raw-http.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { silentLogger } from './helpers/server.js';

const base = { grpcHost: '127.0.0.1', grpcPort: 0, httpHost: '127.0.0.1', httpPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, logger: silentLogger };

async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function curl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile('curl', ['-sS', '--max-time', '5', ...args], (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    ),
  );
}

function healthCheck(server: RunningServer, service = ''): Promise<string> {
  const client = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const check = healthService['Check']!;
  return new Promise<string>((resolve, reject) =>
    client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service }, (err, res) =>
      err ? reject(err) : resolve((res as { status: string }).status),
    ),
  ).finally(() => client.close());
}

test('probes - the metrics port answers HTTP/1.0, HEAD and curl --http1.0 at once', async (t) => {
  const server = await startServer(base);
  t.teardown(() => server.close());
  const port = server.metricsPort!;
  const http10 = await rawRequest(port, 'GET /healthz HTTP/1.0\r\n\r\n');
  t.is(http10.status, 200, http10.text);
  t.is(http10.body, 'ok\n');
  const ready10 = await rawRequest(port, 'GET /readyz HTTP/1.0\r\nHost: lb\r\n\r\n');
  t.is(ready10.status, 200);
  t.is(ready10.body, 'ready\n');

  const head = await rawRequest(port, 'HEAD /healthz HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n');
  t.is(head.status, 200);
  t.is(head.headers['content-length'], '3');
  t.is(head.body, '', 'HEAD gets no body');

  const viaCurl = await curl(['--http1.0', `http://127.0.0.1:${port}/healthz`]);
  t.is(viaCurl.code, 0, viaCurl.stderr);
  t.is(viaCurl.stdout, 'ok\n');
  const headCurl = await curl(['--http1.0', '-I', `http://127.0.0.1:${port}/readyz`]);
  t.regex(headCurl.stdout, /^HTTP\/1\.[01] 200 OK/);

  t.is((await get(port, '/nope')).status, 404);
  const post = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
});

test('probes - more than 48 headers get 431 at once; 48 are answered', async (t) => {
  const server = await startServer(base);
  t.teardown(() => server.close());
  const port = server.metricsPort!;
  const fine = await rawRequest(port, getWithHeaders('/healthz', 48));
  t.is(fine.status, 200, fine.text);
  for (const version of ['1.1', '1.0']) {
    const tooMany = await rawRequest(port, getWithHeaders('/healthz', 49, version));
    t.is(tooMany.status, 431, tooMany.text);
    t.true(tooMany.firstByteMs < 2000, `answered after ${tooMany.firstByteMs} ms`);
    const hundred = await rawRequest(port, getWithHeaders('/readyz', 100, version));
    t.is(hundred.status, 431);
  }
});

test('probes - /readyz is 503 while start-up has not finished', async (t) => {
  // A "Redis" that takes connections and never answers: the engine's start hangs.
  const sockets = new Set<Socket>();
  const silent: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const redisPort = (silent.address() as { port: number }).port;
  const metricsPort = await freePort();
  const starting = startServer({ ...base, metricsPort, engine: 'redis', redisUrl: `redis://127.0.0.1:${redisPort}`, tokenSecrets: ['0123456789abcdef0123'] });
  const outcome = starting.then(
    (server) => server.close().then(() => 'started'),
    (err: Error) => err.message,
  );
  let answer = { status: 0, body: '' };
  await until('/readyz to answer', async () => {
    answer = await get(metricsPort, '/readyz').catch(() => ({ status: 0, body: '' }));
    return answer.status !== 0;
  });
  t.is(answer.status, 503);
  t.is(answer.body, 'not ready: starting\n');
  t.is((await get(metricsPort, '/healthz')).status, 200, 'alive while starting');
  // Let the start fail: the listener it opened must be gone afterwards.
  silent.close();
  for (const s of sockets) s.destroy();
  t.regex(await outcome, /redis|connect|closed/i);
  await t.throwsAsync(get(metricsPort, '/healthz'));
});

test('probes - draining: /readyz is 503 and gRPC health NOT_SERVING while shutdown waits for calls', async (t) => {
  const server = await startServer({ ...base, shutdownGraceMs: 20_000 });
  t.is(await healthCheck(server), 'SERVING');
  t.is(await healthCheck(server, 'channel.v1.ChannelService'), 'SERVING');
  // A health Watch is an in-flight call: shutdown waits for it, and it hears the change.
  const client = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const watchDef = healthService['Watch']!;
  const watch = client.makeServerStreamRequest(watchDef.path, watchDef.requestSerialize, watchDef.responseDeserialize, { service: '' });
  const seen: string[] = [];
  watch.on('data', (r: { status: string }) => seen.push(r.status));
  watch.on('error', () => undefined);
  await until('the watch to say SERVING', async () => seen.includes('SERVING'));

  const closing = server.close();
  await until('the watch to say NOT_SERVING', async () => seen.includes('NOT_SERVING'));
  const ready = await get(server.metricsPort!, '/readyz');
  t.is(ready.status, 503);
  t.is(ready.body, 'not ready: draining\n');
  t.is((await get(server.metricsPort!, '/healthz')).status, 200);
  watch.cancel();
  client.close();
  await closing;
});

const redis = redisAvailability();
if (!redis.run && redis.fail) {
  test('probes - redis-server is installed (CI=true)', (t) => t.fail(redis.why));
} else if (!redis.run) {
  console.warn(`\n!!! SKIPPING probe tests with Redis: ${redis.why} !!!\n`);
}
const redisTest = redis.run ? test : test.skip;

redisTest('probes - /readyz, gRPC health and channeld_engine_up follow Redis going away and coming back', async (t) => {
  const store = await TestRedis.start();
  t.teardown(() => store.dispose());
  const server = await startServer({ ...base, engine: 'redis', redisUrl: store.url, tokenSecrets: ['0123456789abcdef0123'] });
  t.teardown(() => server.close());
  const port = server.metricsPort!;
  const engineUp = async (): Promise<string | undefined> =>
    /^channeld_engine_up\{engine="redis"\} (\d)$/m.exec((await get(port, '/metrics')).body)?.[1];
  t.is((await get(port, '/readyz')).status, 200);
  t.is(await engineUp(), '1');

  await store.stop();
  await until('/readyz to say 503', async () => (await get(port, '/readyz')).status === 503);
  t.is((await get(port, '/readyz')).body, 'not ready: engine unreachable\n');
  t.is(await engineUp(), '0');
  await until('gRPC health to say NOT_SERVING', async () => (await healthCheck(server)) === 'NOT_SERVING');

  await store.launch();
  await until('/readyz to say 200 again', async () => (await get(port, '/readyz')).status === 200, 30_000);
  t.is(await engineUp(), '1');
  await until('gRPC health to say SERVING', async () => (await healthCheck(server)) === 'SERVING');
});
