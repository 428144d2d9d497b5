import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { ChannelMessage, Epoch, StreamPosition, Topic } from '../src/core/types.js';
import type { HistoryResult } from '../src/engine/engine.js';
import { RedisEngine, type RedisEngineOptions } from '../src/engine/redis.js';
import { RedisKeys } from '../src/engine/redis/keys.js';
import type { Connection } from '../src/engine/redis/streams.js';
import { TopicFeed, type TopicWire } from '../src/engine/redis/topic-feed.js';
import { RecordingHandler } from './helpers/engine-contract.js';
import { ManualClock } from './helpers/manual-clock.js';
import { redisAvailability, RedisSwitch, TestRedis, TestRedisCluster, TestRedisShards } from './helpers/redis.js';
import { layoutOptions, type RedisLayout } from './helpers/redis-nodes.js';
import { startTestServer } from './helpers/server.js';
import { RawSocket, type Frame } from './helpers/socket.js';
import { Signal, untilOk } from './helpers/wait.js';

const availability = redisAvailability();
const silent = pino({ level: 'silent' });
let prefixes = 0;

/** Where an engine's state lives besides `redisUrl`: a Redis Cluster's nodes, or independent shards. */
type Layout = Pick<RedisEngineOptions, 'clusterNodes' | 'shards'>;

/** The engine options of these tests; each engine gets its own key space unless `prefix` is given. */
function engineOn(redisUrl: string, prefix = `fault${++prefixes}`, logger: Logger = silent, layout: Layout = { clusterNodes: [] }): RedisEngine {
  return new RedisEngine(
    {
      replayBufferSize: 1000,
      replayWindowMs: 600_000,
      presenceHistorySize: 100,
      redisUrl,
      prefix,
      nodeLeaseMs: 5000,
      sentinels: [],
      sentinelName: '',
      ...layout,
    },
    new ManualClock(),
    logger,
  );
}

/** Every unhandled rejection while a test runs: the engine must never leave one behind. */
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));



/**
 * What a client that has everything up to `position` takes from a resume answered with `result`,
 * by the protocol's rule: in the same epoch it keeps the higher of its seq and the server's and
 * drops what is not above it as already seen.
 */
function takenBy(position: StreamPosition, result: HistoryResult): string[] {
  const from = result.epoch === position.epoch ? Math.max(position.seq, result.fromSeq) : result.fromSeq;
  return result.messages.filter((m) => m.seq > from).map((m) => m.data);
}

/**
 * Every message answered OK after the reader's position reaches the resumed reader, or the
 * resume says "not recovered" (and still holds them, as they are kept): never skipped silently.
 */
function assertNothingSkipped(t: ExecutionContext, what: string, position: StreamPosition, result: HistoryResult, acknowledged: readonly string[]): void {
  const taken = takenBy(position, result);
  const skipped = acknowledged.filter((data) => !taken.includes(data));
  if (result.recovered) t.deepEqual(skipped, [], `${what}: a resume answered "recovered" must give every acknowledged message`);
  t.deepEqual(
    acknowledged.filter((data) => !result.messages.some((m) => m.data === data)),
    [],
    `${what}: every acknowledged message is kept`,
  );
}

interface OlderDataScenario {
  /** Where the engine connects. */
  readonly url: string;
  /** The point the data goes back to. */
  snapshot(): Promise<void>;
  /** Redis comes back with the data of the snapshot (or none). */
  fail(): Promise<void>;
  /** A Redis a node started after the fault connects to. */
  readonly urlAfter: () => string;
  /** With independent shards: them (then `url` and `urlAfter` are unused). */
  readonly shards?: readonly string[];
}

/**
 * Messages before the snapshot, messages after it that a reader has, then the fault, then more
 * messages answered OK: the reader resumes from what it had, on a channel and on a topic.
 */
