import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { PresenceState, type SendMessageResponse } from '../gen/ts/channel/v1/channel.js';
import { RedisKeys } from '../src/engine/redis/keys.js';
import { startNode, type ClusterNode } from './helpers/cluster.js';
import { PresenceStream, toClient } from './helpers/grpc.js';
import { redisAvailability, TestRedis, TestRedisShards } from './helpers/redis.js';
import { holderOf, layoutOptions, type RedisLayout } from './helpers/redis-nodes.js';
import { RawSocket } from './helpers/socket.js';

/** Three nodes over one layout of Redis, or why they did not start (failing that layout's tests only). */
interface Deployment {
  redis: RedisLayout;
  nodes: ClusterNode[];
  failed?: Error;
}
/** The same tests on one Redis and on 3 independent shards (--redis-shard), both persistent. */
const LAYOUTS = [
  { title: 'cluster', start: (): Promise<RedisLayout> => TestRedis.start({ persistent: true }) },
  { title: 'cluster, 3 shards', start: (): Promise<RedisLayout> => TestRedisShards.start(3, { persistent: true }) },
] as const;
type Context = Record<string, Deployment>;
const test = anyTest as TestFn<Context>;
const availability = redisAvailability();
const PREFIX = 'cluster';

if (!availability.run && availability.fail) {
  test('cluster - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING cluster tests: ${availability.why} !!!\n`);
}
const clusterTest = availability.run ? test.serial : test.skip;

const startNodeOn = (redis: RedisLayout): Promise<ClusterNode> => startNode({ ...layoutOptions(redis), prefix: PREFIX, leaseSeconds: 3 });

test.before(async (t) => {
  if (!availability.run) return;
  const context: Context = {};
  for (const layout of LAYOUTS) {
    const redis = await layout.start();
    const started = await Promise.allSettled([0, 1, 2].map(() => startNodeOn(redis)));
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected')?.reason as Error | undefined;
    context[layout.title] = { redis, nodes, ...(failed === undefined ? {} : { failed }) };
  }
  t.context = context;
});

test.after.always(async (t) => {
  for (const { redis, nodes } of Object.values(t.context ?? {})) {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.dispose();
  }
});

/** The deployment of the layout `title`; throws when its nodes did not start. */
function deployment(context: Context, title: string): Deployment {
  const found = context[title]!;
  if (found.failed !== undefined) throw new Error(`the nodes on "${title}" did not start: ${found.failed.message}`);
  return found;
}

let ids = 0;
const unique = (name: string): string => `${name}-${++ids}`;

async function open(node: ClusterNode, token: string, resume?: { epoch: string; seq: number }): Promise<RawSocket> {
  const socket = new RawSocket(node.wsUrl, token, resume === undefined ? {} : { resume });
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'welcome');
  if (socket.welcome === undefined) throw new Error(`socket closed: ${socket.closeCode} ${socket.closeReason}`);
  return socket;
}

/** SendMessage with retries on UNAVAILABLE, under one idempotency key, so a retry never sends twice. */
async function sendSurely(node: ClusterNode, clientId: string, message: string, key: string): Promise<SendMessageResponse> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await node.rpc.sendMessage(toClient(clientId, message, key));
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || attempt > 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

