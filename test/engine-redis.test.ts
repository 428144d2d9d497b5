import test from 'ava';
import { pino } from 'pino';
import { RedisEngine, type RedisEngineOptions } from '../src/engine/redis.js';
import { RedisKeys } from '../src/engine/redis/keys.js';
import { engineContract, RecordingHandler, type EngineFixture } from './helpers/engine-contract.js';
import { ManualClock } from './helpers/manual-clock.js';
import { redisAvailability, scanKeys, TestRedis, TestRedisCluster, TestRedisShards } from './helpers/redis.js';

const availability = redisAvailability();
let redis: TestRedis | undefined;
let cluster: TestRedisCluster | undefined;
let shards: TestRedisShards | undefined;
let prefixes = 0;

type Connection = Pick<RedisEngineOptions, 'redisUrl' | 'clusterNodes' | 'shards' | 'partitions'>;

// Each test its own key space unless told, so tests run side by side on one Redis.
async function fixture(connection: Connection, prefix = `test${++prefixes}`): Promise<EngineFixture> {
  const clock = new ManualClock();
  const engine = new RedisEngine(
    {
      replayBufferSize: 3,
      replayWindowMs: 60_000,
      presenceHistorySize: 4,
      topicPresenceHistorySize: 20,
      deliveryHistorySize: 4,
      ...connection,
      prefix,
      nodeLeaseMs: 5000,
      sentinels: [],
      sentinelName: '',
    },
    clock,
    pino({ level: 'silent' }),
  );
  const handler = new RecordingHandler();
  await engine.start(handler);
  return { engine, handler, advance: (ms) => clock.advance(ms), close: () => engine.stop() };
}

const oneRedis = (): Connection => ({ redisUrl: redis!.url, clusterNodes: [] });
const oneShard = (): Connection => ({ redisUrl: 'redis://', clusterNodes: [], shards: [redis!.url] });
const threeShards = (): Connection => ({ redisUrl: 'redis://', clusterNodes: [], shards: shards!.urls });
const clusterOf = (partitions: number): Connection => ({ redisUrl: 'redis://', clusterNodes: cluster!.nodes, partitions });

/** Enough client ids that each of 16 partitions gets some (the odds that one gets none: 16 × (15/16)^200, 4e-5). */
const SPREAD_CLIENTS = Array.from({ length: 200 }, (_, i) => `spread-client-${i}`);
const SPREAD_TOPICS = Array.from({ length: 40 }, (_, i) => `spread-topic-${i}`);

/** Writes a channel (and socket) per client id and a log and members per topic under `prefix`. */
async function spreadWorkload(connection: Connection, prefix: string): Promise<void> {
  const { engine, close } = await fixture(connection, prefix);
  try {
    for (const [i, id] of SPREAD_CLIENTS.entries()) {
      await engine.publish(id, `to ${id}`);
      if (i % 2 === 0) await engine.attach(id, `socket-${i}`, 0);
    }
    for (const [i, topic] of SPREAD_TOPICS.entries()) {
      await engine.subscribe([SPREAD_CLIENTS[i]!, SPREAD_CLIENTS[i + 100]!], topic, 10);
      await engine.publishTopic(topic, `on ${topic}`);
    }
  } finally {
    await close();
  }
}

/** The hash tag of a Cluster key ("{P:3}:ch:..." → "{P:3}"). */
const tagOf = (key: string): string => key.slice(0, key.indexOf('}') + 1);