async function backWithOlderData(t: ExecutionContext, scenario: OlderDataScenario): Promise<void> {
  const prefix = 'older';
  const layout: Layout = { clusterNodes: [], ...(scenario.shards === undefined ? {} : { shards: scenario.shards }) };
  const engine = engineOn(scenario.url, prefix, silent, layout);
  const handler = new RecordingHandler();
  await engine.start(handler);
  let late: RedisEngine | undefined;
  try {
    await engine.attach('reader', 'socket-1', 0);
    await engine.subscribe(['reader'], 'news', 10);
    await engine.followTopic('news');
    for (const i of [1, 2, 3]) {
      await engine.publish('reader', `c${i}`);
      await engine.publishTopic('news', `t${i}`);
    }
    await scenario.snapshot();
    let channelAt: StreamPosition = { epoch: '', seq: 0 };
    let topicAt: StreamPosition = { epoch: '', seq: 0 };
    for (const i of [4, 5, 6]) {
      const sent = await engine.publish('reader', `c${i}`);
      channelAt = { epoch: sent.epoch, seq: sent.seq };
      const broadcast = await engine.publishTopic('news', `t${i}`);
      topicAt = { epoch: broadcast.epoch, seq: broadcast.seq };
    }
    await handler.until(() => handler.messages.some((m) => m.message.data === 'c6') && handler.topicMessages.some((m) => m.message.data === 't6'));
    const liveBefore = { channel: handler.messages.length, topic: handler.topicMessages.length };
    await scenario.fail();
    const channelAcks: string[] = [];
    const topicAcks: string[] = [];
    for (const i of [7, 8, 9]) {
      await untilOk(() => engine.publish('reader', `c${i}`), 'publish after the fault');
      channelAcks.push(`c${i}`);
      await untilOk(() => engine.publishTopic('news', `t${i}`), 'publishTopic after the fault');
      topicAcks.push(`t${i}`);
    }
    // A node that starts only now, against whatever Redis holds now.
    late = engineOn(scenario.urlAfter(), prefix, silent, layout);
    await late.start(new RecordingHandler());
    await late.publish('reader', 'c10');
    channelAcks.push('c10');
    await late.publishTopic('news', 't10');
    topicAcks.push('t10');

    assertNothingSkipped(t, 'channel', channelAt, await engine.history('reader', channelAt), channelAcks);
    assertNothingSkipped(t, 'topic', topicAt, await engine.topicHistory('news', topicAt), topicAcks);
    // Live deliveries after the fault: one a client would take as already seen must come in a
    // new epoch, so the client is told (a new welcome) rather than drop it.
    const skippable = (at: StreamPosition, epoch: Epoch, seq: number): boolean => epoch === at.epoch && seq <= at.seq;
    t.deepEqual(
      handler.messages.slice(liveBefore.channel).filter((m) => skippable(channelAt, m.epoch, m.message.seq)).map((m) => m.message.data),
      [],
      'live channel messages a client would skip',
    );
    t.deepEqual(
      handler.topicMessages.slice(liveBefore.topic).filter((m) => skippable(topicAt, m.epoch, m.message.seq)).map((m) => m.message.data),
      [],
      'live topic messages a client would skip',
    );
  } finally {
    await late?.stop();
    await engine.stop();
  }
}

/**
 * A node holds a member socket; Redis restarts without its data; with no command reaching that
 * node, another node's Broadcast must find the member again and the socket must receive it.
 */
