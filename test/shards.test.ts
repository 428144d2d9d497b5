import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import type { PresenceEvent } from '../gen/ts/channel/v1/channel.js';
import { RedisKeys } from '../src/engine/redis/keys.js';
import { brief, PresenceStream, stateName, toClient } from './helpers/grpc.js';
import { redisAvailability, TestRedis, TestRedisShards } from './helpers/redis.js';
import { holderOf, startRedisNode, type RedisLayout } from './helpers/redis-nodes.js';
import { connect, type TestServer } from './helpers/server.js';
import { RawSocket, type Frame } from './helpers/socket.js';
import { untilOk } from './helpers/wait.js';

// Two nodes over 3 independent Redis shards (--redis-shard): what one shard's absence does to the
// calls that need it and to those that do not, and presence watched across the shards.

const availability = redisAvailability();


/** Settles with what `call` did, or says it hung: a call needing a missing shard must fail, not wait. */
async function outcome<T>(call: Promise<T>, timeoutMs = 5000): Promise<{ ok: T } | { err: grpc.ServiceError } | { hung: true }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ hung: true }>((resolve) => (timer = setTimeout(() => resolve({ hung: true }), timeoutMs)));
  const settled = call.then(
    (ok) => ({ ok }),
    (err: grpc.ServiceError) => ({ err }),
  );
  return Promise.race([settled, hung]).finally(() => clearTimeout(timer));
}

const welcomes = (socket: RawSocket): Frame[] => socket.frames.filter((f) => f[0] === 0);

/** Client ids by the shard their channel is on, found by asking each shard after a first message. */
async function spreadIds(shards: TestRedisShards, node: TestServer, prefix: string, names: readonly string[]): Promise<Map<number, string[]>> {
  const keys = new RedisKeys(prefix);
  const byShard = new Map<number, string[]>();
  for (const id of names) {
    await node.send(id, 'hello');
    const shard = await shards.holding(keys.channel(id));
    byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
  }
  return byShard;
}

async function twoNodes(t: ExecutionContext, redis: RedisLayout, prefix: string): Promise<[TestServer, TestServer]> {
  const [a, b] = await Promise.all([startRedisNode(redis, prefix), startRedisNode(redis, prefix)]);
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  return [a, b];
}

