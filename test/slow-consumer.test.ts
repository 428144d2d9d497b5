import type { Socket } from 'node:net';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

/**
 * A socket that stops reading is closed with 4001 once over its send buffer, whatever kind of
 * frame filled it: channel frames, topic frames fanned out by uWS pub/sub, a topic's catch-up.
 * Nothing may be skipped before the close, and the reconnect gets the rest from history.
 */

interface Context {
  readonly servers: Partial<Record<Engine, TestServer>>;
  readonly redis: TestRedis | undefined;
}
type Engine = 'memory' | 'redis';
const test = anyTest as TestFn<Context>;
const availability = redisAvailability();

if (!availability.run && availability.fail) {
  test('slow consumer - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING slow-consumer tests on the Redis engine: ${availability.why} !!!\n`);
}

/** The smallest cap the config allows, so the tests fill it quickly. */
const SEND_BUFFER_BYTES = 65_536;
/** Every message sent while the socket is paused stays in history for the resume. */
const REPLAY = 3_000;
const BIG = 'x'.repeat(30_000);
/**
 * Loopback TCP buffers take a few MiB before uWS has to hold anything; past this many bytes a
 * socket that never read was clearly not closed.
 */
const GIVE_UP_BYTES = 40 * 1024 * 1024;

test.before(async (t) => {
  const options = { socketSendBufferBytes: SEND_BUFFER_BYTES, replayBufferSize: REPLAY };
  const redis = availability.run ? await TestRedis.start() : undefined;
  const servers: Partial<Record<Engine, TestServer>> = {};
  t.context = { servers, redis };
  servers.memory = await startTestServer(options);
  if (redis !== undefined) {
    servers.redis = await startTestServer({
      ...options,
      engine: 'redis',
      redisUrl: redis.url,
      redisPrefix: 'slow',
      tokenSecrets: ['slow-consumer-test-secret-0123456789'],
    });
  }
});

test.after.always(async (t) => {
  await Promise.all(Object.values(t.context.servers ?? {}).map((s) => s.close()));
  await t.context.redis?.dispose();
});

let ids = 0;
const unique = (name: string): string => `${name}-${++ids}`;

/** The client's TCP socket; null until the upgrade. */
function tcpOf(socket: RawSocket): Socket | null {
  return (socket.ws as unknown as { _socket: Socket | null })._socket;
}

/** "1–168, 801–900": where seqs jumped. */
function ranges(seqs: readonly number[]): string {
  const out: string[] = [];
  let start = seqs[0];
  for (let i = 1; i <= seqs.length; i++) {
    if (seqs[i] === seqs[i - 1]! + 1) continue;
    out.push(start === seqs[i - 1] ? `${start}` : `${start}–${seqs[i - 1]}`);
    start = seqs[i];
  }
  return out.join(', ') || 'none';
}

/** Seqs must run 1, 2, 3…: a skipped frame shows as a jump. */
function assertContiguous(t: ExecutionContext<Context>, seqs: readonly number[], from: number, what: string): void {
  const expected = Array.from({ length: seqs.length }, (_, i) => from + i);
  t.deepEqual(seqs, expected, `${what}: no frame skipped (got ${ranges(seqs)})`);
}

interface Paused {
  readonly socket: RawSocket;
  readonly token: string;
  /** Set when the server reported the client id gone as a slow consumer. */
  readonly slow: () => boolean;
  stop(): void;
}

/**
 * Opens a socket (a member of `topic` when given), waits for its welcomes, then stops reading
 * from TCP. Reading resumes the moment the server reports it slow: uWS gives a closed socket
 * only a few seconds to take its backlog and the 4001 close frame behind it.
 */
async function openPaused(ts: TestServer, clientId: string, topic: string | undefined): Promise<Paused> {
  if (topic !== undefined) await ts.rpc.subscribe({ clientIds: [clientId], topic });
  const { socket, token } = await connect(ts, clientId);
  if (topic !== undefined) await socket.until(() => socket.topicWelcome(topic) !== undefined, 'topic welcome');
  tcpOf(socket)!.pause();
  return watchSlow(ts, clientId, socket, token);
}

function watchSlow(ts: TestServer, clientId: string, socket: RawSocket, token: string): Paused {
  let slow = false;
  const stop = ts.server.hub.presence.onPresenceChange((change) => {
    if (change.clientId !== clientId || change.reason !== 'slow-consumer') return;
    slow = true;
    tcpOf(socket)?.resume();
  });
  return { socket, token, slow: () => slow, stop };
}

/** Sends until the server gives up on the socket (or clearly never will). */
async function sendUntilSlow(paused: Paused, sendOne: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; !paused.slow() && i * BIG.length < GIVE_UP_BYTES; i++) await sendOne(i);
  paused.stop();
}