if (!availability.run && availability.fail) {
  test('engine redis - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING redis engine tests: ${availability.why} !!!\n`);
} else {
  test.before(async () => {
    [redis, cluster, shards] = await Promise.all([TestRedis.start(), TestRedisCluster.start(3), TestRedisShards.start(3)]);
  });
  test.after.always(async () => {
    await Promise.all([redis?.stop(), cluster?.stop(), shards?.dispose()]);
  });

  engineContract('engine redis', () => fixture(oneRedis()));
  engineContract('engine redis 1 shard', () => fixture(oneShard()));
  engineContract('engine redis 3 shards', () => fixture(threeShards()));
  engineContract('engine redis-cluster', () => fixture(clusterOf(16)));
  engineContract('engine redis-cluster one slot', () => fixture(clusterOf(1)));

  test('engine redis - with one Redis the key layout is as before sharding: "P:…", no hash tags', async (t) => {
    await spreadWorkload(oneRedis(), 'spread');
    const keys = new RedisKeys('spread');
    t.is(Number(await redis!.command('EXISTS', keys.channel('spread-client-7'), keys.channelLog('spread-client-7'), keys.topicLog('spread-topic-3'))), 3);
    const all = await scanKeys(redis!.url, '*spread*');
    t.deepEqual(all.filter((k) => !k.startsWith('spread:')), [], 'every key starts with the plain prefix');
  });

  test('engine redis 3 shards - client ids and topics spread over every shard, each one\'s keys on one shard only', async (t) => {
    await spreadWorkload(threeShards(), 'spread');
    const keys = new RedisKeys('spread');
    const perShard = await Promise.all(shards!.urls.map((url) => scanKeys(url, 'spread:*')));
    for (const [i, held] of perShard.entries()) {
      const channels = held.filter((k) => k.startsWith('spread:ch:') && !k.includes(':log') && !k.endsWith(':topics')).length;
      const topics = held.filter((k) => k.startsWith('spread:tp:') && k.endsWith(':log')).length;
      t.log(`shard ${i}: ${held.length} keys, ${channels} channels, ${topics} topic logs`);
      // 200 ids over 3 shards: a third each, give or take; a sixth would mean a skewed hash.
      t.true(channels >= SPREAD_CLIENTS.length / 6, `shard ${i} holds ${channels} of ${SPREAD_CLIENTS.length} channels`);
      t.true(topics >= 1, `shard ${i} holds ${topics} of ${SPREAD_TOPICS.length} topic logs`);
    }
    // The keys of one client id (or topic) are together on exactly one shard.
    for (const id of SPREAD_CLIENTS.slice(0, 30)) {
      const at = await shards!.holding(keys.channel(id));
      t.is(await shards!.holding(keys.channelLog(id)), at, `${id}: its log is with its channel`);
    }
    for (const topic of SPREAD_TOPICS.slice(0, 10)) {
      const at = await shards!.holding(keys.topicLog(topic));
      t.is(await shards!.holding(keys.topicMembers(topic)), at, `${topic}: its members are with its log`);
    }
  });

  test('engine redis-cluster - 16 partitions: keys under 16 hash tags, and every master holds channels', async (t) => {
    await spreadWorkload(clusterOf(16), 'spread16');
    const perMaster = await Promise.all(cluster!.nodes.map((node) => scanKeys(`redis://${node}`, '*spread16*')));
    const tags = new Set(perMaster.flat().map(tagOf));
    t.is(tags.size, 16, `one tag per partition, not ${[...tags].join(' ')}`);
    for (const [i, held] of perMaster.entries()) {
      const channels = held.filter((k) => k.includes('}:ch:') && !k.includes(':log') && !k.endsWith(':topics')).length;
      t.log(`master ${cluster!.nodes[i]}: ${held.length} keys, ${channels} channels, tags ${[...new Set(held.map(tagOf))].join(' ')}`);
      t.true(channels > 0, `master ${cluster!.nodes[i]} holds no channel`);
    }
  });

  test('engine redis-cluster - one partition: every key under the one tag "{P}", on one master', async (t) => {
    await spreadWorkload(clusterOf(1), 'oneslot');
    const perMaster = await Promise.all(cluster!.nodes.map((node) => scanKeys(`redis://${node}`, '*oneslot*')));
    t.deepEqual([...new Set(perMaster.flat().map(tagOf))], ['{oneslot}']);
    t.is(perMaster.filter((held) => held.length > 0).length, 1);
  });
}
