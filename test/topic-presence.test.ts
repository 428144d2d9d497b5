import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import type { ChannelError } from '../src/core/errors.js';
import type { TopicPresenceItem, TopicPresenceSink } from '../src/core/topic-presence-bus.js';
import { rejectsExactly } from './helpers/grpc.js';
import { ManualClock } from './helpers/manual-clock.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { startRedisNode } from './helpers/redis-nodes.js';
import { RedisKeys } from '../src/engine/redis/keys.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { apiCall } from './helpers/http-api.js';
import { allMembers, briefTopic, TopicPresenceStream, topicRpcFor } from './helpers/topic-presence.js';

// GetTopicMembers, CountTopicMembers and WatchTopicPresence over real gRPC and real sockets, on
// the memory engine and on the Redis engine (two in-process nodes on one Redis).

const availability = redisAvailability();
let redis: TestRedis | undefined;
let memory: TestServer;
let nodes: [TestServer, TestServer] | undefined;

test.before(async () => {
  memory = await startTestServer();
  if (!availability.run) return;
  redis = await TestRedis.start();
  nodes = [await startRedisNode(redis, 'tpres'), await startRedisNode(redis, 'tpres')];
});
test.after.always(async () => {
  await Promise.all([memory?.close(), nodes?.[0].close(), nodes?.[1].close()]);
  await redis?.stop();
});