interface Expected {
  readonly channelSent: number;
  readonly topic?: string;
  readonly topicSent?: number;
  readonly topicEpoch?: string;
  /**
   * Reconnects allowed to get the rest. A topic's catch-up is written in one go, so one larger
   * than loopback buffers and the cap closes even a socket that reads (4001 again); each
   * reconnect takes it further.
   */
  readonly resumes?: number;
}

interface Position {
  readonly channel: number;
  readonly topic: number;
}

/** Checks that what a closed socket got runs on from `from` without a gap; returns where it stopped. */
function takeStock(t: ExecutionContext<Context>, socket: RawSocket, topic: string | undefined, from: Position, what: string): Position {
  const channelSeqs = socket.messages.map((m) => m.seq);
  assertContiguous(t, channelSeqs, from.channel + 1, `channel frames ${what}`);
  const topicSeqs = topic === undefined ? [] : socket.topicMessages(topic).map((m) => m.seq);
  assertContiguous(t, topicSeqs, from.topic + 1, `topic frames ${what}`);
  return { channel: channelSeqs.at(-1) ?? from.channel, topic: topicSeqs.at(-1) ?? from.topic };
}

/**
 * The slow socket's close and what it got, then reconnects from exactly there (the way the
 * bundled client does), which must get every message after it: recovered, nothing skipped.
 */
async function closedAndResumed(t: ExecutionContext<Context>, ts: TestServer, paused: Paused, expect: Expected): Promise<void> {
  const { socket, token } = paused;
  const topic = expect.topic;
  if (!paused.slow()) {
    // What today's bug looks like: frames skipped and the socket left open.
    tcpOf(socket)?.resume();
    await socket.until(() => false, 'frames still in flight', 3_000).catch(() => undefined);
    const got = topic === undefined ? '' : `; topic seqs it got: ${ranges(socket.topicMessages(topic).map((m) => m.seq))} of 1–${expect.topicSent}`;
    socket.ws.terminate();
    t.fail(`the server never closed the socket as a slow consumer${got}`);
    return;
  }
  t.deepEqual(await socket.closed, { code: 4001, reason: 'Slow+consumer.' });
  const epoch = socket.welcome![1] as string;
  const topicWelcome = topic === undefined ? undefined : socket.topicWelcome(topic);
  if (topic !== undefined) t.truthy(topicWelcome, 'the topic welcome came before the close');
  let last = takeStock(t, socket, topic, { channel: 0, topic: (topicWelcome?.[3] as number | undefined) ?? 0 }, 'before the close');

  const topicSent = expect.topicSent ?? 0;
  const done = (): boolean => last.channel === expect.channelSent && last.topic === topicSent;
  for (let resume = 1; !done(); resume++) {
    if (resume > (expect.resumes ?? 1)) {
      t.fail(`still missing after ${resume - 1} resumes: channel ${last.channel} of ${expect.channelSent}, topic ${last.topic} of ${topicSent}`);
      return;
    }
    const from = last;
    const again = new RawSocket(ts.wsUrl, token, {
      resume: { epoch, seq: from.channel },
      ...(topic === undefined ? {} : { topics: [[topic, expect.topicEpoch!, from.topic]] }),
    });
    await again.until(
      () =>
        again.closeCode !== undefined ||
        (again.messages.length >= expect.channelSent - from.channel && (topic === undefined || again.topicMessages(topic).length >= topicSent - from.topic)),
      'the rest after the resume',
      30_000,
    );
    t.deepEqual(again.welcome, [0, epoch, from.channel, true], 'the channel resumes, recovered');
    if (topic !== undefined) t.deepEqual(again.topicWelcome(topic), [4, topic, expect.topicEpoch, from.topic, true], 'the topic resumes, recovered');
    if (again.closeCode !== undefined) t.deepEqual({ code: again.closeCode, reason: again.closeReason }, { code: 4001, reason: 'Slow+consumer.' });
    last = takeStock(t, again, topic, from, `after resume ${resume}`);
    again.close();
    await again.closed;
  }
}

/** A member of the same topic that reads: it gets every broadcast and stays open. */
async function assertFastReader(t: ExecutionContext<Context>, fast: RawSocket, topic: string, topicSent: number): Promise<void> {
  await fast.until(() => fast.topicMessages(topic).length >= topicSent || fast.closeCode !== undefined, 'every broadcast at the fast reader', 30_000);
  t.is(fast.closeCode, undefined, 'the fast reader stays open');
  assertContiguous(t, fast.topicMessages(topic).map((m) => m.seq), 1, 'the fast reader');
  t.is(fast.topicMessages(topic).length, topicSent);
  fast.close();
  await fast.closed;
}

