import anyTest, { type TestFn } from 'ava';
import { TopicPresenceKind } from '../gen/ts/channel/v1/channel.js';
import { startNode, type ClusterNode } from './helpers/cluster.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { RawSocket } from './helpers/socket.js';
import { allMembers, briefTopic, TopicPresenceStream, topicRpcFor } from './helpers/topic-presence.js';

// Topic presence across real channeld processes on one Redis: a watcher on one node sees what
// happens on the others, a SIGKILLed node's members are reported NODE_LOST, and subscribe and
// unsubscribe of one client id racing from two nodes always end with an event that matches the
// membership.

interface Context {
  redis: TestRedis;
  a: ClusterNode;
  b: ClusterNode;
}
const test = anyTest as TestFn<Context>;
const availability = redisAvailability();

if (!availability.run && availability.fail) {
  test('topic presence cluster - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING topic presence cluster tests: ${availability.why} !!!\n`);
}
const clusterTest = availability.run ? test.serial : test.skip;

const RUNS = Number(process.env['CHANNELD_RACE_RUNS'] ?? 60);

test.before(async (t) => {
  if (!availability.run) return;
  const redis = await TestRedis.start();
  const [a, b] = await Promise.all([0, 1].map(() => startNode({ redisUrl: redis.url, prefix: 'tpc', leaseSeconds: 2 })));
  t.context = { redis, a: a!, b: b! };
});

test.after.always(async (t) => {
  await Promise.all([t.context.a?.stop(), t.context.b?.stop()]);
  await t.context.redis?.stop();
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

clusterTest('topic presence cluster - a watcher on node A sees members of node B connect, and NODE_LOST when B is SIGKILLed', async (t) => {
  const { a } = t.context;
  const victim = await startNode({ redisUrl: t.context.redis.url, prefix: 'tpc', leaseSeconds: 2 });
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

clusterTest(`topic presence cluster - Subscribe on A racing Unsubscribe on B for one client id, ${RUNS} times: the last event matches the membership`, async (t) => {
  const { a, b } = t.context;
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
