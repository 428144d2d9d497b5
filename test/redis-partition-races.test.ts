import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { PresenceReason } from '../src/core/types.js';
import { RedisEngine } from '../src/engine/redis.js';
import { systemClock } from '../src/core/clock.js';
import { RecordingHandler } from './helpers/engine-contract.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { Redis } from 'ioredis';
import { RedisKeys } from '../src/engine/redis/keys.js';

// Steps that span two partitions (a client id's and a topic's), raced on three independent shards
// by two engines (two nodes): the memory engine settles each call at once and would hide these.
const availability = redisAvailability();
const ROUNDS = 50;

/** Staggers the second racer by round: at once, after a turn of the event loop, or 1 or 2 ms later. */
function stagger(round: number): Promise<void> {
  const kind = round % 4;
  if (kind === 0) return Promise.resolve();
  if (kind === 1) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, kind - 1));
}

function engineOn(shards: readonly string[], prefix: string): RedisEngine {
  return new RedisEngine(
    {
      replayBufferSize: 10,
      replayWindowMs: 60_000,
      presenceHistorySize: 1000,
      redisUrl: 'redis://',
      prefix,
      nodeLeaseMs: 5000,
      sentinels: [],
      sentinelName: '',
      clusterNodes: [],
      shards,
    },
    systemClock,
    pino({ level: 'silent' }),
  );
}

/** Two engines (two nodes) over three fresh shards, stopped when the test ends. */
async function twoNodes(t: ExecutionContext): Promise<[RedisEngine, RedisEngine]> {
  const shards = await Promise.all([TestRedis.start(), TestRedis.start(), TestRedis.start()]);
  const nodes: [RedisEngine, RedisEngine] = [engineOn(shards.map((s) => s.url), 'race'), engineOn(shards.map((s) => s.url), 'race')];
  t.teardown(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(shards.map((s) => s.stop()));
  });
  await Promise.all(nodes.map((node) => node.start(new RecordingHandler())));
  return nodes;
}

if (!availability.run && availability.fail) {
  test('partition races - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING partition race tests: ${availability.why} !!!\n`);
} else {
  test(`partition races - Subscribe on node A against the socket opening and closing on node B, ${ROUNDS} rounds: the topic lists the member as its partition says it is`, async (t) => {
    const [a, b] = await twoNodes(t);
    const topic = 'room';
    let crossed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const clientId = `racer-${round}`;
      if (a.partitionOfClient(clientId) !== a.partitionOfTopic(topic)) crossed++;
      const socket = `s${round}`;
      // Open and subscribe at once; then, for odd rounds, close and subscribe again at once.
      await Promise.all([a.subscribe([clientId], topic, 10), stagger(round).then(() => b.attach(clientId, socket, 0))]);
      const listed = (await a.topicPresenceSnapshot(topic)).members.find((m) => m.clientId === clientId);
      t.true(listed?.connected, `round ${round}: listed as connected after open + subscribe (${JSON.stringify(listed)})`);
      if (round % 2 === 1) {
        await Promise.all([a.unsubscribe([clientId], topic), b.detach(clientId, socket, PresenceReason.SocketClosed)]);
        await Promise.all([a.subscribe([clientId], topic, 10), stagger(round + 1).then(() => b.attach(clientId, `${socket}b`, 0))]);
        await Promise.all([a.subscribe([clientId], topic, 10, 'again'), stagger(round + 2).then(() => b.detach(clientId, `${socket}b`, PresenceReason.SocketClosed))]);
        const after = (await a.topicPresenceSnapshot(topic)).members.find((m) => m.clientId === clientId);
        t.is(after?.connected, false, `round ${round}: listed as disconnected after close + subscribe`);
        t.is(after?.info, 'again');
      }
      t.is((await a.presence([clientId]))[0]!.connected, round % 2 === 0, `round ${round}: the client's own partition agrees`);
    }
    t.true(crossed > ROUNDS / 3, `${crossed} of ${ROUNDS} client ids live in another partition than the topic`);
    t.is(await a.countTopicMembers(topic), ROUNDS);
  });

  test(`partition races - CloseChannel on node A against Subscribe on node B, ${ROUNDS} rounds: never a member whose channel is closed, nor a membership the topic does not list`, async (t) => {
    const [a, b] = await twoNodes(t);
    const topic = 'closing';
    for (let round = 0; round < ROUNDS; round++) {
      const clientId = `closer-${round}`;
      await b.attach(clientId, `s${round}`, 0);
      await Promise.all([b.subscribe([clientId], topic, 10), stagger(round).then(() => a.closeChannel(clientId, Date.now()))]);
      const memberships = (await a.memberships(clientId)).map((m) => m.topic);
      const listed = (await a.topicPresenceSnapshot(topic)).members.some((m) => m.clientId === clientId);
      // Either order is a right outcome; a half of both is not.
      t.is(listed, memberships.includes(topic), `round ${round}: the topic lists it (${listed}) exactly when its channel says it belongs (${memberships.join(',')})`);
    }
  });

  test('partition steps - a Subscribe whose node died between its two steps (membership recorded, the topic never told): a retry on another node lists the member and tells the socket\'s node', async (t) => {
    const shards = await Promise.all([TestRedis.start(), TestRedis.start(), TestRedis.start()]);
    const urls = shards.map((s) => s.url);
    const holder = engineOn(urls, 'gone');
    const retrier = engineOn(urls, 'gone');
    t.teardown(async () => {
      await Promise.all([holder.stop(), retrier.stop()]);
      await Promise.all(shards.map((s) => s.stop()));
    });
    const handler = new RecordingHandler();
    await Promise.all([holder.start(handler), retrier.start(new RecordingHandler())]);
    const topic = 'far-topic';
    const clientId = Array.from({ length: 50 }, (_, i) => `near-${i}`).find((id) => holder.partitionOfClient(id) !== holder.partitionOfTopic(topic))!;
    await holder.attach(clientId, 'socket', 0);
    const posted = await retrier.publishTopic(topic, 'before');
    // What subscribe-clients.lua leaves in the client's shard, had its node died right after it.
    const keys = new RedisKeys('gone');
    const admin = new Redis(urls[holder.partitionOfClient(clientId)]!);
    t.teardown(() => admin.disconnect());
    await admin.hset(keys.channel(clientId), 'mv', `${Date.now()}-0`);
    await admin.hset(keys.channelTopics(clientId), topic, `${posted.epoch} ${posted.seq} ${Date.now()}-0`);
    t.deepEqual((await retrier.topicMembers(topic, 10, '')).members, [], 'the topic does not list it');
    t.is(await retrier.subscribe([clientId], topic, 10), 0, 'the retry finds the membership recorded');
    t.deepEqual((await retrier.topicMembers(topic, 10, '')).members.map((m) => [m.clientId, m.connected]), [[clientId, true]], 'and the topic lists it now');
    await handler.until(() => handler.joins.some((j) => j.clientId === clientId && j.topic === topic));
    t.deepEqual(handler.joins.find((j) => j.clientId === clientId)?.position, { epoch: posted.epoch, seq: posted.seq }, 'the socket\'s node is told, from where the membership starts');
    t.is(await retrier.subscribe([clientId], topic, 10), 0);
    t.is(handler.joins.filter((j) => j.clientId === clientId).length, 1, 'a second retry tells nobody again');
  });
}