for (const engine of ['memory', 'redis'] as const) {
  const run = engine === 'memory' || availability.run ? test.serial : test.skip;
  const server = (t: ExecutionContext<Context>): TestServer => t.context.servers[engine]!;

  run(`slow consumer (${engine}) - channel frames: closed with 4001, nothing skipped, the resume gets the rest`, async (t) => {
    const ts = server(t);
    const id = unique(`${engine}-channel`);
    const paused = await openPaused(ts, id, undefined);
    let sent = 0;
    await sendUntilSlow(paused, async (i) => {
      sent = (await ts.send(id, `${i}:${BIG}`)).seq;
    });
    await closedAndResumed(t, ts, paused, { channelSent: sent });
  });

  run(`slow consumer (${engine}) - topic frames from uWS pub/sub: closed with 4001, nothing skipped, fast members unaffected, the resume gets the rest`, async (t) => {
    const ts = server(t);
    const topic = unique(`${engine}-topic`);
    const id = unique(`${engine}-slow-member`);
    const fastId = unique(`${engine}-fast-member`);
    await ts.rpc.subscribe({ clientIds: [fastId], topic });
    const fast = (await connect(ts, fastId)).socket;
    await fast.until(() => fast.topicWelcome(topic) !== undefined, 'topic welcome');
    const paused = await openPaused(ts, id, topic);
    let topicSent = 0;
    let topicEpoch = '';
    await sendUntilSlow(paused, async (i) => {
      const sent = await ts.rpc.broadcast({ message: `${i}:${BIG}`, clientIds: [], topics: [topic] });
      topicSent = sent.topics[0]!.seq;
      topicEpoch = sent.topics[0]!.epoch;
    });
    await closedAndResumed(t, ts, paused, { channelSent: 0, topic, topicSent, topicEpoch });
    await assertFastReader(t, fast, topic, topicSent);
  });

  run(`slow consumer (${engine}) - channel and topic frames mixed: closed with 4001, neither stream skips, the resume gets the rest`, async (t) => {
    const ts = server(t);
    const topic = unique(`${engine}-mixed`);
    const id = unique(`${engine}-mixed-member`);
    const paused = await openPaused(ts, id, topic);
    let channelSent = 0;
    let topicSent = 0;
    let topicEpoch = '';
    await sendUntilSlow(paused, async (i) => {
      // Mostly topic frames, so the channel frames find the socket already filled by them.
      if (i % 4 === 3) {
        channelSent = (await ts.send(id, `${i}:${BIG}`)).seq;
        return;
      }
      const sent = await ts.rpc.broadcast({ message: `${i}:${BIG}`, clientIds: [], topics: [topic] });
      topicSent = sent.topics[0]!.seq;
      topicEpoch = sent.topics[0]!.epoch;
    });
    await closedAndResumed(t, ts, paused, { channelSent, topic, topicSent, topicEpoch });
  });

  run(`slow consumer (${engine}) - a topic catch-up that overflows the socket: closed with 4001, nothing skipped, the resume gets the rest`, async (t) => {
    const ts = server(t);
    const topic = unique(`${engine}-history`);
    const id = unique(`${engine}-late-member`);
    // A member since before the history, so its socket's open catches it up from seq 0.
    await ts.rpc.subscribe({ clientIds: [id], topic });
    let topicSent = 0;
    let topicEpoch = '';
    // More history than loopback buffers and the cap can take: 12 MB.
    for (let i = 0; i < 400; i++) {
      const sent = await ts.rpc.broadcast({ message: `${i}:${BIG}`, clientIds: [], topics: [topic] });
      topicSent = sent.topics[0]!.seq;
      topicEpoch = sent.topics[0]!.epoch;
    }
    const { token } = await ts.createChannel(id);
    const socket = new RawSocket(ts.wsUrl, token);
    const paused = watchSlow(ts, id, socket, token);
    // It reads nothing from the moment it opens (unless the server already gave up on it).
    socket.ws.once('open', () => {
      if (!paused.slow()) tcpOf(socket)!.pause();
    });
    await socket.until(() => paused.slow() || socket.closeCode !== undefined, 'the slow-consumer close', 30_000).catch(() => undefined);
    paused.stop();
    await closedAndResumed(t, ts, paused, { channelSent: 0, topic, topicSent, topicEpoch, resumes: 10 });
    t.is(socket.topicWelcome(topic)?.[3], 0, 'the catch-up started from the beginning');
  });
}