async function registeredAgain(
  t: ExecutionContext,
  target: { url: string; layout: Layout },
  restart: () => Promise<void>,
): Promise<void> {
  const prefix = 'lost';
  const lines: { level: number; msg: string; memberships?: number; sockets?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const holder = engineOn(target.url, prefix, logger, target.layout);
  const handler = new RecordingHandler();
  await holder.start(handler);
  // Another node, with no sockets: the backend's Broadcast reaches this one.
  const other = engineOn(target.url, prefix, silent, target.layout);
  await other.start(new RecordingHandler());
  try {
    await holder.attach('member', 'socket-1', 0);
    t.is(await holder.subscribe(['member'], 'news', 10), 1);
    await holder.memberships('member');
    await holder.followTopic('news');
    t.is((await other.publishTopic('news', 'before')).members, 1);
    await handler.until(() => handler.topicMessages.some((m) => m.message.data === 'before'));
    await restart();
    // No command reaches the holder: it must notice on its own that Redis lost its data.
    // Partitioned, the topic lists its member again and the client's own partition its membership, each on its own.
    await untilOk(async () => {
      const topics = (await other.memberships('member')).map((m) => m.topic);
      if (topics.length === 0) throw new Error('no memberships yet');
    }, 'the client\'s membership back', 15_000);
    const after = await untilOk(async () => {
      const sent = await other.publishTopic('news', 'after');
      if (sent.members !== 1) throw new Error(`members: ${sent.members}`);
      return sent;
    }, 'the membership back', 15_000);
    await handler.until(() => handler.topicMessages.some((m) => m.message.data === 'after'));
    t.deepEqual((await other.memberships('member')).map((m) => m.topic), ['news']);
    const before = handler.topicMessages.find((m) => m.message.data === 'before')!;
    t.not(after.epoch, before.epoch, 'the topic\'s history was lost: a new epoch says so');
    const direct = await other.publish('member', 'to the socket');
    t.true(direct.connected, 'the socket is registered again');
    await handler.until(() => handler.messages.some((m) => m.message.data === 'to the socket'));
    t.true((await other.presence(['member']))[0]!.connected);
    // One warning per partition that came back; the one of the member's partition says what it did.
    const warned = lines.find((l) => l.level === 40 && l.memberships !== undefined && l.sockets === 1);
    t.like(warned, { sockets: 1, memberships: 1 }, 'a warning says what was registered again');
  } finally {
    await other.stop();
    await holder.stop();
  }
}

/**
 * What a client following the protocol (docs/protocol.md) delivers from `frames` for the channel
 * (topic undefined) or one topic: a welcome in the same epoch keeps the higher position, one in
 * another epoch takes its own; a message not above the position is a repeat; topic messages wait
 * for their welcome and for every seq before them.
 */
function deliveredBy(frames: readonly Frame[], topic?: Topic): string[] {
  const delivered: string[] = [];
  let epoch: Epoch | undefined;
  let last = 0;
  const held = new Map<number, string>();
  const drain = (): void => {
    for (const seq of [...held.keys()]) if (seq <= last) held.delete(seq);
    while (held.has(last + 1)) {
      delivered.push(held.get(last + 1)!);
      held.delete(last + 1);
      last++;
    }
  };
  for (const f of frames) {
    const welcome = topic === undefined ? f[0] === 0 : f[0] === 4 && f[1] === topic;
    const message = topic === undefined ? f[0] === 1 : f[0] === 2 && f[1] === topic;
    if (welcome) {
      const [e, seq] = (topic === undefined ? [f[1], f[2]] : [f[2], f[3]]) as [Epoch, number];
      if (e === epoch) last = Math.max(last, seq);
      else [epoch, last] = [e, seq];
      drain();
    } else if (message) {
      const [seq, data] = (topic === undefined ? [f[1], f[2]] : [f[2], f[3]]) as [number, string];
      held.set(seq, data);
      if (epoch !== undefined) drain();
    }
  }
  return delivered;
}

/**
 * A live socket on a real node, a member of a topic: Redis (or some shards) restarts from a
 * snapshot taken midway, and every message answered OK after it must still reach the socket by
 * the protocol's rules, or the socket be told (a new epoch).
 */
async function liveSocketBackWithOlderData(t: ExecutionContext, redis: RedisLayout, save: () => Promise<void>, restart: () => Promise<void>): Promise<void> {
  const node = await startTestServer({ engine: 'redis', ...layoutOptions(redis), redisPrefix: 'live', nodeLeaseSeconds: 5, tokenSecrets: ['redis-faults-token-secret-0123456789abcdef'] });
  try {
    await node.rpc.subscribe({ clientIds: ['viewer'], topic: 'scores' });
    const { token } = await node.createChannel('viewer');
    const socket = new RawSocket(node.wsUrl, token);
    await socket.until(() => socket.topicWelcome('scores') !== undefined, 'topic welcome');
    for (let i = 1; i <= 6; i++) {
      if (i === 4) await save();
      await node.rpc.broadcast({ message: `t${i}`, clientIds: [], topics: ['scores'] });
      await node.send('viewer', `c${i}`);
    }
    await socket.until(() => socket.topicMessages('scores').length === 6 && socket.messages.length === 6, 'the first messages');
    await restart();
    const channelAcks: string[] = [];
    const topicAcks: string[] = [];
    for (let i = 7; i <= 12; i++) {
      await untilOk(() => node.rpc.broadcast({ message: `t${i}`, clientIds: [], topics: ['scores'] }), 'broadcast after the restart');
      topicAcks.push(`t${i}`);
      await untilOk(() => node.send('viewer', `c${i}`), 'send after the restart');
      channelAcks.push(`c${i}`);
    }
    const missing = (): string[] => [
      ...channelAcks.filter((d) => !deliveredBy(socket.frames).includes(d)),
      ...topicAcks.filter((d) => !deliveredBy(socket.frames, 'scores').includes(d)),
    ];
    await socket.until(() => missing().length === 0 || socket.closeCode !== undefined, 'every acknowledged message delivered', 15_000).catch(() => undefined);
    t.deepEqual(missing(), [], `delivered by the protocol's rules; frames ${JSON.stringify(socket.frames)}`);
    t.is(socket.closeCode, undefined, 'the socket stayed open');
    socket.close();
    await socket.closed;
  } finally {
    await node.close();
  }
}

if (!availability.run && availability.fail) {
  test('redis faults - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING redis fault tests: ${availability.why} !!!\n`);
} else {
  test('topic feed - a failed read while catching a topic up is retried, and the feed keeps passing messages on', async (t) => {
    const redis = await TestRedis.start();
    const prefix = `feed${++prefixes}`;
    const publisher = engineOn(redis.url, prefix);
    await publisher.start(new RecordingHandler());
    const subscriber = new Redis(redis.url);
    const command = new Redis(redis.url);
    const before = unhandled.length;
    let failNext = false;
    let dropLive = false;
    const emitted: { topic: Topic; epoch: Epoch; message: ChannelMessage }[] = [];
    const signal = new Signal();
    const feed = new TopicFeed({
      at: () => ({
        keys: new RedisKeys(prefix),
        subscribe: async (...channels: string[]) => void (await subscriber.subscribe(...channels)),
        unsubscribe: async (...channels: string[]) => void (await subscriber.unsubscribe(...channels)),
        // The injected fault: the next read of the feed fails, as one does while Redis comes back.
        call: async <T>(fn: (r: Connection) => Promise<T>): Promise<T> => {
          if (failNext) {
            failNext = false;
            throw new Error('injected: connection is closed');
          }
          return fn(command);
        },
      }),
      emit: (topic, epoch, message) => {
        emitted.push({ topic, epoch, message });
        signal.notify();
      },
      log: silent,
    });
    subscriber.on('message', (_channel: string, text: string) => {
      // Pub/sub is at most once: these messages are lost on the way, as during a reconnect.
      if (!dropLive) feed.receive(JSON.parse(text) as TopicWire);
    });
    const seqs = (): number[] => emitted.map((e) => e.message.seq);
    try {
      await feed.follow('news');
      for (const m of ['1', '2', '3']) await publisher.publishTopic('news', m);
      await signal.until(() => emitted.length === 3, 'the first three messages', () => `got ${seqs()}`);
      dropLive = true;
      for (const m of ['4', '5']) await publisher.publishTopic('news', m);
      dropLive = false;
      // The feed was down and is back: its catch-up read fails once; nobody else will ask again.
      failNext = true;
      feed.catchUp();
      await signal.until(() => emitted.length === 5, 'the missed messages, from a retried catch-up', () => `got ${seqs()}`);
      for (const m of ['6', '7']) await publisher.publishTopic('news', m);
      await signal.until(() => emitted.length === 7, 'live messages after the failure', () => `got ${seqs()}`);
      t.deepEqual(seqs(), [1, 2, 3, 4, 5, 6, 7]);
      // A failed gap fill on a live message is retried as well.
      dropLive = true;
      await publisher.publishTopic('news', '8');
      dropLive = false;
      failNext = true;
      await publisher.publishTopic('news', '9');
      await signal.until(() => emitted.length === 9, 'a gap filled after a failed read', () => `got ${seqs()}`);
      t.deepEqual(seqs(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      t.deepEqual(unhandled.slice(before), [], 'no unhandled rejection');
    } finally {
      await feed.unfollow('news');
      subscriber.disconnect();
      command.disconnect();
      await publisher.stop();
      await redis.dispose();
    }
  });

  test('redis back with older data - a restart from an older RDB snapshot starts new epochs, never reused seqs', async (t) => {
    const redis = await TestRedis.start({ snapshots: true });
    try {
      await backWithOlderData(t, {
        url: redis.url,
        urlAfter: () => redis.url,
        snapshot: () => redis.save(),
        fail: () => redis.restart(),
      });
    } finally {
      await redis.dispose();
    }
  });

  test('redis back with older data - a fail-over to a replica that lagged behind its master starts new epochs', async (t) => {
    const master = await TestRedis.start({ snapshots: true });
    const replica = await TestRedis.start({ replicaOf: master });
    const front = await RedisSwitch.start(master);
    try {
      await backWithOlderData(t, {
        url: front.url,
        urlAfter: () => replica.url,
        snapshot: async () => {
          // The replica has everything so far, then loses its master: later writes never reach it.
          await untilOk(async () => {
            if (Number(await master.command('WAIT', 1, 1000)) < 1) throw new Error('replica not in sync');
          }, 'replica in sync');
          await replica.command('REPLICAOF', 'NO', 'ONE');
        },
        fail: async () => {
          await master.stop();
          front.switchTo(replica);
        },
      });
    } finally {
      await front.stop();
      await Promise.all([master.dispose(), replica.dispose()]);
    }
  });

  test('redis back with older data - a restart without persistence loses everything and says so', async (t) => {
    const redis = await TestRedis.start();
    try {
      await backWithOlderData(t, {
        url: redis.url,
        urlAfter: () => redis.url,
        snapshot: async () => undefined,
        fail: () => redis.restart(),
      });
    } finally {
      await redis.dispose();
    }
  });

  test('redis back without its data - a node registers its sockets and their topic memberships again, and says so', async (t) => {
    const redis = await TestRedis.start();
    try {
      await registeredAgain(t, { url: redis.url, layout: { clusterNodes: [] } }, () => redis.restart());
    } finally {
      await redis.dispose();
    }
  });

  test('redis back without its data - on a Redis Cluster too', async (t) => {
    const cluster = await TestRedisCluster.start(3);
    try {
      await registeredAgain(t, { url: 'redis://', layout: { clusterNodes: cluster.nodes } }, () => cluster.restart());
    } finally {
      await cluster.stop();
    }
  });

  test('redis run id - a node that has not booted against the Redis process now serving boots again and retries', async (t) => {
    const redis = await TestRedis.start();
    const prefix = 'stale';
    const engine = engineOn(redis.url, prefix);
    await engine.start(new RecordingHandler());
    try {
      const first = await engine.publish('s', 'one');
      // As if another node had booted against a Redis process this node has not seen.
      await redis.command('SET', `${prefix}:rid`, 'another-process');
      const second = await engine.publish('s', 'two');
      t.deepEqual([second.epoch, second.seq], [first.epoch, 2], 'same process after all: the epoch stands');
      t.not(await redis.command('GET', `${prefix}:rid`), 'another-process');
    } finally {
      await engine.stop();
      await redis.dispose();
    }
  });

  test('redis back with older data - a live socket on a real node gets every acknowledged message, or is told', async (t) => {
    const redis = await TestRedis.start({ snapshots: true });
    try {
      await liveSocketBackWithOlderData(t, redis, () => redis.save(), () => redis.restart());
    } finally {
      await redis.dispose();
    }
  });

  // The shards that hold the socket's channel and its topic come back older; the third is untouched.
  test('redis shard back with older data - a live socket on a real node over 3 shards gets every acknowledged message, or is told', async (t) => {
    const shards = await TestRedisShards.start(3, { snapshots: true });
    const keys = new RedisKeys('live');
    try {
      await liveSocketBackWithOlderData(t, shards, () => shards.save(), async () => {
        t.log(`restarted shards ${(await shards.restartHolding(keys.channel('viewer'), keys.topic('scores'))).join(', ')}`);
      });
    } finally {
      await shards.dispose();
    }
  });

  for (const [title, snapshots] of [
    ['a shard restart from an older RDB snapshot starts new epochs, never reused seqs', true],
    ['a shard restart without persistence loses its part and says so', false],
  ] as const) {
    test(`redis shard back with older data - ${title}`, async (t) => {
      const shards = await TestRedisShards.start(3, { snapshots });
      const keys = new RedisKeys('older');
      try {
        await backWithOlderData(t, {
          url: 'redis://',
          urlAfter: () => 'redis://',
          shards: shards.urls,
          snapshot: snapshots ? () => shards.save() : async () => undefined,
          fail: async () => void (await shards.restartHolding(keys.channel('reader'), keys.topic('news'))),
        });
      } finally {
        await shards.dispose();
      }
    });
  }

  test('redis shard back without its data - a node registers its sockets and their topic memberships again on 3 shards too', async (t) => {
    const shards = await TestRedisShards.start(3);
    const keys = new RedisKeys('lost');
    try {
      await registeredAgain(t, { url: 'redis://', layout: { clusterNodes: [], shards: shards.urls } }, async () => {
        t.log(`restarted shards ${(await shards.restartHolding(keys.channel('member'), keys.topic('news'))).join(', ')}`);
      });
    } finally {
      await shards.dispose();
    }
  });
}