if (!availability.run && availability.fail) {
  test('topic presence redis - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING the Redis half of the topic presence tests: ${availability.why} !!!\n`);
}

let ids = 0;
const unique = (name: string): string => `${name}-${++ids}`;

/** Where to call and where to watch: one node on memory; two nodes on Redis (watch on A, act on B). */
interface Pair {
  readonly watchOn: TestServer;
  readonly actOn: TestServer;
}

type Body = (t: ExecutionContext, pair: Pair) => Promise<void>;

/** The test on the memory engine, and (when redis-server is here) across two Redis nodes. */
function both(title: string, body: Body): void {
  test(`topic presence memory - ${title}`, (t) => body(t, { watchOn: memory, actOn: memory }));
  if (availability.run) test(`topic presence redis - ${title}`, (t) => body(t, { watchOn: nodes![0], actOn: nodes![1] }));
}

async function liveWatch(server: TestServer, topic: string): Promise<TopicPresenceStream> {
  const stream = new TopicPresenceStream(server.client, { topic, snapshot: true }, server.metadata);
  await stream.untilSnapshotComplete();
  return stream;
}

both('GetTopicMembers pages members in client id order with connected and info; CountTopicMembers counts them', async (t, { watchOn, actOn }) => {
  const topic = unique('members');
  const ids = Array.from({ length: 230 }, (_, i) => `m${String(i).padStart(3, '0')}`);
  await actOn.rpc.subscribe({ clientIds: ids.slice(0, 100), topic, info: '{"role":"guest"}' });
  await actOn.rpc.subscribe({ clientIds: ids.slice(100), topic });
  const { socket } = await connect(actOn, 'm007');
  t.teardown(() => socket.close());
  const rpc = topicRpcFor(watchOn.client, watchOn.metadata);
  t.is((await rpc.countTopicMembers({ topic })).members, 230);
  const first = await rpc.getTopicMembers({ topic });
  t.is(first.members.length, 100, 'page_size 0 means 100');
  t.not(first.nextPageToken, '');
  t.deepEqual(first.members[7], { clientId: 'm007', connected: true, info: '{"role":"guest"}' });
  t.deepEqual(first.members[8], { clientId: 'm008', connected: false, info: '{"role":"guest"}' });
  const everyone = await allMembers(rpc, topic, 64);
  t.deepEqual(everyone.map((m) => m.clientId), ids);
  t.is(everyone[150]!.info, '');
  const max = await rpc.getTopicMembers({ topic, pageSize: 1000 });
  t.is(max.members.length, 230);
  t.is(max.nextPageToken, '', 'the last page has no token');
  t.deepEqual(await rpc.getTopicMembers({ topic: unique('empty') }), { members: [], nextPageToken: '' });
  t.is((await rpc.countTopicMembers({ topic: unique('empty') })).members, 0);
});

both('WatchTopicPresence: a snapshot, then joins, connects, disconnects and leaves once per real change', async (t, { watchOn, actOn }) => {
  const topic = unique('watch');
  const [a, b] = [unique('a'), unique('b')];
  await actOn.rpc.subscribe({ clientIds: [a], topic, info: 'alice' });
  const first = await connect(actOn, a);
  const watch = await liveWatch(watchOn, topic);
  t.teardown(() => watch.cancel());
  t.deepEqual(watch.events.map((e) => [e.clientId, e.info, e.connected]), [[a, 'alice', true]]);
  t.deepEqual(briefTopic(watch.events[0]!), [a, 'MEMBER_JOINED', 'SNAPSHOT']);

  await actOn.rpc.subscribe({ clientIds: [a, b], topic, info: 'alice' });
  const second = await connect(actOn, a); // displaces the first socket: no event
  await actOn.rpc.subscribe({ clientIds: [b], topic, info: 'bob' });
  const bob = await connect(actOn, b);
  bob.socket.close();
  await bob.socket.closed;
  await actOn.rpc.unsubscribe({ clientIds: [b], topic });
  await actOn.rpc.closeChannel({ clientId: a });
  const expected = [
    [b, 'MEMBER_JOINED', ''],
    [b, 'MEMBER_UPDATED', ''],
    [b, 'CONNECTED', 'SOCKET_OPENED'],
    [b, 'DISCONNECTED', 'SOCKET_CLOSED'],
    [b, 'MEMBER_LEFT', 'UNSUBSCRIBED'],
    [a, 'DISCONNECTED', 'CHANNEL_CLOSED'],
    [a, 'MEMBER_LEFT', 'CHANNEL_CLOSED'],
  ];
  await watch.untilLive(expected.length);
  t.deepEqual(watch.brief(), expected);
  t.is(watch.live[0]!.info, 'alice');
  t.is(watch.live[1]!.info, 'bob');
  t.is(watch.live[0]!.topic, topic);
  t.true(watch.live.every((e) => e.time !== undefined && e.time.getTime() > 0 && e.cursor !== ''));
  await Promise.all([first.socket.closed, second.socket.closed]);
  t.is((await topicRpcFor(watchOn.client, watchOn.metadata).countTopicMembers({ topic })).members, 0);
});

both('WatchTopicPresence resumes after a cursor with exactly the changes after it', async (t, { watchOn, actOn }) => {
  const topic = unique('resume');
  const watch = await liveWatch(watchOn, topic);
  for (const id of ['r1', 'r2', 'r3']) await actOn.rpc.subscribe({ clientIds: [id], topic });
  await watch.untilLive(3);
  watch.cancel();
  await actOn.rpc.unsubscribe({ clientIds: ['r2'], topic });
  const resumed = new TopicPresenceStream(watchOn.client, { topic, cursor: watch.live[1]!.cursor }, watchOn.metadata);
  t.teardown(() => resumed.cancel());
  await resumed.untilLive(2);
  t.deepEqual(resumed.brief(), [
    ['r3', 'MEMBER_JOINED', ''],
    ['r2', 'MEMBER_LEFT', 'UNSUBSCRIBED'],
  ]);
  t.is(resumed.snapshotComplete, undefined, 'a resume that is honoured sends no snapshot');
  await actOn.rpc.subscribe({ clientIds: ['r4'], topic });
  await resumed.untilLive(3);
  t.deepEqual(resumed.brief()[2], ['r4', 'MEMBER_JOINED', '']);

  const unknown = new TopicPresenceStream(watchOn.client, { topic, cursor: 'no-such-cursor' }, watchOn.metadata);
  t.teardown(() => unknown.cancel());
  await unknown.untilSnapshotComplete();
  t.true(unknown.snapshotComplete!.resumeFailed);
  t.deepEqual(unknown.events.map((e) => e.clientId).sort(), ['r1', 'r3', 'r4']);
  t.is(unknown.snapshotComplete!.cursor, resumed.live[2]!.cursor);
});

test('topic presence memory - a resume past the kept history gets a snapshot and resume_failed', async (t) => {
  const server = await startTestServer({ topicPresenceHistorySize: 8 });
  t.teardown(() => server.close());
  const topic = 'trimmed';
  const watch = await liveWatch(server, topic);
  await server.rpc.subscribe({ clientIds: ['first'], topic });
  await watch.untilLive(1);
  const cursor = watch.live[0]!.cursor;
  watch.cancel();
  for (let i = 0; i < 20; i++) {
    await server.rpc.subscribe({ clientIds: ['flap'], topic });
    await server.rpc.unsubscribe({ clientIds: ['flap'], topic });
  }
  const resumed = new TopicPresenceStream(server.client, { topic, cursor }, server.metadata);
  t.teardown(() => resumed.cancel());
  await resumed.untilSnapshotComplete();
  t.true(resumed.snapshotComplete!.resumeFailed);
  t.deepEqual(resumed.events.map(briefTopic), [['first', 'MEMBER_JOINED', 'SNAPSHOT']]);
});

if (availability.run) {
  test('topic presence redis - a resume past the trimmed stream gets a snapshot and resume_failed', async (t) => {
    const server = await startRedisNode(redis!, unique('trim'), { topicPresenceHistorySize: 5 });
    t.teardown(() => server.close());
    const topic = 'trimmed';
    const watch = await liveWatch(server, topic);
    await server.rpc.subscribe({ clientIds: ['first'], topic });
    await watch.untilLive(1);
    const cursor = watch.live[0]!.cursor;
    watch.cancel();
    // MAXLEN ~ trims whole stream nodes (100 entries each).
    for (let i = 0; i < 120; i++) {
      await server.rpc.subscribe({ clientIds: ['flap'], topic });
      await server.rpc.unsubscribe({ clientIds: ['flap'], topic });
    }
    const resumed = new TopicPresenceStream(server.client, { topic, cursor }, server.metadata);
    t.teardown(() => resumed.cancel());
    await resumed.untilSnapshotComplete();
    t.true(resumed.snapshotComplete!.resumeFailed);
    t.deepEqual(resumed.events.map(briefTopic), [['first', 'MEMBER_JOINED', 'SNAPSHOT']]);
  });
}

// ---- errors ------------------------------------------------------------------------------------

test('topic presence - bad requests are INVALID_ARGUMENT with the field and the limit', async (t) => {
  const rpc = topicRpcFor(memory.client, memory.metadata);
  const INVALID = grpc.status.INVALID_ARGUMENT;
  await rejectsExactly(t, rpc.getTopicMembers({ topic: '' }), INVALID, 'topic is empty; it must be 1 to 128 bytes');
  await rejectsExactly(t, rpc.countTopicMembers({ topic: 'no spaces' }), INVALID, 'topic "no spaces" may hold only letters, digits and . _ - : / @');
  await rejectsExactly(t, rpc.getTopicMembers({ topic: 'ok', pageSize: 1001 }), INVALID, 'page_size is 1001; it must be 1 to 1000 (or 0 for 100)');
  for (const pageToken of ['garbage!', 'bTE6', Buffer.from('m1:').toString('base64url'), 'x'.repeat(600)]) {
    await rejectsExactly(
      t,
      rpc.getTopicMembers({ topic: 'ok', pageToken }),
      INVALID,
      'page_token is not one GetTopicMembers gave (pass next_page_token back as it came)',
    );
  }
  await rejectsExactly(t, memory.rpc.subscribe({ clientIds: ['i'], topic: 'ok', info: 'é'.repeat(513) }), INVALID, 'info is 1026 bytes; the limit is 1024');
  t.is((await memory.rpc.subscribe({ clientIds: ['i'], topic: 'ok', info: 'x'.repeat(1024) })).added, 1, '1024 bytes is fine');
  t.is((await rpc.getTopicMembers({ topic: 'ok' })).members[0]!.info.length, 1024);

  const badTopic = new TopicPresenceStream(memory.client, { topic: 'bad topic' }, memory.metadata);
  await badTopic.untilEnded();
  t.is(badTopic.error?.code, INVALID);
  t.is(badTopic.error?.details, 'topic "bad topic" may hold only letters, digits and . _ - : / @');
  const badCursor = new TopicPresenceStream(memory.client, { topic: 'ok', cursor: 'c'.repeat(129) }, memory.metadata);
  await badCursor.untilEnded();
  t.is(badCursor.error?.details, 'cursor is 129 bytes; the limit is 128');
  // The service keeps serving.
  t.is((await rpc.countTopicMembers({ topic: 'ok' })).members, 1);
});

test('topic presence - a watcher that never drains is cut off (RESOURCE_EXHAUSTED); fan-out goes on', async (t) => {
  const server = await startTestServer({ presenceWatcherQueue: 5 });
  t.teardown(() => server.close());
  const topic = 'slow';
  const reader = await connect(server, 'reader');
  t.teardown(() => reader.socket.close());
  await server.rpc.subscribe({ clientIds: ['reader'], topic });
  const keepingUp = await liveWatch(server, topic);
  t.teardown(() => keepingUp.cancel());
  const written: TopicPresenceItem[] = [];
  let endWith: (error: ChannelError | undefined) => void = () => undefined;
  const ended = new Promise<ChannelError | undefined>((resolve) => (endWith = resolve));
  const sink: TopicPresenceSink = {
    write: (item) => {
      written.push(item);
      return false;
    },
    onDrain: () => undefined,
    end: (error) => endWith(error),
  };
  const watcher = await server.server.hub.api.watchTopicPresence({ topic, snapshot: false, cursor: '' }, sink);
  for (let i = 0; i < 7; i++) await server.rpc.subscribe({ clientIds: [`s${i}`], topic });
  const error = await ended;
  t.is(error?.code, 'resource-exhausted');
  const firstCursor = written[0]?.kind === 'change' ? written[0].change.cursor : 'none';
  t.is(error?.message, `topic presence watcher fell 5 events behind and was cut off; resume with cursor "${firstCursor}"`);
  t.true(watcher.isEnded);
  server.server.hub.api.unwatchTopicPresence(watcher);
  const sent = await server.rpc.broadcast({ message: 'still flowing', clientIds: [], topics: [topic] });
  t.is(sent.topics[0]!.members, 8);
  await reader.socket.until(() => reader.socket.frames.some((f) => JSON.stringify(f).includes('still flowing')), 'the topic message');
  await keepingUp.untilLive(7);
  t.false(keepingUp.ended, 'a watcher that keeps up is not affected');
});

test('topic presence - GetTopicMembers and CountTopicMembers over the HTTP API (JSON)', async (t) => {
  const topic = unique('http');
  await memory.rpc.subscribe({ clientIds: ['h2', 'h1', 'h3'], topic, info: 'x' });
  const page = await apiCall(memory.httpUrl, 'GetTopicMembers', { topic, pageSize: 2 });
  t.is(page.status, 200);
  const members = page.json?.['members'] as { clientId: string; info: string }[];
  t.deepEqual(members.map((m) => [m.clientId, m.info]), [['h1', 'x'], ['h2', 'x']]);
  const next = await apiCall(memory.httpUrl, 'GetTopicMembers', { topic, pageSize: 2, pageToken: page.json?.['nextPageToken'] });
  t.deepEqual((next.json?.['members'] as { clientId: string }[]).map((m) => m.clientId), ['h3']);
  const count = await apiCall(memory.httpUrl, 'CountTopicMembers', { topic });
  t.is(Number(count.json?.['members']), 3);
  const bad = await apiCall(memory.httpUrl, 'GetTopicMembers', { topic, pageSize: 5000 });
  t.is(bad.status, 400);
  t.is(bad.json?.['message'], 'page_size is 5000; it must be 1 to 1000 (or 0 for 100)');
});

// ---- channel expiry ----------------------------------------------------------------------------

test('topic presence memory - a member whose channel expires leaves with CHANNEL_EXPIRED', async (t) => {
  const clock = new ManualClock();
  const server = await startTestServer({ clock, replayWindowSeconds: 60 });
  t.teardown(() => server.close());
  const topic = 'expiring';
  const watch = await liveWatch(server, topic);
  t.teardown(() => watch.cancel());
  // Subscribed without a token: the channel lives for the replay window only.
  await server.rpc.subscribe({ clientIds: ['ghost'], topic });
  await watch.untilLive(1);
  clock.advance(61_000);
  await watch.untilLive(2);
  t.deepEqual(watch.brief(), [
    ['ghost', 'MEMBER_JOINED', ''],
    ['ghost', 'MEMBER_LEFT', 'CHANNEL_EXPIRED'],
  ]);
  t.is((await topicRpcFor(server.client, server.metadata).countTopicMembers({ topic })).members, 0);
});

if (availability.run) {
  test('topic presence redis - a member whose channel expired leaves with CHANNEL_EXPIRED when the members are read', async (t) => {
    const server = await startRedisNode(redis!, unique('expiry'), { replayWindowSeconds: 1 });
    t.teardown(() => server.close());
    const topic = 'expiring';
    const watch = await liveWatch(server, topic);
    t.teardown(() => watch.cancel());
    await server.rpc.subscribe({ clientIds: ['ghost', 'stays'], topic });
    await server.rpc.createChannel({ clientId: 'stays', durationMinutes: 10 });
    await watch.untilLive(2);
    const rpc = topicRpcFor(server.client, server.metadata);
    // Redis expires the ghost's channel after the 1 s window; the next read of the members notices.
    const deadline = Date.now() + 10_000;
    while ((await rpc.getTopicMembers({ topic })).members.length > 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await watch.untilLive(3);
    t.deepEqual(watch.brief()[2], ['ghost', 'MEMBER_LEFT', 'CHANNEL_EXPIRED']);
    t.deepEqual((await rpc.getTopicMembers({ topic })).members.map((m) => m.clientId), ['stays']);
    t.is((await rpc.countTopicMembers({ topic })).members, 1);
    t.is((await server.rpc.subscribe({ clientIds: ['ghost'], topic })).added, 1, 'and it can join again');
    await watch.untilLive(4);
    t.deepEqual(watch.brief()[3], ['ghost', 'MEMBER_JOINED', '']);

    // One that expires and subscribes again before anyone read the members: its leave comes first.
    await server.rpc.subscribe({ clientIds: ['twice'], topic });
    await watch.untilLive(5);
    const until = Date.now() + 10_000;
    while ((await server.rpc.subscribe({ clientIds: ['twice'], topic })).added === 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await watch.untilLive(7);
    t.deepEqual(watch.brief().slice(4), [
      ['twice', 'MEMBER_JOINED', ''],
      ['twice', 'MEMBER_LEFT', 'CHANNEL_EXPIRED'],
      ['twice', 'MEMBER_JOINED', ''],
    ]);
  });
}

if (availability.run) {
  test('topic presence redis - changes made while a watching node\'s pub/sub connection was away are caught up, in order', async (t) => {
    const own = await TestRedis.start();
    const admin = new Redis(own.url);
    const [a, b] = [await startRedisNode(own, 'feedloss'), await startRedisNode(own, 'feedloss')];
    t.teardown(async () => {
      admin.disconnect();
      await Promise.all([a.close(), b.close()]);
      await own.stop();
    });
    const topic = 'lossy';
    const watch = await liveWatch(a, topic);
    t.teardown(() => watch.cancel());
    await b.rpc.subscribe({ clientIds: ['before'], topic });
    await watch.untilLive(1);
    // Redis cuts every pub/sub client (as past client-output-buffer-limit pubsub): B's changes
    // published meanwhile never reach A over pub/sub.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (const id of ['gap-1', 'gap-2', 'gap-3']) await b.rpc.subscribe({ clientIds: [id], topic });
    await b.rpc.unsubscribe({ clientIds: ['gap-2'], topic });
    await watch.untilLive(5);
    t.deepEqual(watch.brief(), [
      ['before', 'MEMBER_JOINED', ''],
      ['gap-1', 'MEMBER_JOINED', ''],
      ['gap-2', 'MEMBER_JOINED', ''],
      ['gap-3', 'MEMBER_JOINED', ''],
      ['gap-2', 'MEMBER_LEFT', 'UNSUBSCRIBED'],
    ]);
    await b.rpc.subscribe({ clientIds: ['after'], topic });
    await watch.untilLive(6);
    t.deepEqual(watch.brief()[5], ['after', 'MEMBER_JOINED', ''], 'and live again, with nothing twice');
    t.false(watch.ended);
  });
}

both('watchers of one topic opened at once all get every change from their snapshot on', async (t, { watchOn, actOn }) => {
  for (let round = 0; round < 10; round++) {
    const topic = unique('at-once');
    const watches = Array.from({ length: 4 }, () => new TopicPresenceStream(watchOn.client, { topic, snapshot: true }, watchOn.metadata));
    t.teardown(() => watches.forEach((w) => w.cancel()));
    await Promise.all(watches.map((w) => w.untilSnapshotComplete()));
    await actOn.rpc.subscribe({ clientIds: ['first-change'], topic });
    await Promise.all(watches.map((w) => w.untilLive(1)));
    for (const w of watches) t.deepEqual(w.brief(), [['first-change', 'MEMBER_JOINED', '']]);
  }
});

if (availability.run) {
  test('topic presence redis - changes missed while the feed was away and no longer in the stream end the watcher with its cursor; its resume says resume_failed', async (t) => {
    const own = await TestRedis.start();
    const admin = new Redis(own.url);
    const [a, b] = [await startRedisNode(own, 'gap'), await startRedisNode(own, 'gap')];
    t.teardown(async () => {
      admin.disconnect();
      await Promise.all([a.close(), b.close()]);
      await own.stop();
    });
    const topic = 'gappy';
    const watch = await liveWatch(a, topic);
    await b.rpc.subscribe({ clientIds: ['kept'], topic });
    await watch.untilLive(1);
    const cursor = watch.live[0]!.cursor;
    // While node A's pub/sub connection is cut, the stream loses what A passed on last (as when it
    // expired): what came after it can no longer be told apart from what was lost.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await admin.del(new RedisKeys('gap').topicPresenceLog(topic));
    await b.rpc.subscribe({ clientIds: ['after-the-loss'], topic });
    await watch.untilEnded();
    t.is(watch.error?.code, grpc.status.UNAVAILABLE);
    t.is(watch.error?.details, `topic presence changes of "${topic}" may have been missed; resume with cursor "${cursor}"`);
    const resumed = new TopicPresenceStream(a.client, { topic, cursor }, a.metadata);
    t.teardown(() => resumed.cancel());
    await resumed.untilSnapshotComplete();
    t.true(resumed.snapshotComplete!.resumeFailed);
    t.deepEqual(resumed.events.map((e) => e.clientId).sort(), ['after-the-loss', 'kept']);
  });
}

if (availability.run) {
  test('topic presence redis - members an older version kept in a set (the :m key) are counted, then moved into the sorted set', async (t) => {
    const prefix = unique('legacy');
    const server = await startRedisNode(redis!, prefix);
    const admin = new Redis(redis!.url);
    t.teardown(async () => {
      admin.disconnect();
      await server.close();
    });
    const keys = new RedisKeys(prefix);
    const topic = 'old-room';
    await admin.sadd(keys.legacyTopicMembers(topic), 'old-1', 'old-2');
    const rpc = topicRpcFor(server.client, server.metadata);
    t.is((await rpc.countTopicMembers({ topic })).members, 2, 'counted before anything moved them');
    await server.rpc.subscribe({ clientIds: ['new-1'], topic });
    t.is(await admin.exists(keys.legacyTopicMembers(topic)), 0, 'the old set is gone');
    t.deepEqual(await admin.zrange(keys.topicMembers(topic), 0, -1), ['new-1', 'old-1', 'old-2']);
    t.is((await rpc.countTopicMembers({ topic })).members, 3);
    t.is((await server.rpc.unsubscribe({ clientIds: ['old-1'], topic })).removed, 1, 'an old member can be unsubscribed');
  });
}
