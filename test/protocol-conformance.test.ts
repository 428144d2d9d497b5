import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import WebSocket from 'ws';
import { PresenceReason } from '../gen/ts/channel/v1/channel.js';
import { channelSeqViolations, framesAfterLeft, framesBeforeWelcome, layoutViolations, show, topicSeqViolations } from './helpers/frame-order.js';
import { PresenceStream, toClient } from './helpers/grpc.js';
import { ManualClock } from './helpers/manual-clock.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { startRedisNode } from './helpers/redis-nodes.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket, type Frame } from './helpers/socket.js';

// docs/protocol.md, checked over raw WebSockets: one table of cases, run against each engine.
// Besides what each case asserts, every socket a case opens is held to the rules that apply to
// all frames: documented layouts, nothing before the welcome, channel seqs that follow each
// welcome one by one, and topic messages only inside a topic welcome, in seq order.

type Engine = 'memory' | 'redis';

interface Target {
  readonly engine: Engine;
  readonly ts: TestServer;
  /** The server's clock: tokens expire and messages age only when a case moves it. */
  readonly clock: ManualClock;
  /** A separate node of the same engine, for a case that shuts one down. */
  startNode(): Promise<TestServer>;
}

const REPLAY_WINDOW_SECONDS = 60;
const REPLAY_BUFFER_SIZE = 1000;
const SEND_BUFFER_BYTES = 65_536;
const SERVER_OPTIONS = { replayWindowSeconds: REPLAY_WINDOW_SECONDS, replayBufferSize: REPLAY_BUFFER_SIZE, socketSendBufferBytes: SEND_BUFFER_BYTES };

const test = anyTest as TestFn<{ targets: Map<Engine, Target>; redis: TestRedis | undefined; extra: TestServer[] }>;
const redisHere = redisAvailability();

if (!redisHere.run && redisHere.fail) {
  test('conformance - redis-server is installed (CI=true)', (t) => t.fail(redisHere.why));
} else if (!redisHere.run) {
  console.warn(`\n!!! SKIPPING protocol conformance on the redis engine: ${redisHere.why} !!!\n`);
}

let prefixes = 0;
test.before(async (t) => {
  const targets = new Map<Engine, Target>();
  const extra: TestServer[] = [];
  t.context = { targets, redis: undefined, extra };
  const memoryClock = new ManualClock();
  targets.set('memory', {
    engine: 'memory',
    ts: await startTestServer({ clock: memoryClock, ...SERVER_OPTIONS }),
    clock: memoryClock,
    async startNode() {
      const node = await startTestServer(SERVER_OPTIONS);
      extra.push(node);
      return node;
    },
  });
  if (!redisHere.run) return;
  const redis = await TestRedis.start();
  t.context.redis = redis;
  const redisClock = new ManualClock();
  targets.set('redis', {
    engine: 'redis',
    ts: await startRedisNode(redis, 'conformance', { clock: redisClock, ...SERVER_OPTIONS }),
    clock: redisClock,
    async startNode() {
      // Its own key space: its shutdown must not touch the main node's clients.
      const node = await startRedisNode(redis, `conformance-extra-${++prefixes}`, SERVER_OPTIONS);
      extra.push(node);
      return node;
    },
  });
});

test.after.always(async (t) => {
  await Promise.all([...(t.context.targets?.values() ?? [])].map((target) => target.ts.close()));
  await Promise.all((t.context.extra ?? []).map((node) => node.close()));
  await t.context.redis?.stop();
});

let ids = 0;
const unique = (name: string): string => `${name}-${++ids}`;

/** The sockets one case opens: each is checked against the rules for all frames, then closed. */
class Sockets {
  private readonly all: RawSocket[] = [];

  constructor(private readonly ts: TestServer) {}

  open(token: string | undefined, opts: ConstructorParameters<typeof RawSocket>[2] = {}, url = this.ts.wsUrl): RawSocket {
    const socket = new RawSocket(url, token, opts);
    this.all.push(socket);
    return socket;
  }