if (!availability.run && availability.fail) {
  test('shards - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING shard tests: ${availability.why} !!!\n`);
} else {
  test('shards - one shard of 3 down fails only the calls that need it, with UNAVAILABLE naming it; when it is back everything works and clients resume', async (t) => {
    t.timeout(60_000);
    const shards = await TestRedisShards.start(3);
    t.teardown(() => shards.dispose());
    const [a, b] = await twoNodes(t, shards, 'down');
    const byShard = await spreadIds(shards, a, 'down', Array.from({ length: 24 }, (_, i) => `down-${i}`));
    t.deepEqual([...byShard.keys()].sort(), [0, 1, 2], 'the client ids spread over every shard');
    const victim = 1;
    const [onVictim, ...moreOnVictim] = byShard.get(victim)!;
    const elsewhere = [...(byShard.get(0) ?? []), ...(byShard.get(2) ?? [])];
    const { redis, unavailable } = await holderOf(shards, new RedisKeys('down').channel(onVictim!));
    t.is(redis, shards.shard(victim));
    // Sockets on B: one whose channel is on the victim shard, one elsewhere; a third that left
    // before the outage and will resume after it.
    const held = await connect(b, onVictim!);
    const live = await connect(b, elsewhere[0]!);
    const sleeperId = moreOnVictim[0]!;
    const sleeper = await connect(b, sleeperId);
    sleeper.socket.close();
    await sleeper.socket.closed;
    const sleeperAt = { epoch: sleeper.socket.welcome![1] as string, seq: sleeper.socket.messages.at(-1)?.seq ?? (sleeper.socket.welcome![2] as number) };
    // Topics the live socket is a member of, some kept on the victim shard and some elsewhere.
    const rooms = Array.from({ length: 12 }, (_, i) => `down-room-${i}`);
    for (const topic of rooms) await a.rpc.subscribe({ clientIds: [elsewhere[0]!], topic });
    await live.socket.until(() => rooms.every((topic) => live.socket.topicWelcome(topic) !== undefined), 'the topic welcomes');
    const roomShards = await Promise.all(rooms.map((topic) => shards.holding(new RedisKeys('down').topic(topic))));
    const roomOnVictim = rooms.find((_, i) => roomShards[i] === victim);
    const roomElsewhere = rooms.find((_, i) => roomShards[i] !== victim);
    t.truthy(roomOnVictim && roomElsewhere, `the topics spread: shards ${roomShards.join(' ')}`);

    await redis.stop();
    // The node stays ready (one shard away fails only what needs it), and its metrics say which is away.
    const shardUp = (metrics: string, shard: number): string | undefined => new RegExp(`^channeld_redis_shard_up\\{shard="${shard}"\\} (\\d)$`, 'm').exec(metrics)?.[1];
    await untilOk(async () => {
      const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
      if (shardUp(metrics, victim) !== '0') throw new Error(`shard ${victim} is ${shardUp(metrics, victim)} in the metrics`);
      t.deepEqual([0, 2].map((i) => shardUp(metrics, i)), ['1', '1'], 'the other shards are up');
    }, 'the stopped shard in the metrics', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    t.is((await fetch(`${b.httpUrl}/readyz`)).status, 200, 'the node stays ready while other shards are up');
    // Calls for client ids on the victim shard fail at once with UNAVAILABLE naming the shard…
    for (const id of byShard.get(victim)!) {
      const got = await outcome(a.rpc.sendMessage(toClient(id, 'during')));
      if (!('err' in got)) {
        t.fail(`SendMessage to ${id} on the stopped shard: ${'hung' in got ? 'no answer within 5 s' : `succeeded with ${JSON.stringify(got.ok)}`}`);
        continue;
      }
      t.is(grpc.status[got.err.code], 'UNAVAILABLE', `${id}: ${got.err.details}`);
      t.regex(got.err.details, unavailable, `${id}: the details name the stopped shard`);
      for (const other of [0, 2]) t.false(got.err.details.includes(`:${shards.shard(other).port}`), `${id}: "${got.err.details}" names a shard that is up`);
    }
    // … and calls that need only the other shards succeed, from either node.
    for (const [i, id] of elsewhere.entries()) {
      const got = await outcome((i % 2 === 0 ? a : b).rpc.sendMessage(toClient(id, 'during')));
      t.true('ok' in got, `SendMessage to ${id} on a shard that is up: ${'err' in got ? got.err.details : 'no answer within 5 s'}`);
    }
    await live.socket.until(() => live.socket.messages.some((m) => m.data === 'during'), 'the message sent during the outage, on a shard that is up');
    // A topic on a shard that is up, with its member there too, broadcasts; one on the victim fails naming it.
    const upBroadcast = await outcome(b.rpc.broadcast({ message: 'room during', clientIds: [], topics: [roomElsewhere!] }));
    t.true('ok' in upBroadcast, `Broadcast to a topic on a shard that is up: ${'err' in upBroadcast ? upBroadcast.err.details : 'no answer within 5 s'}`);
    await live.socket.until(() => live.socket.topicMessages(roomElsewhere!).some((m) => m.data === 'room during'), 'the broadcast during the outage');
    const downBroadcast = await outcome(b.rpc.broadcast({ message: 'room during', clientIds: [], topics: [roomOnVictim!] }));
    t.true('err' in downBroadcast && downBroadcast.err.code === grpc.status.UNAVAILABLE, `Broadcast to a topic on the stopped shard: ${JSON.stringify(downBroadcast)}`);
    if ('err' in downBroadcast) t.regex(downBroadcast.err.details, unavailable, 'the details name the stopped shard');
    const presence = await outcome(a.rpc.getPresence({ clientIds: elsewhere.slice(0, 4) }));
    t.true('ok' in presence, `GetPresence of client ids on shards that are up: ${'err' in presence ? presence.err.details : 'no answer'}`);
    if ('ok' in presence) t.deepEqual(presence.ok.clients.map((c) => c.connected), [true, false, false, false], 'only the first has a socket');

    // The shard comes back empty (no persistence): everything works again.
    await redis.launch();
    await untilOk(async () => {
      const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
      if (shardUp(metrics, victim) !== '1') throw new Error(`shard ${victim} is ${shardUp(metrics, victim)} in the metrics`);
    }, 'the shard back in the metrics', 20_000);
    for (const id of byShard.get(victim)!) await untilOk(() => a.rpc.sendMessage(toClient(id, 'after')), `SendMessage to ${id} after the shard came back`);
    for (const id of elsewhere.slice(0, 4)) await a.rpc.sendMessage(toClient(id, 'after'));
    // The socket held through the outage gets what was sent after it, in a new epoch it is told of.
    await held.socket.until(() => held.socket.closeCode !== undefined || held.socket.messages.some((m) => m.data === 'after'), 'the message sent after the shard came back', 15_000).catch(() => undefined);
    t.is(held.socket.closeCode, undefined, `the socket on the victim shard stayed open; frames ${JSON.stringify(held.socket.frames)}`);
    t.true(held.socket.messages.some((m) => m.data === 'after'), `it got the message sent after; frames ${JSON.stringify(held.socket.frames)}`);
    const lastWelcome = welcomes(held.socket).at(-1)!;
    if (welcomes(held.socket).length > 1) t.false(lastWelcome[3], 'a new epoch is announced as not recovered');
    await untilOk(async () => {
      const [state] = (await b.rpc.getPresence({ clientIds: [onVictim!] })).clients;
      if (state?.connected !== true) throw new Error('not connected');
    }, 'the held socket is registered again (GetPresence CONNECTED)', 15_000);
    // The client that left before the outage resumes: its history on that shard is gone, and it is told.
    const resumed = new RawSocket(a.wsUrl, sleeper.token, { resume: sleeperAt });
    t.teardown(() => resumed.ws.terminate());
    await resumed.until(() => resumed.welcome !== undefined || resumed.closeCode !== undefined, 'the resumed welcome');
    t.not(resumed.welcome, undefined, `resume refused: ${resumed.closeCode} ${resumed.closeReason}`);
    t.false(resumed.welcome![3], `resuming across lost data says "not recovered": ${JSON.stringify(resumed.welcome)}`);
    t.not(resumed.welcome![1], sleeperAt.epoch, 'in a new epoch');
    await resumed.until(() => resumed.messages.some((m) => m.data === 'after'), 'the message sent after the shard came back');
    await a.rpc.sendMessage(toClient(sleeperId, 'later'));
    await resumed.until(() => resumed.messages.some((m) => m.data === 'later'), 'a live message');
    // The other shards kept their data: a socket there resumes recovered.
    live.socket.close();
    await live.socket.closed;
    const liveAt = { epoch: live.socket.welcome![1] as string, seq: live.socket.messages.at(-1)!.seq };
    const back = new RawSocket(a.wsUrl, live.token, { resume: liveAt });
    t.teardown(() => back.ws.terminate());
    await back.until(() => back.welcome !== undefined || back.closeCode !== undefined, 'the welcome on a shard that stayed up');
    t.deepEqual(back.welcome, [0, liveAt.epoch, liveAt.seq, true], 'recovered, in the same epoch, where it was');
    await a.rpc.sendMessage(toClient(elsewhere[0]!, 'later'));
    await back.until(() => back.messages.some((m) => m.data === 'later'), 'a live message after the resume');
    t.deepEqual(back.messages.map((m) => m.seq), [liveAt.seq + 1], 'nothing again, nothing skipped');
    held.socket.close();
  });

  test('shards - WatchPresence across 3 shards: every change once, and a watcher resuming from any cursor gets exactly the changes after it', async (t) => {
    t.timeout(60_000);
    const shards = await TestRedisShards.start(3);
    t.teardown(() => shards.dispose());
    const [a, b] = await twoNodes(t, shards, 'watch');
    const keys = new RedisKeys('watch');
    const watch = new PresenceStream(a.client, { clientIdPrefix: 'pw-', snapshot: true }, a.metadata);
    t.teardown(() => watch.cancel());
    await watch.untilSnapshotComplete();
    const sockets = new Map<string, RawSocket>();
    const connectOn = async (i: number): Promise<void> => {
      const id = `pw-${i}`;
      sockets.set(id, (await connect(i % 2 === 0 ? a : b, id)).socket);
    };
    const disconnect = async (i: number): Promise<void> => {
      const socket = sockets.get(`pw-${i}`)!;
      socket.close();
      await socket.closed;
    };
    for (let i = 0; i < 12; i++) await connectOn(i);
    const shardsOf = new Set(await Promise.all([...sockets.keys()].map((id) => shards.holding(keys.channel(id)))));
    t.deepEqual([...shardsOf].sort(), [0, 1, 2], 'the watched client ids spread over every shard');
    await watch.until(() => watch.events.length >= 12, '12 CONNECTED');
    const cursorAt = watch.events[11]!.cursor;
    const midCursor = watch.events[5]!.cursor;
    watch.cancel();
    await watch.done;

    // While no one watches: 6 leave, 4 more come.
    for (let i = 0; i < 6; i++) await disconnect(i);
    for (let i = 12; i < 16; i++) await connectOn(i);
    const since = [
      ...Array.from({ length: 6 }, (_, i) => [`pw-${i}`, 'DISCONNECTED']),
      ...Array.from({ length: 4 }, (_, i) => [`pw-${i + 12}`, 'CONNECTED']),
    ];
    const changes = (events: readonly PresenceEvent[]): string[][] => events.map((e) => [e.clientId, stateName(e.state)]);
    const sorted = (list: string[][]): string[] => list.map((c) => c.join(' ')).sort();

    // Resumed from the last cursor it saw: exactly the changes since, each once, no snapshot.
    const resumed = new PresenceStream(b.client, { clientIdPrefix: 'pw-', cursor: cursorAt }, b.metadata);
    t.teardown(() => resumed.cancel());
    await resumed.until(() => resumed.events.length >= since.length || resumed.snapshotComplete !== undefined, 'the changes since the cursor');
    t.is(resumed.snapshotComplete, undefined, `the resume did not fall back to a snapshot: ${JSON.stringify(resumed.summary())}`);
    // Then live changes, from client ids on every shard, after anything older.
    for (let i = 6; i < 12; i++) await disconnect(i);
    const live = Array.from({ length: 6 }, (_, i) => [`pw-${i + 6}`, 'DISCONNECTED']);
    await resumed.until(() => resumed.events.length >= since.length + live.length, 'the live changes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.deepEqual(sorted(changes(resumed.events).slice(0, since.length)), sorted(since), `the changes while away, each once: ${JSON.stringify(brief(resumed.events))}`);
    t.deepEqual(sorted(changes(resumed.events).slice(since.length)), sorted(live), 'then the live ones, each once');
    t.is(resumed.events.length, since.length + live.length, 'nothing twice');

    // From an older cursor (after 6 of the first 12): the other 6 CONNECTED, then the same changes.
    const older = new PresenceStream(a.client, { clientIdPrefix: 'pw-', cursor: midCursor }, a.metadata);
    t.teardown(() => older.cancel());
    const expected = [...changes(watch.events.slice(6, 12)), ...since, ...live];
    await older.until(() => older.events.length >= expected.length || older.snapshotComplete !== undefined, 'every change after the older cursor');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.is(older.snapshotComplete, undefined, 'no snapshot');
    t.deepEqual(sorted(changes(older.events)), sorted(expected), `exactly the changes after the older cursor: ${JSON.stringify(brief(older.events))}`);
    // Each resumed event's cursor resumes after that event: from the last, nothing comes.
    const end = new PresenceStream(b.client, { clientIdPrefix: 'pw-', cursor: older.events.at(-1)!.cursor, snapshot: false }, b.metadata);
    t.teardown(() => end.cancel());
    await disconnect(12);
    await end.until(() => end.events.length >= 1, 'the one change after the last cursor');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.deepEqual(changes(end.events), [['pw-12', 'DISCONNECTED']]);
  });
  // A change made while a resumed watcher is still catching up must come once: from the history
  // read or from the live feed, not from both. On one Redis as well, to tell the layouts apart.
  for (const layout of [
    { title: 'one Redis', start: (): Promise<RedisLayout> => TestRedis.start() },
    { title: '3 shards', start: (): Promise<RedisLayout> => TestRedisShards.start(3) },
  ]) {
    test(`shards - WatchPresence resumed from a cursor, ${layout.title}: a change made as it opens comes once`, async (t) => {
      t.timeout(60_000);
      const redis = await layout.start();
      t.teardown(() => redis.dispose());
      const [a, b] = await twoNodes(t, redis, 'resume');
      const rounds = 20;
      const twice: string[] = [];
      for (let i = 0; i < rounds; i++) {
        const id = `resume-${i}`;
        const watch = new PresenceStream(a.client, { clientIds: [id], snapshot: true }, a.metadata);
        const resumed: PresenceStream[] = [];
        try {
          await watch.untilSnapshotComplete();
          const { socket } = await connect(i % 2 === 0 ? a : b, id);
          await watch.untilEventsFor(id, 1);
          resumed.push(new PresenceStream((i % 2 === 0 ? b : a).client, { clientIds: [id], cursor: watch.events[0]!.cursor }, a.metadata));
          socket.close();
          await socket.closed;
          await resumed[0]!.untilEventsFor(id, 1);
          // Long enough for a second copy to arrive: the watcher and the socket are on this machine.
          await new Promise((resolve) => setTimeout(resolve, 150));
          if (resumed[0]!.events.length !== 1) twice.push(`round ${i}: ${JSON.stringify(resumed[0]!.events.map((e) => [e.clientId, stateName(e.state), e.cursor]))}`);
        } finally {
          watch.cancel();
          for (const r of resumed) r.cancel();
        }
      }
      t.deepEqual(twice, [], `${twice.length} of ${rounds} resumed watchers got the change more than once`);
    });
  }
}