for (const { title } of LAYOUTS) {
  clusterTest(`${title} - a token from node A opens a socket on node B; SendMessage on node C reaches it`, async (t) => {
    const [a, b, c] = deployment(t.context, title).nodes as [ClusterNode, ClusterNode, ClusterNode];
    const id = unique('cross');
    const { token } = await a.rpc.createChannel({ clientId: id, durationMinutes: 0 });
    await c.rpc.sendMessage(toClient(id, 'before'));
    const socket = await open(b, token);
    const sent = await c.rpc.sendMessage(toClient(id, 'after'));
    t.true(sent.connected);
    await socket.untilMessages(2);
    t.deepEqual(socket.messages, [
      { seq: 1, data: 'before' },
      { seq: 2, data: 'after' },
    ]);
    const again = await a.rpc.sendMessage(toClient(id, 'after', ''));
    t.is(again.seq, 3);
    socket.close();
    await socket.closed;
  });

  clusterTest(`${title} - an idempotency key holds across nodes`, async (t) => {
    const [a, b] = deployment(t.context, title).nodes as [ClusterNode, ClusterNode];
    const id = unique('idem');
    const first = await a.rpc.sendMessage(toClient(id, 'once', 'key-1'));
    const second = await b.rpc.sendMessage(toClient(id, 'once', 'key-1'));
    t.deepEqual(second, first);
    t.is((await b.rpc.sendMessage(toClient(id, 'next'))).seq, first.seq + 1);
  });

  clusterTest(`${title} - one topic broadcast reaches member sockets on every node exactly once`, async (t) => {
    const nodes = deployment(t.context, title).nodes;
    const topic = unique('news');
    const members = nodes.map((_, i) => unique(`member${i}`));
    await nodes[0]!.rpc.subscribe({ clientIds: members, topic });
    const sockets = await Promise.all(
      members.map(async (id, i) => open(nodes[i]!, (await nodes[i]!.rpc.createChannel({ clientId: id, durationMinutes: 0 })).token)),
    );
    await Promise.all(sockets.map((s) => s.until(() => s.topicWelcome(topic) !== undefined, 'topic welcome')));
    for (let i = 1; i <= 5; i++) await nodes[i % 3]!.rpc.broadcast({ message: `n${i}`, clientIds: [], topics: [topic] });
    await Promise.all(sockets.map((s) => s.until(() => s.topicMessages(topic).length >= 5, 'five topic messages')));
    for (const s of sockets) t.deepEqual(s.topicMessages(topic).map((m) => m.data), ['n1', 'n2', 'n3', 'n4', 'n5']);
    await Promise.all(sockets.map((s) => (s.close(), s.closed)));
  });

  clusterTest(`${title} - the newest socket wins across nodes, and presence on any node stays quiet about it`, async (t) => {
    const [a, b, c] = deployment(t.context, title).nodes as [ClusterNode, ClusterNode, ClusterNode];
    const id = unique('twice');
    const watch = new PresenceStream(c.client, { clientIds: [id], clientIdPrefix: '', snapshot: true, cursor: '' });
    await watch.untilSnapshotComplete();
    const { token } = await a.rpc.createChannel({ clientId: id, durationMinutes: 0 });
    const first = await open(a, token);
    const second = await open(b, token);
    t.deepEqual(await first.closed, { code: 4502, reason: 'Replaced+by+newer+socket.' });
    const presence = await b.rpc.getPresence({ clientIds: [id] });
    t.true(presence.clients[0]!.connected);
    second.close();
    await second.closed;
    await watch.until(() => watch.events.length >= 2, 'two events');
    t.deepEqual(watch.events.map((e) => e.state), [PresenceState.PRESENCE_STATE_CONNECTED, PresenceState.PRESENCE_STATE_DISCONNECTED]);
    watch.cancel();
  });

  clusterTest(`${title} - a killed node: its clients resume elsewhere with nothing lost; one that does not is reported gone`, async (t) => {
    const victim = await startNodeOn(deployment(t.context, title).redis);
    const [a, b] = deployment(t.context, title).nodes as [ClusterNode, ClusterNode];
    const movers = [unique('mover'), unique('mover')];
    const stayer = unique('stayer');
    const watch = new PresenceStream(a.client, { clientIds: [...movers, stayer], clientIdPrefix: '', snapshot: true, cursor: '' });
    await watch.untilSnapshotComplete();
    const tokens = new Map<string, string>();
    for (const id of [...movers, stayer]) tokens.set(id, (await a.rpc.createChannel({ clientId: id, durationMinutes: 0 })).token);
    const sockets = new Map<string, RawSocket>();
    for (const id of [...movers, stayer]) sockets.set(id, await open(victim, tokens.get(id)!));
    await watch.until(() => watch.events.length >= 3, 'three events');

    let sending = true;
    let sent = 0;
    const sender = (async () => {
      while (sending) {
        for (const id of movers) await sendSurely(b, id, `m${sent}`, `k${sent}`);
        sent++;
      }
    })();
    await Promise.all(movers.map((id) => sockets.get(id)!.until(() => sockets.get(id)!.messages.length >= 5, 'some messages')));
    await victim.kill();
    const moved = await Promise.all(
      movers.map(async (id) => {
        const old = sockets.get(id)!;
        await old.closed;
        const last = old.messages.at(-1)!;
        const fresh = await open(b, tokens.get(id)!, { epoch: old.welcome![1] as string, seq: last.seq });
        return { id, old, fresh };
      }),
    );
    await Promise.all(moved.map(({ fresh }) => fresh.until(() => fresh.messages.length >= 5, 'messages after the move')));
    sending = false;
    await sender;
    for (const { old, fresh } of moved) {
      await fresh.untilMessages(sent - old.messages.length);
      const seqs = [...old.messages, ...fresh.messages].map((m) => m.seq);
      t.deepEqual(seqs, Array.from({ length: sent }, (_, i) => i + 1), 'every message exactly once, in order');
      t.true(fresh.welcome![3] as boolean);
      fresh.close();
    }
    // Within the lease the dead node's stayer is reported gone; the movers never were.
    await watch.until(() => watch.events.some((e) => e.clientId === stayer && e.state === PresenceState.PRESENCE_STATE_DISCONNECTED), 'stayer gone');
    const gone = watch.events.find((e) => e.clientId === stayer && e.state === PresenceState.PRESENCE_STATE_DISCONNECTED)!;
    t.is(gone.reason, 8 /* NODE_LOST */);
    const moverEventsBeforeClose = watch.events.filter((e) => movers.includes(e.clientId) && e.reason !== 3);
    t.true(moverEventsBeforeClose.every((e) => e.state === PresenceState.PRESENCE_STATE_CONNECTED), 'no spurious DISCONNECTED for movers');
    watch.cancel();
  });

  clusterTest(`${title} - a Redis restart mid-stream: calls fail with UNAVAILABLE, sockets stay open, nothing is lost or skipped silently`, async (t) => {
    const [a, b] = deployment(t.context, title).nodes as [ClusterNode, ClusterNode];
    const id = unique('outage');
    const { token } = await a.rpc.createChannel({ clientId: id, durationMinutes: 0 });
    const socket = await open(a, token);
    // The Redis (with shards: the shard) that holds the channel goes away; it names itself in the errors.
    const { redis, unavailable: named } = await holderOf(deployment(t.context, title).redis, new RedisKeys(PREFIX).channel(id));
    const total = 60;
    let unavailable = 0;
    let sawOutage: () => void = () => undefined;
    const outageSeen = new Promise<void>((resolve) => (sawOutage = resolve));
    const sender = (async () => {
      for (let i = 0; i < total; i++) {
        for (let attempt = 0; ; attempt++) {
          try {
            await b.rpc.sendMessage(toClient(id, `m${i}`, `outage-${i}`));
            break;
          } catch (err) {
            const e = err as grpc.ServiceError;
            if (e.code !== grpc.status.UNAVAILABLE || attempt > 400) throw err;
            unavailable++;
            sawOutage();
            t.regex(e.details, named);
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        }
      }
    })();
    await socket.untilMessages(10);
    await redis.stop();
    await outageSeen;
    await redis.launch();
    await sender;
    const expected = Array.from({ length: total }, (_, i) => `m${i}`);
    await socket.until(() => expected.every((m) => socket.messages.some((got) => got.data === m)), 'every message sent');
    // A restart is another Redis process: the channel gets a new epoch, announced by one welcome
    // that is not recovered, and the kept messages come again after it (a retried send may too).
    const welcomes = socket.frames.filter((f) => f[0] === 0);
    t.true(welcomes.length <= 2, `welcomes: ${JSON.stringify(welcomes)}`);
    if (welcomes.length === 2) t.false(welcomes[1]![3], 'the new epoch is announced as not recovered');
    const afterLast = socket.frames.slice(socket.frames.lastIndexOf(welcomes.at(-1)!) + 1).filter((f) => f[0] === 1);
    const from = welcomes.at(-1)![2] as number;
    t.deepEqual(afterLast.map((f) => f[1]), Array.from({ length: afterLast.length }, (_, i) => from + i + 1), 'no gap after the welcome');
    t.is(socket.closeCode, undefined, 'the socket stayed open through the outage');
    t.true(unavailable > 0, 'the outage was seen as UNAVAILABLE');
    socket.close();
    await socket.closed;
  });
}
