import test from 'ava';
import { pino } from 'pino';
import { RedisEngine, type RedisEngineOptions } from '../src/engine/redis.js';
import { engineContract, RecordingHandler, type EngineFixture } from './helpers/engine-contract.js';
import { ManualClock } from './helpers/manual-clock.js';
import { redisAvailability, TestRedis, TestRedisCluster } from './helpers/redis.js';

const availability = redisAvailability();
let redis: TestRedis | undefined;
let cluster: TestRedisCluster | undefined;
let shards: TestRedis[] = [];
let prefixes = 0;

async function fixture(connection: Pick<RedisEngineOptions, 'redisUrl' | 'clusterNodes' | 'shards' | 'partitions'>): Promise<EngineFixture> {
  const clock = new ManualClock();
  const engine = new RedisEngine(
    {
      replayBufferSize: 3,
      replayWindowMs: 60_000,
      presenceHistorySize: 4,
      topicPresenceHistorySize: 20,
      deliveryHistorySize: 4,
      ...connection,
      // Each test its own key space, so tests run side by side on one Redis.
      prefix: `test${++prefixes}`,
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

if (!availability.run && availability.fail) {
  test('engine redis - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING redis engine tests: ${availability.why} !!!\n`);
} else {
  test.before(async () => {
    [redis, cluster, ...shards] = await Promise.all([TestRedis.start(), TestRedisCluster.start(3), TestRedis.start(), TestRedis.start(), TestRedis.start()]);
  });
  test.after.always(async () => {
    await Promise.all([redis?.stop(), cluster?.stop(), ...shards.map((s) => s.stop())]);
  });

  engineContract('engine redis', () => fixture({ redisUrl: redis!.url, clusterNodes: [] }));
  engineContract('engine redis-cluster', () => fixture({ redisUrl: 'redis://', clusterNodes: cluster!.nodes }));
  engineContract('engine redis-cluster one slot', () => fixture({ redisUrl: 'redis://', clusterNodes: cluster!.nodes, partitions: 1 }));
  engineContract('engine redis 3 shards', () => fixture({ redisUrl: 'redis://', clusterNodes: [], shards: shards.map((s) => s.url) }));
}
