import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { TopicPresenceKind } from '../gen/ts/channel/v1/channel.js';
import { startNode, type ClusterNode } from './helpers/cluster.js';
import { redisAvailability, TestRedis, TestRedisShards } from './helpers/redis.js';
import { layoutOptions, type RedisLayout } from './helpers/redis-nodes.js';
import { RawSocket } from './helpers/socket.js';
import { allMembers, briefTopic, TopicPresenceStream, topicRpcFor } from './helpers/topic-presence.js';

// Topic presence across real channeld processes on one Redis, and on 3 shards (where a member's
// channel and its topic may live on different shards): a watcher on one node sees what
// happens on the others, a SIGKILLed node's members are reported NODE_LOST, and subscribe and
// unsubscribe of one client id racing from two nodes always end with an event that matches the
// membership.

/** Two nodes over one layout of Redis, or why they did not start (failing that layout's tests only). */
interface Deployment {
  redis: RedisLayout;
  a: ClusterNode;
  b: ClusterNode;
}
const LAYOUTS = [
  { title: 'topic presence cluster', start: (): Promise<RedisLayout> => TestRedis.start() },
  { title: 'topic presence cluster, 3 shards', start: (): Promise<RedisLayout> => TestRedisShards.start(3) },
] as const;
type Context = Record<string, Deployment | { redis: RedisLayout; failed: Error }>;
const test = anyTest as TestFn<Context>;
const availability = redisAvailability();

if (!availability.run && availability.fail) {
  test('topic presence cluster - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING topic presence cluster tests: ${availability.why} !!!\n`);
}

/** One test per layout, serial (the nodes are shared). */
function clusterTest(name: string, body: (t: ExecutionContext<Context>, d: Deployment) => Promise<void>): void {
  for (const { title } of LAYOUTS) {
    (availability.run ? test.serial : test.skip)(`${title} - ${name}`, (t) => {
      const d = t.context[title]!;
      if ('failed' in d) throw new Error(`the nodes on "${title}" did not start: ${d.failed.message}`);
      return body(t, d);
    });
  }
}

const RUNS = Number(process.env['CHANNELD_RACE_RUNS'] ?? 60);
const startNodeOn = (redis: RedisLayout): Promise<ClusterNode> => startNode({ ...layoutOptions(redis), prefix: 'tpc', leaseSeconds: 2 });

test.before(async (t) => {
  if (!availability.run) return;
  const context: Context = {};
  for (const layout of LAYOUTS) {
    const redis = await layout.start();
    const started = await Promise.allSettled([startNodeOn(redis), startNodeOn(redis)]);
    const [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    if (a !== undefined && b !== undefined) context[layout.title] = { redis, a, b };
    else {
      await Promise.all([a?.stop(), b?.stop()]);
      context[layout.title] = { redis, failed: (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason as Error };
    }
  }
  t.context = context;
});

test.after.always(async (t) => {
  for (const d of Object.values(t.context ?? {})) {
    if (!('failed' in d)) await Promise.all([d.a.stop(), d.b.stop()]);
    await d.redis.dispose();
  }
});

async function open(node: ClusterNode, token: string): Promise<RawSocket> {
  const socket = new RawSocket(node.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'welcome');
  if (socket.welcome === undefined) throw new Error(`socket closed: ${socket.closeCode} ${socket.closeReason}`);
  return socket;
}

async function liveWatch(node: ClusterNode, topic: string): Promise<TopicPresenceStream> {
  const stream = new TopicPresenceStream(node.client, { topic, snapshot: true });
  await stream.untilSnapshotComplete();
  return stream;
}

clusterTest('a watcher on node A sees members of node B connect, and NODE_LOST when B is SIGKILLed', async (t, { a, redis }) => {
  const victim = await startNodeOn(redis);
  const topic = 'lost-room';
  const ids = ['lost-1', 'lost-2', 'lost-3'];
  await victim.rpc.subscribe({ clientIds: ids, topic, info: 'on the victim' });
  const watch = await liveWatch(a, topic);
  t.teardown(() => watch.cancel());
  t.deepEqual(watch.events.map((e) => [e.clientId, e.info, e.connected]), ids.map((id) => [id, 'on the victim', false]));
  const sockets: RawSocket[] = [];
  for (const id of ids) sockets.push(await open(victim, (await a.rpc.createChannel({ clientId: id, durationMinutes: 0 })).token));
  await watch.untilLive(3);
  t.deepEqual(watch.brief(), ids.map((id) => [id, 'CONNECTED', 'SOCKET_OPENED']));
  t.true((await allMembers(topicRpcFor(a.client), topic)).every((m) => m.connected));

  await victim.kill();
  await Promise.all(sockets.map((s) => s.closed));
  // Within the lease (2 s) node A reaps the victim: one NODE_LOST per member, in the topic too.
  await watch.untilLive(6);
  t.deepEqual(watch.brief().slice(3).sort(), ids.map((id) => [id, 'DISCONNECTED', 'NODE_LOST']));
  const members = await allMembers(topicRpcFor(a.client), topic);
  t.deepEqual(members.map((m) => [m.clientId, m.connected]), ids.map((id) => [id, false]), 'still members, no longer connected');
});

clusterTest(`Subscribe on A racing Unsubscribe on B for one client id, ${RUNS} times: the last event matches the membership`, async (t, { a, b }) => {
  const topic = 'race-room';
  const watch = await liveWatch(a, topic);
  t.teardown(() => watch.cancel());
  const rpcA = topicRpcFor(a.client);
  let bad = 0;
  for (let run = 0; run < RUNS; run++) {
    const id = `racer-${run % 3}`;
    // Spread the start of the second call over the window where the two scripts overlap.
    const gap = run % 4;
    const calls: Promise<unknown>[] = [a.rpc.subscribe({ clientIds: [id], topic, info: `run ${run}` })];
    if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
    calls.push(b.rpc.unsubscribe({ clientIds: [id], topic }));
    if (run % 2 === 1) calls.push(b.rpc.subscribe({ clientIds: [id], topic, info: `run ${run}` }));
    await Promise.all(calls);
    // A marker after the race: once the watcher has it, it has every change before it (one stream per topic).
    const marker = `marker-${run}`;
    await a.rpc.subscribe({ clientIds: [marker], topic });
    await watch.until(() => watch.live.some((e) => e.clientId === marker), `the marker of run ${run}`);
    const member = (await rpcA.getTopicMembers({ topic, pageSize: 1000 })).members.some((m) => m.clientId === id);
    const last = watch.live.filter((e) => e.clientId === id).at(-1);
    const lastSays = last?.kind === TopicPresenceKind.TOPIC_PRESENCE_KIND_MEMBER_JOINED || last?.kind === TopicPresenceKind.TOPIC_PRESENCE_KIND_MEMBER_UPDATED;
    if (lastSays !== member) {
      bad++;
      t.log(`run ${run}: member ${member}, last event ${last === undefined ? 'none' : briefTopic(last).join(' ')}`);
    }
  }
  // Never two joins or two leaves of one client id in a row: only real changes are reported.
  for (const id of ['racer-0', 'racer-1', 'racer-2']) {
    const kinds = watch.live.filter((e) => e.clientId === id && e.kind !== TopicPresenceKind.TOPIC_PRESENCE_KIND_MEMBER_UPDATED).map((e) => e.kind);
    for (let i = 1; i < kinds.length; i++) if (kinds[i] === kinds[i - 1]) bad++;
  }
  t.log(`subscribe/unsubscribe races: ${bad} bad of ${RUNS}`);
  t.is(bad, 0);
});