  /** Opens a socket and resolves once its welcome came; throws if it closed instead. */
  async welcomed(token: string, opts: ConstructorParameters<typeof RawSocket>[2] = {}, url = this.ts.wsUrl): Promise<RawSocket> {
    const socket = this.open(token, opts, url);
    await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'the welcome');
    if (socket.welcome === undefined) throw new Error(`closed before its welcome: ${socket.closeCode} ${socket.closeReason}`);
    return socket;
  }

  check(t: ExecutionContext): void {
    this.all.forEach((socket, i) => {
      t.deepEqual(layoutViolations(socket.frames), [], `socket ${i}: frames off the documented layouts in ${show(socket.frames)}`);
      t.deepEqual(framesBeforeWelcome(socket.frames), [], `socket ${i}: frames before the welcome in ${show(socket.frames)}`);
      t.deepEqual(channelSeqViolations(socket.frames), [], `socket ${i}: channel seqs in ${show(socket.frames)}`);
      t.deepEqual(topicSeqViolations(socket.frames), [], `socket ${i}: topic frames in ${show(socket.frames)}`);
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all(
      this.all.map(async (socket) => {
        if (socket.closeCode === undefined) socket.ws.terminate();
        await socket.closed;
      }),
    );
  }
}

interface Case {
  readonly name: string;
  run(t: ExecutionContext, target: Target, sockets: Sockets): Promise<void>;
}

/** Sends a channel message and waits for it: whatever the server sent that socket before is in. */
async function barrier(ts: TestServer, clientId: string, socket: RawSocket, label = 'barrier'): Promise<void> {
  await ts.send(clientId, label);
  await socket.until(() => socket.messages.some((m) => m.data === label), `the barrier "${label}"`);
}

function indexOf(frames: readonly Frame[], predicate: (f: Frame) => boolean): number {
  return frames.findIndex(predicate);
}

/** A raw upgrade that must be refused: resolves with the HTTP status. */
function refusedWith(url: string, protocols: string[]): Promise<number> {
  const ws = new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`the upgrade of ${url} with ${protocols.join(', ')} was accepted`));
    });
    ws.once('error', () => undefined);
  });
}

/** Presence changes of one client id, from the moment this resolves. */
async function watchPresence(ts: TestServer, clientId: string): Promise<PresenceStream> {
  const stream = new PresenceStream(ts.client, { clientIds: [clientId], snapshot: true }, ts.metadata);
  await stream.untilSnapshotComplete();
  return stream;
}

