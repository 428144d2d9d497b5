import test from 'ava';
import { apiCall, HttpPresenceStream } from './helpers/http-api.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

const KEY = 'http-api-redis-key-0123456789';
const availability = redisAvailability();
let redis: TestRedis | undefined;
let nodes: TestServer[] = [];

if (!availability.run && availability.fail) {
  test('http api redis - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING HTTP API tests on the Redis engine: ${availability.why} !!!\n`);
} else {
  test.before(async () => {
    redis = await TestRedis.start();
    const options = { engine: 'redis' as const, redisUrl: redis.url, redisPrefix: 'httpapi', tokenSecrets: ['http-api-redis-secret-0123456789'], apiKeys: [KEY] };
    nodes = [await startTestServer(options), await startTestServer(options)];
  });
  test.after.always(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await redis?.dispose();
  });

  const call = (node: TestServer, method: string, body: unknown) => apiCall(node.httpUrl, method, body, { key: KEY });

  test('http api redis - a token minted over HTTP on one node opens a socket on the other; sends over HTTP reach it in order', async (t) => {
    const [a, b] = nodes as [TestServer, TestServer];
    const created = await call(a, 'CreateChannel', { clientId: 'r-alice' });
    t.is(created.status, 200);
    const { socket } = await connect(b, 'r-alice');
    t.teardown(() => socket.close());
    const one = await call(a, 'SendMessage', { clientId: 'r-alice', message: 'one' });
    t.is(one.json?.['connected'], true, 'the socket on the other node counts');
    const batch = await call(a, 'SendMessages', { requests: [{ clientId: 'r-alice', message: 'two' }, { clientId: 'r-alice', message: 'three' }] });
    const results = batch.json?.['results'] as Record<string, Record<string, unknown>>[];
    t.deepEqual(results.map((r) => r['sent']?.['seq']), ['2', '3']);
    await socket.untilMessages(3);
    t.deepEqual(socket.messages.map((m) => m.data), ['one', 'two', 'three']);
  });

  test('http api redis - an idempotency key retried on another node returns the first result and sends nothing more', async (t) => {
    const [a, b] = nodes as [TestServer, TestServer];
    const first = await call(a, 'SendMessage', { clientId: 'r-idem', message: 'once', idempotencyKey: 'k-1' });
    const retry = await call(b, 'SendMessage', { client_id: 'r-idem', message: 'once', idempotency_key: 'k-1' });
    t.deepEqual(retry.json, first.json);
    const next = await call(b, 'SendMessage', { clientId: 'r-idem', message: 'next' });
    t.is(next.json?.['seq'], '2');
  });

  test('http api redis - GetPresence and CloseChannel over HTTP see and close a socket held by the other node', async (t) => {
    const [a, b] = nodes as [TestServer, TestServer];
    const { socket } = await connect(b, 'r-close');
    const presence = await call(a, 'GetPresence', { clientIds: ['r-close'] });
    t.is((presence.json?.['clients'] as Record<string, unknown>[])[0]?.['connected'], true);
    const closed = await call(a, 'CloseChannel', { clientId: 'r-close' });
    t.deepEqual(closed.json, { wasConnected: true });
    await socket.closed;
    const after = await call(a, 'SendMessage', { clientId: 'r-close', message: 'x' });
    t.is(after.status, 200, 'CloseChannel revokes tokens; sending by client id still works');
  });

  test('http api redis - WatchPresence over SSE resumes with a Redis cursor, from either node', async (t) => {
    const [a, b] = nodes as [TestServer, TestServer];
    const first = new HttpPresenceStream(a.httpUrl, { clientIdPrefix: 'rw-' }, { key: KEY, sse: true });
    await first.until(() => first.items.length > 0, 'the stream to start');
    const x = await connect(b, 'rw-x');
    await first.until(() => first.events.length === 1, 'rw-x CONNECTED');
    const cursor = String(first.items.find((i) => i['event'] === 'presence')?.['id']);
    t.regex(cursor, /\d+-\d+/, 'a Redis stream id');
    first.close();
    x.socket.close();
    const y = await connect(a, 'rw-y');
    t.teardown(() => y.socket.close());
    const resumed = new HttpPresenceStream(b.httpUrl, { clientIdPrefix: 'rw-' }, { key: KEY, sse: true, headers: { 'last-event-id': cursor } });
    t.teardown(() => resumed.close());
    await resumed.until(() => resumed.events.length === 2, 'the two missed events');
    t.deepEqual(resumed.events.map((e) => [e['clientId'], e['state']]), [
      ['rw-x', 'PRESENCE_STATE_DISCONNECTED'],
      ['rw-y', 'PRESENCE_STATE_CONNECTED'],
    ]);
  });

  test('http api redis - Subscribe and Broadcast over HTTP reach a member on the other node', async (t) => {
    const [a, b] = nodes as [TestServer, TestServer];
    const { socket } = await connect(b, 'r-member');
    t.teardown(() => socket.close());
    t.deepEqual((await call(a, 'Subscribe', { clientIds: ['r-member'], topic: 'r-room' })).json, { added: 1 });
    await socket.until(() => socket.topicWelcome('r-room') !== undefined, 'the topic welcome');
    const sent = await call(a, 'Broadcast', { message: 'hello room', topics: ['r-room'] });
    t.is((sent.json?.['topics'] as Record<string, unknown>[])[0]?.['members'], 1);
    await socket.until(() => socket.topicMessages('r-room').length === 1, 'the topic message');
    t.is(socket.topicMessages('r-room')[0]?.data, 'hello room');
  });

  test('http api redis - 60 concurrent sends to one client id over HTTP through both nodes get distinct seqs and arrive in seq order', async (t) => {
    const [a, b] = nodes as [TestServer, TestServer];
    const { socket } = await connect(b, 'r-race');
    t.teardown(() => socket.close());
    const sends = Array.from({ length: 60 }, (_, i) => call(i % 2 === 0 ? a : b, 'SendMessage', { clientId: 'r-race', message: `m${i}` }));
    const answers = await Promise.all(sends);
    t.true(answers.every((r) => r.status === 200));
    const seqs = answers.map((r) => Number(r.json?.['seq'])).sort((x, y) => x - y);
    t.deepEqual(seqs, Array.from({ length: 60 }, (_, i) => i + 1));
    await socket.untilMessages(60);
    t.deepEqual(socket.messages.map((m) => m.seq), seqs, 'delivered once each, in seq order');
    const bySeq = new Map(answers.map((r, i) => [Number(r.json?.['seq']), `m${i}`]));
    t.true(socket.messages.every((m) => bySeq.get(m.seq) === m.data), 'each seq carries the message its send was told');
  });
}
