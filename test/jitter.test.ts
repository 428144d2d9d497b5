import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { startMemoryNode, startNode, type ClusterNode } from './helpers/cluster.js';
import { describeJitter, jitterOptionsFromEnv, runJitter, type JitterReport } from './helpers/jitter.js';
import { redisAvailability, TestRedis, TestRedisShards } from './helpers/redis.js';
import { layoutOptions, type RedisLayout } from './helpers/redis-nodes.js';

/**
 * Issue 8's jitter test: every client's TCP connection is destroyed again and again while messages
 * flow, and every message answered OK must still reach its client exactly once, in order. The
 * suite runs a scaled-down size; the bench (`--scenarios jitter`) and JITTER_* variables run the
 * full one (JITTER_CLIENTS=1000 JITTER_DROP_MS=15000 JITTER_GAP_MS=2000 JITTER_SECONDS=60).
 */
const size = jitterOptionsFromEnv({
  clients: 250,
  sendSeconds: 20,
  dropEveryMs: 4000,
  offlineGapMs: 500,
  messagesPerSecond: 500,
  broadcastsPerSecond: 4,
  drainTimeoutMs: 60_000,
  idPrefix: 'jitter',
});
const TEST_TIMEOUT_MS = 60_000 + 3 * (size.sendSeconds * 1000 + size.drainTimeoutMs);

const test = anyTest as TestFn<unknown>;
const availability = redisAvailability();
if (!availability.run && availability.fail) {
  test('jitter - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING the jitter test on a Redis cluster: ${availability.why} !!!\n`);
}
const redisTest = availability.run ? test.serial : test.skip;

function assertExactlyOnce(t: ExecutionContext, r: JitterReport): void {
  t.log(describeJitter(r));
  t.deepEqual(r.firstViolations, [], `${r.violations} violations of exactly-once, in order`);
  t.is(r.violations, 0);
  t.is(r.failedCalls, 0, r.firstFailure);
  t.is(r.exactlyOnce, r.deliveriesOwed, 'every owed delivery arrived exactly once, in order');
  t.true(r.messages > 0 && r.broadcasts > 0, 'messages were sent to channels and to the topic');
  // A run in which sockets were hardly cut proves nothing.
  t.true(r.reconnects >= r.clients, `${r.reconnects} reconnects for ${r.clients} clients`);
  t.true(r.catchUp.count > 0, 'some reconnects caught up');
}

test.serial('jitter - memory engine: sockets cut every few seconds lose nothing and get nothing twice', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const node = await startMemoryNode();
  t.teardown(() => node.stop());
  const report = await runJitter([node], { ...size, idPrefix: 'jitter-mem' }, (line) => t.log(line));
  assertExactlyOnce(t, report);
});

/**
 * Three nodes over `start`'s Redis (one, or shards), each reconnect on the next node, over
 * `transport` (WebSockets when absent); `prefix` keeps the key spaces and client ids of runs apart.
 */
function redisJitter(title: string, start: () => Promise<RedisLayout>, prefix: string, transport?: 'sse' | 'poll'): void {
  redisTest(title, async (t) => {
    t.timeout(TEST_TIMEOUT_MS);
    const redis = await start();
    const nodes: ClusterNode[] = [];
    t.teardown(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.dispose();
    });
    nodes.push(...(await Promise.all([0, 1, 2].map(() => startNode({ ...layoutOptions(redis), prefix })))));
    const report = await runJitter(nodes, { ...size, idPrefix: `${prefix}-redis`, ...(transport === undefined ? {} : { transport }) }, (line) => t.log(line));
    assertExactlyOnce(t, report);
  });
}

redisJitter('jitter - 3 nodes over one Redis, each reconnect on the next node: exactly once, in order', () => TestRedis.start(), 'jitter');
// Channels and the topic spread over independent shards; WebSockets only, to keep the suite short.
redisJitter('jitter - 3 nodes over 3 Redis shards, each reconnect on the next node: exactly once, in order', () => TestRedisShards.start(3), 'jitter-shards');

// The same run over the browser fallback transport (docs/protocol.md §5): each drop aborts the
// client's event stream or its held poll, and the reconnect resumes over the next node.
for (const transport of ['sse', 'poll'] as const) {
  const label = transport === 'sse' ? 'event streams' : 'long polls';
  test.serial(`jitter - memory engine, over ${label}: connections cut every few seconds lose nothing and get nothing twice`, async (t) => {
    t.timeout(TEST_TIMEOUT_MS);
    const node = await startMemoryNode();
    t.teardown(() => node.stop());
    const report = await runJitter([node], { ...size, idPrefix: `jitter-mem-${transport}`, transport }, (line) => t.log(line));
    assertExactlyOnce(t, report);
  });

  redisJitter(`jitter - 3 nodes over one Redis, over ${label}, each reconnect on the next node: exactly once, in order`, () => TestRedis.start(), `jitter-${transport}`, transport);
}