/** The raw TCP stream under a ws client, to stop reading as a stalled browser would. */
function tcpOf(socket: RawSocket): { pause(): void; resume(): void } {
  return (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}

/** How often a slow-consumer case sends before giving up on the server closing the socket. */
const SLOW_SEND_LIMIT = 900;
const BIG = 'x'.repeat(30_000);

const protocolErrors: readonly { kind: string; url?: string; before?: (socket: RawSocket) => void; payload: string | Buffer }[] = [
  { kind: 'a binary frame', payload: Buffer.from([1, 2, 3]) },
  { kind: 'invalid JSON', payload: 'hello' },
  { kind: 'JSON that is not an array', payload: '{"type":3}' },
  { kind: 'an unknown frame type', payload: '[9,1]' },
  { kind: 'a server frame type sent by the client (a welcome)', payload: '[0,"e",0,true]' },
  { kind: 'an ack with a negative seq', payload: '[3,-1]' },
  { kind: 'an ack with a seq that is a string', payload: '[3,"1"]' },
  { kind: 'a topic ack without a topic name', payload: '[3,1,""]' },
  { kind: 'a frame over the 16 KiB payload limit', payload: `[3,${'1'.repeat(20_000)}]` },
  { kind: 'a topic resume frame that was not announced (no topics=1)', payload: '[5,[["news","e",1]]]' },
  { kind: 'another frame before the announced topic resume frame', url: '?topics=1', payload: '[3,0]' },
  {
    kind: 'a second topic resume frame',
    url: '?topics=1',
    before: (socket) => socket.ws.send(JSON.stringify([5, [['news', 'e', 1]]])),
    payload: '[5,[["news","e",2]]]',
  },
];

const CASES: readonly Case[] = [
  // ---- §2 frame order and the welcome ----
  {
    name: 'frame order - a fresh open gets the welcome [0, epoch, 0, true] first, then what was sent before it, in seq order',
    async run(t, { ts }, sockets) {
      const id = unique('fresh');
      const { token } = await ts.createChannel(id);
      const first = await ts.send(id, 'hello');
      await ts.send(id, '{"n":2}');
      const socket = await sockets.welcomed(token);
      await socket.untilMessages(2);
      t.deepEqual(socket.frames, [
        [0, first.epoch, 0, true],
        [1, 1, 'hello'],
        [1, 2, '{"n":2}'],
      ]);
      t.is(socket.ws.protocol, 'channeld.v1', 'the server selects channeld.v1');
    },
  },
  {
    name: 'frame order - messages sent while the socket opens: the welcome still comes first, then every seq once, in order',
    async run(t, { ts }, sockets) {
      const id = unique('racing');
      const { token } = await ts.createChannel(id);
      const socket = sockets.open(token);
      await Promise.all(Array.from({ length: 20 }, (_, i) => ts.send(id, `m${i + 1}`)));
      await socket.untilMessages(20);
      t.is(socket.frames[0]?.[0], 0, `the first frame is the welcome: ${show(socket.frames)}`);
      t.deepEqual(socket.messages.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    },
  },
  {
    name: 'frame order - a member\'s topic welcome [4, topic, epoch, seq, true] comes after the welcome, and its catch-up after it',
    async run(t, { ts }, sockets) {
      const id = unique('member');
      const topic = unique('news');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const sent = await ts.rpc.broadcast({ message: 'while away', clientIds: [], topics: [topic] });
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token);
      await socket.until(() => socket.topicMessages(topic).length === 1, 'the topic catch-up');
      const welcome = indexOf(socket.frames, (f) => f[0] === 0);
      const topicWelcome = indexOf(socket.frames, (f) => f[0] === 4 && f[1] === topic);
      const catchUp = indexOf(socket.frames, (f) => f[0] === 2 && f[1] === topic);
      t.is(welcome, 0);
      t.true(topicWelcome > welcome && catchUp > topicWelcome, `order in ${show(socket.frames)}`);
      t.deepEqual(socket.frames[topicWelcome], [4, topic, sent.topics[0]!.epoch, 0, true]);
      t.deepEqual(socket.topicMessages(topic), [{ seq: 1, data: 'while away' }]);
    },
  },
  {
    name: 'frame order - topic messages broadcast while a member opens: the welcome, the topic welcome, then every topic seq once, in order',
    async run(t, { ts }, sockets) {
      const id = unique('member-racing');
      const topic = unique('busy');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const { token } = await ts.createChannel(id);
      // Broadcasts one after another from before the open until the topic is well under way, so
      // some land during every step of the open.
      let sent = 0;
      let socket: RawSocket | undefined;
      const flowing = (): boolean => socket === undefined || (socket.closeCode === undefined && socket.topicMessages(topic).length < 5);
      const broadcaster = (async () => {
        while (flowing() && sent < 500) {
          await ts.rpc.broadcast({ message: `b${sent + 1}`, clientIds: [], topics: [topic] });
          sent++;
          if (sent === 3) socket = sockets.open(token);
        }
      })();
      await broadcaster;
      const opened = socket!;
      await opened.until(() => opened.topicMessages(topic).length >= sent, `all ${sent} topic messages`);
      t.is(opened.frames[0]?.[0], 0, `the first frame is the welcome: ${show(opened.frames)}`);
      t.deepEqual(opened.topicWelcome(topic)?.slice(0, 2), [4, topic]);
      t.deepEqual(opened.topicMessages(topic).map((m) => m.seq), Array.from({ length: sent }, (_, i) => i + 1));
    },
  },
  {
    name: 'frame order - Subscribe on a live socket sends its topic welcome; Unsubscribe sends [6, topic] and no topic frame follows',
    async run(t, { ts }, sockets) {
      const id = unique('live');
      const topic = unique('live-topic');
      const before = await ts.rpc.broadcast({ message: 'before joining', clientIds: [], topics: [topic] });
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token);
      await ts.rpc.subscribe({ clientIds: [id], topic });
      await socket.until(() => socket.topicWelcome(topic) !== undefined, 'the topic welcome');
      t.deepEqual(socket.topicWelcome(topic), [4, topic, before.topics[0]!.epoch, 1, true], 'it starts after what was sent before joining');
      const during = await ts.rpc.broadcast({ message: 'while a member', clientIds: [], topics: [topic] });
      t.is(during.topics[0]!.members, 1);
      await socket.until(() => socket.topicMessages(topic).length === 1, 'the live topic message');
      await ts.rpc.unsubscribe({ clientIds: [id], topic });
      await socket.until(() => socket.frames.some((f) => f[0] === 6 && f[1] === topic), 'the topic left frame');
      const after = await ts.rpc.broadcast({ message: 'after leaving', clientIds: [], topics: [topic] });
      t.is(after.topics[0]!.members, 0);
      await barrier(ts, id, socket);
      t.deepEqual(framesAfterLeft(socket.frames, topic), []);
      t.deepEqual(socket.topicMessages(topic), [{ seq: 2, data: 'while a member' }]);
    },
  },

  // ---- §1 / §2 resume ----
  {
    name: 'resume - epoch and seq of a lost socket: [0, epoch, seq, true], then exactly what it missed',
    async run(t, { ts }, sockets) {
      const id = unique('resumer');
      const { token } = await ts.createChannel(id);
      const first = await sockets.welcomed(token);
      await ts.send(id, 'a');
      await ts.send(id, 'b');
      await first.untilMessages(2);
      const epoch = first.welcome![1] as string;
      first.ws.terminate();
      await first.closed;
      await ts.send(id, 'c');
      await ts.send(id, 'd');
      const second = await sockets.welcomed(token, { resume: { epoch, seq: 2 } });
      await second.untilMessages(2);
      t.deepEqual(second.frames, [
        [0, epoch, 2, true],
        [1, 3, 'c'],
        [1, 4, 'd'],
      ]);
    },
  },
  {
    name: 'resume - a position in another epoch: recovered false, then every kept message',
    async run(t, { ts }, sockets) {
      const id = unique('other-epoch');
      const { token } = await ts.createChannel(id);
      const sent = await ts.send(id, 'kept');
      const socket = await sockets.welcomed(token, { resume: { epoch: 'not-this-one', seq: 7 } });
      await socket.untilMessages(1);
      t.deepEqual(socket.frames, [
        [0, sent.epoch, 0, false],
        [1, 1, 'kept'],
      ]);
    },
  },
  {
    name: 'resume - a position out of the replay window by age: recovered false, from just before the oldest kept message',
    async run(t, { ts, clock }, sockets) {
      const id = unique('aged');
      const { token } = await ts.createChannel(id);
      const first = await sockets.welcomed(token);
      await ts.send(id, 'seen');
      await first.untilMessages(1);
      const epoch = first.welcome![1] as string;
      first.ws.terminate();
      await first.closed;
      await ts.send(id, 'missed, then aged out');
      clock.advance((REPLAY_WINDOW_SECONDS + 1) * 1000);
      await ts.send(id, 'new');
      const second = await sockets.welcomed(token, { resume: { epoch, seq: 1 } });
      await second.untilMessages(1);
      t.deepEqual(second.frames, [
        [0, epoch, 2, false],
        [1, 3, 'new'],
      ]);
    },
  },
  {
    name: 'resume - a position out of the replay window by count: recovered false, then the kept messages',
    async run(t, { ts }, sockets) {
      const id = unique('overflow');
      const { token } = await ts.createChannel(id);
      const first = await sockets.welcomed(token);
      const epoch = first.welcome![1] as string;
      first.ws.terminate();
      await first.closed;
      const over = 3;
      for (const count of [REPLAY_BUFFER_SIZE, over]) {
        await ts.rpc.sendMessages({ requests: Array.from({ length: count }, (_, i) => toClient(id, `m${i}`)) });
      }
      const second = await sockets.welcomed(token, { resume: { epoch, seq: 0 } });
      await second.untilMessages(REPLAY_BUFFER_SIZE);
      t.deepEqual(second.welcome, [0, epoch, over, false]);
      t.is(second.messages[0]!.seq, over + 1);
      t.is(second.messages.at(-1)!.seq, REPLAY_BUFFER_SIZE + over);
    },
  },
  {
    name: 'acks - a fresh open starts after the last acknowledged seq ([3, seq]), not at the start of the history',
    async run(t, { ts }, sockets) {
      const id = unique('acker');
      const { token } = await ts.createChannel(id);
      const first = await sockets.welcomed(token);
      await ts.send(id, '1');
      await ts.send(id, '2');
      await first.untilMessages(2);
      first.ack(2);
      first.close();
      await first.closed;
      await ts.send(id, '3');
      const fresh = await sockets.welcomed(token);
      await fresh.untilMessages(1);
      t.deepEqual(fresh.frames, [
        [0, first.welcome![1], 2, true],
        [1, 3, '3'],
      ]);
    },
  },

  // ---- §2 topic resume and topic acks ----
  {
    name: 'topic resume - topics=1 and [5, [[topic, epoch, seq]]] first: [4, topic, epoch, seq, true], then the missed topic messages',
    async run(t, { ts }, sockets) {
      const id = unique('topic-resumer');
      const topic = unique('resumed');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const { token } = await ts.createChannel(id);
      const first = await sockets.welcomed(token);
      await first.until(() => first.topicWelcome(topic) !== undefined, 'the topic welcome');
      const seen = await ts.rpc.broadcast({ message: 't1', clientIds: [], topics: [topic] });
      await first.until(() => first.topicMessages(topic).length === 1, 'the first topic message');
      const epoch = first.welcome![1] as string;
      const topicEpoch = seen.topics[0]!.epoch;
      first.ws.terminate();
      await first.closed;
      await ts.rpc.broadcast({ message: 't2', clientIds: [], topics: [topic] });
      await ts.rpc.broadcast({ message: 't3', clientIds: [], topics: [topic] });
      const again = await sockets.welcomed(token, { resume: { epoch, seq: 0 }, topics: [[topic, topicEpoch, 1]] });
      await again.until(() => again.topicMessages(topic).length >= 2, 'the missed topic messages');
      t.deepEqual(again.welcome, [0, epoch, 0, true]);
      t.deepEqual(again.topicWelcome(topic), [4, topic, topicEpoch, 1, true]);
      t.deepEqual(again.topicMessages(topic), [
        { seq: 2, data: 't2' },
        { seq: 3, data: 't3' },
      ]);
    },
  },
  {
    name: 'topic resume - a topic position in another epoch: [4, …, false] and every kept topic message',
    async run(t, { ts }, sockets) {
      const id = unique('topic-lost');
      const topic = unique('lost');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const sent = await ts.rpc.broadcast({ message: 'kept', clientIds: [], topics: [topic] });
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token, { topics: [[topic, 'gone-epoch', 5]] });
      await socket.until(() => socket.topicMessages(topic).length === 1, 'the kept topic message');
      t.deepEqual(socket.topicWelcome(topic), [4, topic, sent.topics[0]!.epoch, 0, false]);
      t.deepEqual(socket.topicMessages(topic), [{ seq: 1, data: 'kept' }]);
    },
  },
  {
    name: 'topic resume - with topics=1 the topic welcomes wait for the resume frame, then honour it',
    async run(t, { ts }, sockets) {
      const id = unique('topic-waiter');
      const topic = unique('waited');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const sent = await ts.rpc.broadcast({ message: 'one', clientIds: [], topics: [topic] });
      await ts.rpc.broadcast({ message: 'two', clientIds: [], topics: [topic] });
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token, {}, `${ts.wsUrl}?topics=1`);
      await barrier(ts, id, socket);
      t.is(socket.topicWelcome(topic), undefined, `no topic welcome before the resume frame: ${show(socket.frames)}`);
      socket.ws.send(JSON.stringify([5, [[topic, sent.topics[0]!.epoch, 1]]]));
      await socket.until(() => socket.topicMessages(topic).length === 1, 'the topic message after the resumed position');
      t.deepEqual(socket.topicWelcome(topic), [4, topic, sent.topics[0]!.epoch, 1, true]);
      t.deepEqual(socket.topicMessages(topic), [{ seq: 2, data: 'two' }]);
    },
  },
  {
    name: 'acks - a topic ack ([3, seq, topic]): a fresh open starts that topic after it',
    async run(t, { ts }, sockets) {
      const id = unique('topic-acker');
      const topic = unique('acked');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const { token } = await ts.createChannel(id);
      const first = await sockets.welcomed(token);
      await first.until(() => first.topicWelcome(topic) !== undefined, 'the topic welcome');
      const sent = await ts.rpc.broadcast({ message: 'a1', clientIds: [], topics: [topic] });
      await ts.rpc.broadcast({ message: 'a2', clientIds: [], topics: [topic] });
      await first.until(() => first.topicMessages(topic).length === 2, 'two topic messages');
      first.ws.send(JSON.stringify([3, 1, topic]));
      first.close();
      await first.closed;
      const fresh = await sockets.welcomed(token);
      await fresh.until(() => fresh.topicMessages(topic).length === 1, 'the unacknowledged topic message');
      t.deepEqual(fresh.topicWelcome(topic), [4, topic, sent.topics[0]!.epoch, 1, true]);
      t.deepEqual(fresh.topicMessages(topic), [{ seq: 2, data: 'a2' }]);
    },
  },

  // ---- §1 upgrades that are refused ----
  {
    name: 'upgrade - no channeld.v1 is 400; no token is 401; half a resume position is 400; topics other than 1 is 400',
    async run(t, { ts }) {
      const { token } = await ts.createChannel(unique('upgrader'));
      t.is(await refusedWith(ts.wsUrl, [`token.${token}`]), 400);
      t.is(await refusedWith(ts.wsUrl, ['channeld.v1']), 401);
      t.is(await refusedWith(`${ts.wsUrl}?seq=3`, ['channeld.v1', `token.${token}`]), 400);
      t.is(await refusedWith(`${ts.wsUrl}?epoch=e`, ['channeld.v1', `token.${token}`]), 400);
      t.is(await refusedWith(`${ts.wsUrl}?epoch=e&seq=-1`, ['channeld.v1', `token.${token}`]), 400);
      t.is(await refusedWith(`${ts.wsUrl}?topics=2`, ['channeld.v1', `token.${token}`]), 400);
    },
  },

  // ---- §4 close codes ----
  {
    name: '4500 - a forged token: the socket opens, then closes at once with 4500 Invalid+token., no frame',
    async run(t, { ts }, sockets) {
      const { token } = await ts.createChannel(unique('forger'));
      const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'AB' : 'AA'}`;
      for (const bad of [forged, 'not-a-token']) {
        const socket = sockets.open(bad);
        await socket.opened;
        t.deepEqual(await socket.closed, { code: 4500, reason: 'Invalid+token.' });
        t.deepEqual(socket.frames, []);
      }
    },
  },
  {
    name: '4500 - a token revoked by CloseChannel: 4500 Invalid+token.',
    async run(t, { ts }, sockets) {
      const id = unique('revoked');
      const { token } = await ts.createChannel(id);
      await ts.rpc.closeChannel({ clientId: id });
      const socket = sockets.open(token);
      t.deepEqual(await socket.closed, { code: 4500, reason: 'Invalid+token.' });
      t.deepEqual(socket.frames, []);
    },
  },
  {
    name: '4501 - a token expired before the open: 4501 Token+timed+out., no frame',
    async run(t, { ts, clock }, sockets) {
      const { token } = await ts.createChannel(unique('late'), 1);
      clock.advance(61_000);
      const socket = sockets.open(token);
      t.deepEqual(await socket.closed, { code: 4501, reason: 'Token+timed+out.' });
      t.deepEqual(socket.frames, []);
    },
  },
  {
    name: '4501 - a live socket whose token expires: 4501 Token+timed+out.',
    async run(t, { ts, clock }, sockets) {
      const id = unique('expiring');
      const { token } = await ts.createChannel(id, 1);
      const socket = await sockets.welcomed(token);
      clock.advance(61_000);
      t.deepEqual(await socket.closed, { code: 4501, reason: 'Token+timed+out.' });
    },
  },
  {
    name: '4502 - a newer socket for the client id: the older closes with 4502 Replaced+by+newer+socket., the newer gets the messages',
    async run(t, { ts }, sockets) {
      const id = unique('twice');
      const { token } = await ts.createChannel(id);
      const older = await sockets.welcomed(token);
      const newer = sockets.open(token);
      t.deepEqual(await older.closed, { code: 4502, reason: 'Replaced+by+newer+socket.' });
      await newer.until(() => newer.welcome !== undefined, 'the newer welcome');
      await ts.send(id, 'to the newer');
      await newer.untilMessages(1);
      t.deepEqual(newer.messages, [{ seq: 1, data: 'to the newer' }]);
      t.deepEqual(older.messages, []);
    },
  },
  {
    name: '4503 - CloseChannel: 4503 Channel+closed.',
    async run(t, { ts }, sockets) {
      const id = unique('closed');
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token);
      t.deepEqual(await ts.rpc.closeChannel({ clientId: id }), { wasConnected: true });
      t.deepEqual(await socket.closed, { code: 4503, reason: 'Channel+closed.' });
    },
  },
  ...protocolErrors.map(
    ({ kind, url, before, payload }): Case => ({
      name: `4504 - ${kind}: 4504 Protocol+error., and the server goes on`,
      async run(t, { ts }, sockets) {
        const id = unique('rogue');
        const { token } = await ts.createChannel(id);
        const socket = sockets.open(token, {}, `${ts.wsUrl}${url ?? ''}`);
        await socket.opened;
        before?.(socket);
        if (before !== undefined || url === undefined) await socket.until(() => socket.welcome !== undefined, 'the welcome');
        socket.ws.send(payload);
        t.deepEqual(await socket.closed, { code: 4504, reason: 'Protocol+error.' });
        const other = await sockets.welcomed(token);
        await barrier(ts, id, other);
      },
    }),
  ),
  {
    name: '1001 - a node shutting down closes its sockets with 1001 Going+away.',
    async run(t, target, sockets) {
      const node = await target.startNode();
      const { token } = await node.createChannel(unique('drained'));
      const socket = await sockets.welcomed(token, {}, node.wsUrl);
      await node.close();
      t.deepEqual(await socket.closed, { code: 1001, reason: 'Going+away.' });
    },
  },

  // ---- §4 slow consumers (4001) ----
  {
    name: '4001 - channel frames: a socket that does not read is closed with 4001 Slow+consumer. and resumes without loss',
    async run(t, { ts }, sockets) {
      const id = unique('slow');
      const presence = await watchPresence(ts, id);
      t.teardown(() => presence.cancel());
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token);
      const epoch = socket.welcome![1] as string;
      tcpOf(socket).pause();
      const slow = (): boolean => presence.eventsFor(id).some((e) => e.reason === PresenceReason.PRESENCE_REASON_SLOW_CONSUMER);
      let sent = 0;
      while (!slow() && sent < SLOW_SEND_LIMIT) {
        await ts.send(id, `${++sent}:${BIG}`);
      }
      t.true(slow(), `closed as a slow consumer after ${sent} messages of ${BIG.length} bytes`);
      t.log(`closed as slow after ${sent} messages`);
      // Read promptly: the close frame waits behind the buffered data.
      tcpOf(socket).resume();
      const closed = await socket.closed;
      // The close frame waits behind the unread data and must survive it (protocol §4).
      t.deepEqual(closed, { code: 4001, reason: 'Slow+consumer.' });
      const got = socket.messages;
      t.deepEqual(got.map((m) => m.seq), Array.from({ length: got.length }, (_, i) => i + 1), 'no gap before the close');
      const again = await sockets.welcomed(token, { resume: { epoch, seq: got.at(-1)?.seq ?? 0 } });
      await again.until(() => again.messages.length + got.length >= sent, 'the rest after resuming', 20_000);
      t.is(again.welcome![3], true);
      t.deepEqual([...got, ...again.messages].map((m) => m.seq), Array.from({ length: sent }, (_, i) => i + 1));
    },
  },
  {
    name: '4001 - topic frames: a socket that does not read is closed with 4001 Slow+consumer. and resumes its topic without loss',
    async run(t, { ts }, sockets) {
      const id = unique('slow-topic');
      const topic = unique('firehose');
      await ts.rpc.subscribe({ clientIds: [id], topic });
      const presence = await watchPresence(ts, id);
      t.teardown(() => presence.cancel());
      const { token } = await ts.createChannel(id);
      const socket = await sockets.welcomed(token);
      await socket.until(() => socket.topicWelcome(topic) !== undefined, 'the topic welcome');
      const epoch = socket.welcome![1] as string;
      const topicEpoch = socket.topicWelcome(topic)![2] as string;
      tcpOf(socket).pause();
      const slow = (): boolean => presence.eventsFor(id).some((e) => e.reason === PresenceReason.PRESENCE_REASON_SLOW_CONSUMER);
      let sent = 0;
      while (!slow() && sent < SLOW_SEND_LIMIT) {
        await ts.rpc.broadcast({ message: `${++sent}:${BIG}`, clientIds: [], topics: [topic] });
      }
      tcpOf(socket).resume();
      t.true(slow(), `closed as a slow consumer within ${sent} topic messages of ${BIG.length} bytes`);
      t.log(`closed as slow after ${sent} topic messages`);
      const closed = await socket.closed;
      t.deepEqual(closed, { code: 4001, reason: 'Slow+consumer.' });
      const got = socket.topicMessages(topic).map((m) => m.seq);
      t.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), 'no topic seq skipped before the close');
      const again = await sockets.welcomed(token, { resume: { epoch, seq: 0 }, topics: [[topic, topicEpoch, got.at(-1) ?? 0]] });
      await again.until(() => again.topicMessages(topic).some((m) => m.seq === sent), 'the rest of the topic after resuming', 20_000);
      t.deepEqual(again.topicWelcome(topic), [4, topic, topicEpoch, got.at(-1) ?? 0, true]);
      const all = [...new Set([...got, ...again.topicMessages(topic).map((m) => m.seq)])].sort((a, b) => a - b);
      t.deepEqual(all, Array.from({ length: sent }, (_, i) => i + 1));
    },
  },
];

for (const engine of ['memory', 'redis'] as const) {
  for (const c of CASES) {
    const title = `conformance (${engine}) - ${c.name}`;
    if (engine === 'redis' && !redisHere.run) {
      test.skip(title, () => undefined);
      continue;
    }
    // Serial: cases share a server and its clock, and some move the clock.
    test.serial(title, async (t) => {
      const target = t.context.targets.get(engine)!;
      const sockets = new Sockets(target.ts);
      try {
        await c.run(t, target, sockets);
        sockets.check(t);
      } finally {
        await sockets.closeAll();
      }
    });
  }
}
