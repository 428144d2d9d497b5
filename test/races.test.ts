import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { PresenceState } from '../gen/ts/channel/v1/channel.js';
import { framesAfterLeft, framesBeforeWelcome, show, topicStanding, topicTrail } from './helpers/frame-order.js';
import { brief, PresenceStream } from './helpers/grpc.js';
import { NodeClient } from './helpers/node-client.js';
import { redisAvailability, TestRedis, TestRedisShards } from './helpers/redis.js';
import { refuseScripts, startRedisNode, type RedisLayout } from './helpers/redis-nodes.js';
import type { TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

// Races between a socket's asynchronous steps and the backend's calls, on the Redis engine (whose
// replies arrive in later turns, so the steps really interleave). Each loops RUNS times with the
// timing spread over the window where the steps overlap, and asserts zero bad outcomes.

const RUNS = Number(process.env['CHANNELD_RACE_RUNS'] ?? 60);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error(`CHANNELD_RACE_RUNS is "${process.env['CHANNELD_RACE_RUNS']}"; use a positive integer`);

/** Two nodes over one layout of Redis. */
interface Deployment {
  redis: RedisLayout;
  a: TestServer;
  b: TestServer;
}
/** Every race on one Redis and on 3 independent shards (--redis-shard). */
const LAYOUTS = [
  { title: 'races', start: (): Promise<RedisLayout> => TestRedis.start() },
  { title: 'races, 3 shards', start: (): Promise<RedisLayout> => TestRedisShards.start(3) },
] as const;
type Layout = (typeof LAYOUTS)[number];
/** Per layout: its nodes, or why they did not start (failing that layout's tests only). */
type Context = Record<string, Deployment | { redis: RedisLayout; failed: Error }>;
const test = anyTest as TestFn<Context>;
const availability = redisAvailability();

if (!availability.run && availability.fail) {
  test('races - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING race tests: ${availability.why} !!!\n`);
}

/** One test per layout; serial: the races are about timing, and tests side by side would blur it. */
function raceTest(name: string, body: (t: ExecutionContext<Context>, d: Deployment) => Promise<void>, layouts: readonly Layout[] = LAYOUTS): void {
  for (const { title } of layouts) {
    (availability.run ? test.serial : test.skip)(`${title} - ${name}`, (t) => {
      const d = t.context[title]!;
      if ('failed' in d) throw new Error(`the nodes on "${title}" did not start: ${d.failed.message}`);
      return body(t, d);
    });
  }
}

test.before(async (t) => {
  if (!availability.run) return;
  const context: Context = {};
  for (const layout of LAYOUTS) {
    const redis = await layout.start();
    const started = await Promise.allSettled([startRedisNode(redis, 'races'), startRedisNode(redis, 'races')]);
    const [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    const failed = started.find((s) => s.status === 'rejected');
    if (a !== undefined && b !== undefined) context[layout.title] = { redis, a, b };
    else {
      await Promise.all([a?.close(), b?.close()]);
      context[layout.title] = { redis, failed: (failed as PromiseRejectedResult).reason as Error };
    }
  }
  t.context = context;
});

test.after.always(async (t) => {
  for (const d of Object.values(t.context ?? {})) {
    if (!('failed' in d)) await Promise.all([d.a.close(), d.b.close()]);
    await d.redis.dispose();
  }
});

let ids = 0;
const unique = (name: string): string => `${name}-${++ids}`;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true once `predicate` holds on `socket`, false if it has not within `timeoutMs`. */
function within(socket: RawSocket, predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  // Our own deadline too: RawSocket.until can miss its own when its timer fires a hair early.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(predicate()), timeoutMs + 50);
  });
  const met = socket.until(predicate, 'condition', timeoutMs).then(
    () => true,
    () => false,
  );
  return Promise.race([met, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Runs `attempt` `runs` times (RUNS unless told); each returns undefined or a description of its bad outcome.
 * `worstRunMs` bounds one run that goes wrong (it waits out its deadlines), so the test's own
 * timeout allows every run to go wrong and still be reported.
 */
async function loop(
  t: ExecutionContext<Context>,
  what: string,
  worstRunMs: number,
  attempt: (run: number, trace: string[]) => Promise<string | undefined>,
  runs = RUNS,
): Promise<void> {
  t.timeout(runs * worstRunMs + 30_000, `${runs} runs of at most ${worstRunMs} ms each`);
  const bad: string[] = [];
  const started = Date.now();
  for (let run = 0; run < runs; run++) {
    // What the run was doing, in case it never finishes.
    const trace: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`did not finish within ${worstRunMs} ms; its steps: ${trace.join(' > ')}`), worstRunMs);
    });
    const outcome = await Promise.race([attempt(run, trace), stuck]).finally(() => clearTimeout(timer));
    if (outcome !== undefined) bad.push(`run ${run}: ${outcome}`);
  }
  t.log(`${what}: ${bad.length} bad of ${runs} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  t.is(bad.length, 0, `${bad.length} of ${runs} runs went wrong:\n${bad.slice(0, 8).join('\n')}`);
}

/** Waits for the welcome (or a close); false when neither came. */
function welcomedOrClosed(socket: RawSocket): Promise<boolean> {
  return within(socket, () => socket.welcome !== undefined || socket.closeCode !== undefined, 10_000);
}

/**
 * Sends a channel message and waits until the socket has it (or closed): every frame the server
 * produced before this message went out ahead of it on the same socket.
 */
async function barrier(node: TestServer, clientId: string, socket: RawSocket, label: string): Promise<boolean> {
  await node.send(clientId, label);
  return within(socket, () => socket.closeCode !== undefined || socket.messages.some((m) => m.data === label), 5000);
}

async function shut(socket: RawSocket): Promise<void> {
  if (socket.closeCode === undefined) socket.ws.terminate();
  await socket.closed;
}

// ---- defect 2: CloseChannel racing an open ------------------------------------------------------

/**
 * When CloseChannel starts, relative to the socket's upgrade request: some event-loop turns after
 * it (the open's revocation check and attach are a Redis round trip or two apart), or some ms
 * before or after it.
 */
type CloseSchedule = { readonly turnsAfter: number } | { readonly msBefore: number } | { readonly msAfter: number };
const CLOSE_SCHEDULES: readonly CloseSchedule[] = [
  ...[0, 1, 1, 2, 3, 4, 6].map((turnsAfter) => ({ turnsAfter })),
  ...[2, 1].map((msBefore) => ({ msBefore })),
  ...[1, 2].map((msAfter) => ({ msAfter })),
];

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function describeSchedule(schedule: CloseSchedule): string {
  if ('turnsAfter' in schedule) return `${schedule.turnsAfter} turns after the open`;
  if ('msBefore' in schedule) return `${schedule.msBefore} ms before the open`;
  return `${schedule.msAfter} ms after the open`;
}

/**
 * Mints a token on `mint`, opens a socket on `opener` and closes the channel on `closer` around the
 * same moment. The socket must end refused (4500) or closed (4503); never live on the revoked token.
 */
async function closeAcrossOpen(mint: TestServer, opener: TestServer, closer: TestServer, run: number, trace: string[]): Promise<string | undefined> {
  const id = unique('close-race');
  trace.push('mint');
  const { token } = await mint.createChannel(id);
  const schedule = CLOSE_SCHEDULES[run % CLOSE_SCHEDULES.length]!;
  const offset = describeSchedule(schedule);
  let socket: RawSocket;
  let closing: Promise<unknown>;
  trace.push(`open and close, ${offset}`);
  if ('msBefore' in schedule) {
    closing = closer.rpc.closeChannel({ clientId: id });
    await pause(schedule.msBefore);
    socket = new RawSocket(opener.wsUrl, token);
  } else {
    socket = new RawSocket(opener.wsUrl, token);
    if ('msAfter' in schedule) await pause(schedule.msAfter);
    else for (let turn = 0; turn < schedule.turnsAfter; turn++) await nextTurn();
    closing = closer.rpc.closeChannel({ clientId: id });
  }
  await closing;
  trace.push('closed the channel; awaiting welcome or close');
  if (!(await welcomedOrClosed(socket))) {
    await shut(socket);
    return `${offset}: neither welcome nor close within 10 s`;
  }
  trace.push('awaiting close');
  // A socket that attached before the close is closed by it: give that close time to come.
  await within(socket, () => socket.closeCode !== undefined, 3000);
  if (socket.closeCode !== undefined) {
    const { code, reason } = await socket.closed;
    const fine = (code === 4500 && reason === 'Invalid+token.') || (code === 4503 && reason === 'Channel+closed.');
    return fine ? undefined : `${offset}: closed with ${code} ${reason} after frames ${show(socket.frames)}`;
  }
  // Still open 3 s after CloseChannel answered: find out how live it is on its revoked token.
  trace.push('still open: presence and a message');
  const [presence] = (await closer.rpc.getPresence({ clientIds: [id] })).clients;
  await closer.send(id, 'sent after the close');
  const receives = await within(socket, () => socket.messages.some((m) => m.data === 'sent after the close'), 2000);
  await shut(socket);
  return `${offset}: still open on the revoked token 3 s after CloseChannel; welcome ${JSON.stringify(socket.welcome)}, presence ${presence?.connected === true ? 'CONNECTED' : 'DISCONNECTED'}, ${receives ? 'receives messages' : 'receives nothing'}`;
}

raceTest('CloseChannel across an open, two nodes (mint on A, open on B, close on A): never live on a revoked token', async (t, d) => {
  await loop(t, 'CloseChannel across an open, two nodes', 16_000, (run, trace) => closeAcrossOpen(d.a, d.b, d.a, run, trace));
});

raceTest('CloseChannel across an open, one node: never live on a revoked token', async (t, d) => {
  await loop(t, 'CloseChannel across an open, one node', 16_000, (run, trace) => closeAcrossOpen(d.a, d.a, d.a, run, trace));
});

// ---- defect 3: Unsubscribe while a member's socket is opening ----------------------------------

/** Where Unsubscribe starts after the socket's 101 (ms): the open's reads are in flight then. */
const UNSUBSCRIBE_OFFSETS_MS = [0, 0, 1, 1, 2, 3, 4, 6];

/**
 * A member's socket opens on `opener` while `caller` unsubscribes it. Nothing may come before the
 * welcome, and the socket must end up out of the topic, as the server sees it and as it was told.
 */
async function unsubscribeAcrossOpen(opener: TestServer, caller: TestServer, run: number, trace: string[]): Promise<string | undefined> {
  const id = unique('unsub-race');
  const topic = unique('opening-topic');
  trace.push('subscribe and mint');
  await caller.rpc.subscribe({ clientIds: [id], topic });
  const { token } = await opener.createChannel(id);
  const offset = UNSUBSCRIBE_OFFSETS_MS[run % UNSUBSCRIBE_OFFSETS_MS.length]!;
  const socket = new RawSocket(opener.wsUrl, token);
  const upgraded = new Promise<void>((resolve) => {
    socket.ws.once('upgrade', () => resolve());
    socket.ws.once('close', () => resolve());
  });
  trace.push('awaiting the 101');
  await upgraded;
  await pause(offset);
  trace.push('unsubscribe');
  await caller.rpc.unsubscribe({ clientIds: [id], topic });
  try {
    trace.push('awaiting welcome or close');
    if (!(await welcomedOrClosed(socket))) return `offset ${offset} ms: neither welcome nor close within 10 s; frames ${show(socket.frames)}`;
    const early = framesBeforeWelcome(socket.frames);
    if (early.length > 0) return `offset ${offset} ms: ${show(early)} before the welcome; frames ${show(socket.frames)}`;
    if (socket.closeCode !== undefined) return `offset ${offset} ms: closed with ${socket.closeCode} ${socket.closeReason}; frames ${show(socket.frames)}`;
    trace.push('broadcast and barriers');
    const sent = await caller.rpc.broadcast({ message: 'after the unsubscribe', clientIds: [], topics: [topic] });
    // Two rounds, so a topic read the open started late has landed too.
    const through = (await barrier(caller, id, socket, 'barrier 1')) && (await barrier(caller, id, socket, 'barrier 2'));
    if (!through && socket.closeCode === undefined) return `offset ${offset} ms: channel messages stopped arriving; frames ${show(socket.frames)}`;
    if (socket.closeCode !== undefined) return `offset ${offset} ms: closed with ${socket.closeCode} ${socket.closeReason}; frames ${show(socket.frames)}`;
    const standing = topicStanding(socket.frames, topic);
    const delivered = socket.topicMessages(topic);
    if (standing === 'member' || delivered.length > 0 || sent.topics[0]?.members !== 0) {
      return `offset ${offset} ms: after Unsubscribe the socket is told it is ${standing === 'member' ? 'still a member' : standing}, got ${delivered.length} topic messages, Broadcast saw ${sent.topics[0]?.members} members; topic frames ${show(topicTrail(socket.frames, topic))}`;
    }
    return undefined;
  } finally {
    await shut(socket);
  }
}

raceTest('Unsubscribe while a member\'s socket opens, one node: nothing before the welcome, and it ends out of the topic', async (t, d) => {
  await loop(t, 'Unsubscribe across an open, one node', 21_000, (run, trace) => unsubscribeAcrossOpen(d.a, d.a, run, trace));
});

raceTest('Unsubscribe while a member\'s socket opens, two nodes: nothing before the welcome, and it ends out of the topic', async (t, d) => {
  await loop(t, 'Unsubscribe across an open, two nodes', 21_000, (run, trace) => unsubscribeAcrossOpen(d.b, d.a, run, trace));
});

/** Where Unsubscribe starts after the bundled client is created (ms): its upgrade takes about this long. */
const CLIENT_UNSUBSCRIBE_OFFSETS_MS = [1, 2, 3, 4, 5, 6, 8, 10];

raceTest('Unsubscribe while a member\'s socket opens: the bundled client opens, never fails with Protocol+error.', async (t, d) => {
  const node = d.a;
  await loop(t, 'Unsubscribe across an open, bundled client', 21_000, async (run) => {
    const id = unique('client-unsub-race');
    const topic = unique('client-topic');
    await node.rpc.subscribe({ clientIds: [id], topic });
    const { token } = await node.createChannel(id);
    const offset = CLIENT_UNSUBSCRIBE_OFFSETS_MS[run % CLIENT_UNSUBSCRIBE_OFFSETS_MS.length]!;
    const client = await NodeClient.open(token, node.httpUrl);
    try {
      await pause(offset);
      await node.rpc.unsubscribe({ clientIds: [id], topic });
      await client.until(() => client.has('open') || client.has('close'), 'open or close').catch(() => undefined);
      if (client.has('open') && !client.has('close')) {
        await node.send(id, 'barrier');
        await client.until(() => client.has('close') || client.events.some((e) => e.type === 'message' && e.data === 'barrier'), 'the barrier').catch(() => undefined);
      }
      const trouble = client.events.filter((e) => e.type === 'error' || e.type === 'close' || e.type === 'reconnecting');
      const got = client.events.some((e) => e.type === 'message' && e.data === 'barrier');
      if (trouble.length > 0 || !got) return `offset ${offset} ms: events ${JSON.stringify(client.events)}`;
      return undefined;
    } finally {
      client.close();
    }
  });
});

// ---- defect 4: Subscribe and Unsubscribe in quick succession on a live socket ----------------

/** Pause between Subscribe answering and Unsubscribe (or the other way round), in ms. */
const TOGGLE_GAPS_MS = [0, 0, 0, 1, 2];

raceTest('Subscribe then Unsubscribe on a live socket: after [6] no topic welcome nor message, and Broadcast finds no member', async (t, d) => {
  const { a, b } = d;
  await loop(t, 'Subscribe then Unsubscribe', 21_000, async (run, trace) => {
    const id = unique('sub-unsub');
    const topic = unique('flicker');
    // Half the runs call another node than the socket's: the news then travels through Redis.
    const caller = run % 2 === 0 ? a : b;
    const { token } = await a.createChannel(id);
    const socket = new RawSocket(a.wsUrl, token);
    try {
      if (!(await welcomedOrClosed(socket)) || socket.welcome === undefined) return `no welcome: ${socket.closeCode} ${socket.closeReason}`;
      const gap = TOGGLE_GAPS_MS[run % TOGGLE_GAPS_MS.length]!;
      trace.push('subscribe');
      await caller.rpc.subscribe({ clientIds: [id], topic });
      if (gap > 0) await pause(gap);
      trace.push('unsubscribe');
      await caller.rpc.unsubscribe({ clientIds: [id], topic });
      trace.push('broadcast and barriers');
      const sent = await caller.rpc.broadcast({ message: 'after the unsubscribe', clientIds: [], topics: [topic] });
      const through = (await barrier(caller, id, socket, 'barrier 1')) && (await barrier(caller, id, socket, 'barrier 2'));
      const problems: string[] = [];
      if (socket.closeCode !== undefined) problems.push(`closed with ${socket.closeCode} ${socket.closeReason}`);
      else if (!through) problems.push('channel messages stopped arriving');
      const late = framesAfterLeft(socket.frames, topic);
      if (late.length > 0) problems.push(`${show(late)} after [6]`);
      if (topicStanding(socket.frames, topic) === 'member') problems.push('told it is still a member');
      if (socket.topicMessages(topic).length > 0) problems.push(`${socket.topicMessages(topic).length} topic messages delivered`);
      if (sent.topics[0]?.members !== 0) problems.push(`Broadcast saw ${sent.topics[0]?.members} members`);
      return problems.length === 0 ? undefined : `gap ${gap} ms, via ${caller === a ? 'the socket\'s node' : 'another node'}: ${problems.join('; ')}; topic frames ${show(topicTrail(socket.frames, topic))}`;
    } finally {
      await shut(socket);
    }
  });
});

raceTest('Unsubscribe then Subscribe on a live member socket: it ends welcomed again after its last [6], receives the topic, and nothing sent while it was out', async (t, d) => {
  const { a, b } = d;
  await loop(t, 'Unsubscribe then Subscribe', 31_000, async (run, trace) => {
    const id = unique('unsub-sub');
    const topic = unique('rejoin');
    const caller = run % 2 === 0 ? a : b;
    await caller.rpc.subscribe({ clientIds: [id], topic });
    const { token } = await a.createChannel(id);
    const socket = new RawSocket(a.wsUrl, token);
    try {
      if (!(await within(socket, () => socket.topicWelcome(topic) !== undefined || socket.closeCode !== undefined, 10_000)) || socket.closeCode !== undefined) {
        return `no topic welcome at open: ${socket.closeCode} ${socket.closeReason}; frames ${show(socket.frames)}`;
      }
      const gap = TOGGLE_GAPS_MS[run % TOGGLE_GAPS_MS.length]!;
      // Every other pair of runs broadcasts while the client id is out: that one must not reach it.
      const meanwhile = Math.floor(run / 2) % 2 === 1;
      trace.push('unsubscribe');
      await caller.rpc.unsubscribe({ clientIds: [id], topic });
      if (gap > 0) await pause(gap);
      const outside = meanwhile ? await caller.rpc.broadcast({ message: 'while out', clientIds: [], topics: [topic] }) : undefined;
      trace.push('subscribe');
      await caller.rpc.subscribe({ clientIds: [id], topic });
      trace.push('awaiting the rejoin');
      const rejoined = (): boolean => {
        const trail = topicTrail(socket.frames, topic);
        const lastLeft = trail.map((f) => f[0]).lastIndexOf(6);
        return lastLeft >= 0 && trail.slice(lastLeft + 1).some((f) => f[0] === 4);
      };
      await within(socket, () => rejoined() || socket.closeCode !== undefined, 5000);
      trace.push('broadcast and barrier');
      const sent = await caller.rpc.broadcast({ message: 'after the rejoin', clientIds: [], topics: [topic] });
      const seq = sent.topics[0]?.seq;
      const receives = await within(socket, () => socket.closeCode !== undefined || socket.topicMessages(topic).some((m) => m.seq === seq), 5000);
      const through = await barrier(caller, id, socket, 'barrier');
      const problems: string[] = [];
      if (socket.closeCode !== undefined) problems.push(`closed with ${socket.closeCode} ${socket.closeReason}`);
      else if (!through) problems.push('channel messages stopped arriving');
      if (!rejoined()) problems.push('no topic welcome after its last [6]');
      if (topicStanding(socket.frames, topic) !== 'member') problems.push('told it is not a member at the end');
      if (sent.topics[0]?.members !== 1) problems.push(`Broadcast saw ${sent.topics[0]?.members} members`);
      if (!receives || socket.closeCode !== undefined) problems.push(`the broadcast (seq ${seq}) did not arrive`);
      if (outside !== undefined && outside.topics[0]?.members !== 0) problems.push(`Broadcast while out saw ${outside.topics[0]?.members} members`);
      if (socket.topicMessages(topic).some((m) => m.data === 'while out')) problems.push('the broadcast sent while out of the topic reached it');
      return problems.length === 0 ? undefined : `gap ${gap} ms${meanwhile ? ', a broadcast while out' : ''}, via ${caller === a ? 'the socket\'s node' : 'another node'}: ${problems.join('; ')}; topic frames ${show(topicTrail(socket.frames, topic))}`;
    } finally {
      await shut(socket);
    }
  });
});

// ---- defect 7: a failed attach of a second socket on the same node ----------------------------

/**
 * After a second socket of the client failed to attach, the first must go on receiving what is
 * sent afterwards, or be closed (its client then reconnects or reports why): never open and deaf.
 */
async function firstStillServed(node: TestServer, id: string, first: RawSocket, second: RawSocket): Promise<string | undefined> {
  const before = first.messages.length;
  for (let i = 1; i <= 3; i++) await node.send(id, `after the failed attach ${i}`);
  const served = await within(first, () => first.closeCode !== undefined || first.messages.length >= before + 3, 5000);
  if (served) return undefined;
  return `the first socket is open but got ${first.messages.length - before} of 3 messages sent after the second socket (${second.closeCode ?? 'open'} ${second.closeReason}, frames ${show(second.frames)}) failed`;
}

raceTest('a second socket whose token was revoked fails to attach; the first socket keeps receiving', async (t, d) => {
  const node = d.a;
  await loop(t, 'second socket on a revoked token', 26_000, async (_run, trace) => {
    const id = unique('revoked-second');
    trace.push('mint, close, mint');
    const { token: revoked } = await node.createChannel(id);
    await node.rpc.closeChannel({ clientId: id });
    const { token } = await node.createChannel(id);
    const first = new RawSocket(node.wsUrl, token);
    const second: RawSocket[] = [];
    try {
      if (!(await welcomedOrClosed(first)) || first.welcome === undefined) return `the first socket was not welcomed: ${first.closeCode} ${first.closeReason}`;
      trace.push('second socket');
      const attempt = new RawSocket(node.wsUrl, revoked);
      second.push(attempt);
      await within(attempt, () => attempt.closeCode !== undefined, 10_000);
      trace.push('sends to the first');
      if (attempt.closeCode !== 4500) return `the second socket, on a revoked token, ended ${attempt.closeCode ?? 'open'} ${attempt.closeReason}; frames ${show(attempt.frames)}`;
      return await firstStillServed(node, id, first, attempt);
    } finally {
      await Promise.all([first, ...second].map(shut));
    }
  });
});

raceTest('a second socket whose attach Redis refuses fails; the first socket keeps receiving (or is closed, never deaf)', async (t, d) => {
  const { a: node, redis } = d;
  await loop(t, 'second socket refused by Redis at attach', 24_000, async (_run, trace) => {
    const id = unique('refused-second');
    const { token } = await node.createChannel(id);
    const first = new RawSocket(node.wsUrl, token);
    const second: RawSocket[] = [];
    let lift: (() => Promise<void>) | undefined;
    try {
      if (!(await welcomedOrClosed(first)) || first.welcome === undefined) return `the first socket was not welcomed: ${first.closeCode} ${first.closeReason}`;
      trace.push('refuse scripts, second socket');
      lift = await refuseScripts(redis);
      const attempt = new RawSocket(node.wsUrl, token);
      second.push(attempt);
      // The refusal lasts until the second socket gave up, or at most 3 s (a retrying attach).
      await within(attempt, () => attempt.closeCode !== undefined, 3000);
      trace.push('lift the refusal');
      await lift();
      await within(attempt, () => attempt.closeCode !== undefined || attempt.welcome !== undefined, 10_000);
      trace.push('sends to the first');
      if (attempt.welcome !== undefined && attempt.closeCode === undefined) {
        // It attached after all (a retry once Redis was back): then it holds the client id, and the
        // first socket must have been told it was replaced.
        const replaced = await within(first, () => first.closeCode !== undefined, 5000);
        return replaced ? undefined : 'the second socket attached late, but the first was never closed';
      }
      return await firstStillServed(node, id, first, attempt);
    } finally {
      await lift?.();
      await Promise.all([first, ...second].map(shut));
    }
  });
});

// ---- the one-socket rule: two opens of one client id at once, one on each node --------------

/** How the second open trails the first: some event-loop turns, or some ms; even runs open on A first. */
const TWIN_OFFSETS: readonly ({ turns: number } | { ms: number })[] = [{ turns: 0 }, { turns: 0 }, { turns: 1 }, { turns: 2 }, { ms: 1 }, { ms: 2 }, { ms: 4 }];

/**
 * Two sockets of one client id open at once on A and on B. Exactly one must stay open and be
 * served; the other is closed as replaced (4502). Presence says CONNECTED on both nodes, and a
 * watcher sees one CONNECTED and, once the survivor closes, one DISCONNECTED: a socket replaced by
 * a newer one sends nothing (docs/presence-webhooks.md).
 */
async function twoOpensAtOnce(a: TestServer, b: TestServer, run: number, trace: string[]): Promise<string | undefined> {
  const id = unique('twin');
  const offset = TWIN_OFFSETS[run % TWIN_OFFSETS.length]!;
  const [first, second] = run % 2 === 0 ? [a, b] : [b, a];
  const what = `${'turns' in offset ? `${offset.turns} turns` : `${offset.ms} ms`} apart, first on ${first === a ? 'A' : 'B'}`;
  trace.push('watch and mint');
  const watch = new PresenceStream(b.client, { clientIds: [id], snapshot: true }, b.metadata);
  const sockets: RawSocket[] = [];
  try {
    await watch.untilSnapshotComplete();
    const { token } = await a.createChannel(id);
    trace.push(`open twice, ${what}`);
    sockets.push(new RawSocket(first.wsUrl, token));
    if ('turns' in offset) for (let turn = 0; turn < offset.turns; turn++) await nextTurn();
    else await pause(offset.ms);
    sockets.push(new RawSocket(second.wsUrl, token));
    for (const socket of sockets) {
      if (!(await welcomedOrClosed(socket))) return `${what}: a socket got neither welcome nor close within 10 s`;
    }
    trace.push('awaiting one survivor');
    // The loser may be told a moment after its own welcome; its close is the event to wait for.
    const oneOpen = (): boolean => sockets.filter((s) => s.closeCode === undefined).length <= 1;
    await Promise.race(sockets.map((s) => within(s, oneOpen, 3000)));
    const open = sockets.filter((s) => s.closeCode === undefined);
    const wrongClose = sockets.filter((s) => s.closeCode !== undefined && !(s.closeCode === 4502 && s.closeReason === 'Replaced+by+newer+socket.'));
    if (open.length !== 1 || wrongClose.length > 0) {
      return `${what}: ${open.length} sockets open 3 s later; ends ${sockets.map((s) => `${s.closeCode ?? 'open'} ${s.closeReason ?? ''}`).join(', ')}`;
    }
    const survivor = open[0]!;
    trace.push('barrier and presence');
    if (!(await barrier(a, id, survivor, 'to the survivor')) || survivor.closeCode !== undefined) {
      return `${what}: the survivor ${survivor.closeCode === undefined ? 'did not get a message' : `closed with ${survivor.closeCode} ${survivor.closeReason}`}; frames ${show(survivor.frames)}`;
    }
    for (const [name, node] of [['A', a], ['B', b]] as const) {
      const [presence] = (await node.rpc.getPresence({ clientIds: [id] })).clients;
      if (presence?.connected !== true) return `${what}: GetPresence on ${name} says disconnected while the survivor is open`;
    }
    trace.push('close the survivor');
    await shut(survivor);
    const ended = await watch.until(() => watch.events.some((e) => e.state === PresenceState.PRESENCE_STATE_DISCONNECTED), 'DISCONNECTED').then(
      () => true,
      () => false,
    );
    const states = watch.events.map((e) => e.state);
    const expected = [PresenceState.PRESENCE_STATE_CONNECTED, PresenceState.PRESENCE_STATE_DISCONNECTED];
    if (!ended || states.length !== 2 || states[0] !== expected[0] || states[1] !== expected[1]) {
      return `${what}: the watcher saw ${JSON.stringify(brief(watch.events))}, not one CONNECTED then one DISCONNECTED`;
    }
    for (const [name, node] of [['A', a], ['B', b]] as const) {
      const [presence] = (await node.rpc.getPresence({ clientIds: [id] })).clients;
      if (presence?.connected !== false) return `${what}: GetPresence on ${name} says connected after the survivor closed`;
    }
    return undefined;
  } finally {
    watch.cancel();
    await Promise.all(sockets.map(shut));
  }
}

// Each run waits out the loser's grace before it is told (DISPLACED_GRACE_MS, 1 s): 50 runs, the
// least the races ask for, unless CHANNELD_RACE_RUNS says; on the shards, where the socket entry
// and presence live in the client id's shard and the news of each crosses from there.
const TWIN_RUNS = process.env['CHANNELD_RACE_RUNS'] === undefined ? 50 : RUNS;
raceTest(
  'two sockets of one client id open at once on two nodes: one survives and is served, the other is replaced (4502), presence says it once',
  async (t, d) => {
    await loop(t, 'two opens at once, two nodes', 26_000, (run, trace) => twoOpensAtOnce(d.a, d.b, run, trace), TWIN_RUNS);
  },
  LAYOUTS.filter((l) => l.title === 'races, 3 shards'),
);
