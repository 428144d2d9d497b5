import { toClient, type Rpc } from './grpc.js';
import { JitterClient, type JitterLedger, type JitterTransport } from './jitter-client.js';

/** One channeld node as the jitter run sees it: sockets go to `wsUrl`, calls to `rpc`. */
export interface JitterNode {
  readonly wsUrl: string;
  readonly rpc: Rpc;
}

export interface JitterOptions {
  readonly clients: number;
  /** How long messages are sent while sockets are being cut. */
  readonly sendSeconds: number;
  /** Mean time a socket lives before its TCP connection is destroyed (uniform in ½…1½ of it). */
  readonly dropEveryMs: number;
  /**
   * Mean time a client stays offline before it reconnects: uniform in 0…2× of it, and one reconnect
   * in ten at once, while the node it left may not have seen the old socket close yet.
   */
  readonly offlineGapMs: number;
  /** SendMessage calls per second over all clients, round-robin, each through the next node. */
  readonly messagesPerSecond: number;
  /** Broadcasts per second to the topic every client is a member of. */
  readonly broadcastsPerSecond: number;
  /** How long the run waits, after the last send, for every client to have everything. */
  readonly drainTimeoutMs: number;
  /** Client ids and the topic are named from it, so runs on one Redis do not meet. */
  readonly idPrefix: string;
  /** How the clients' frames travel. @default 'websocket' */
  readonly transport?: JitterTransport;
}

export interface Percentiles {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface JitterReport {
  readonly clients: number;
  readonly transport: JitterTransport;
  readonly nodes: number;
  readonly reconnects: number;
  /** Sockets the server (not the run) ended; 4001 is allowed, anything else is a violation too. */
  readonly serverCloses: number;
  /** Channel messages SendMessage answered OK. */
  readonly messages: number;
  /** Broadcasts answered OK (each one is a delivery to every client). */
  readonly broadcasts: number;
  /** Deliveries owed: every OK'd message to its client, every OK'd broadcast to every client. */
  readonly deliveriesOwed: number;
  /** Of those, received exactly once, in seq order, with the payload that was sent. */
  readonly exactlyOnce: number;
  readonly exactlyOncePercent: number;
  readonly failedCalls: number;
  readonly firstFailure: string;
  /** Every break of the rules (duplicate, gap, late, not recovered, missing, server close …). */
  readonly violations: number;
  readonly firstViolations: readonly string[];
  readonly topicWireDuplicates: number;
  /** From a reconnect (the new socket created) to having every message OK'd before it. */
  readonly catchUp: Percentiles;
  readonly interruptedCatchUps: number;
  /** How long sending took: more than `sendSeconds` when calls were too slow for the asked rate. */
  readonly sendingSeconds: number;
  readonly seconds: number;
}

const SEND_IN_FLIGHT = 256;
const TICK_MS = 5;
const ACK_EVERY_MS = 500;
const OPEN_CONCURRENCY = 100;
const MINT_CONCURRENCY = 32;
const SUBSCRIBE_CHUNK = 1000;
const KEPT_VIOLATIONS = 20;
/** The share of reconnects made with no gap at all. */
const IMMEDIATE_RECONNECTS = 0.1;

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? 0 };
}

const around = (meanMs: number): number => meanMs * (0.5 + Math.random());

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Calls `issue` at `perSecond` for `seconds`, at most SEND_IN_FLIGHT at once; resolves when all settled. */
async function paced(perSecond: number, seconds: number, issue: (k: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const total = Math.floor(perSecond * seconds);
  if (total === 0) return;
  let issued = 0;
  let inFlight = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor((perSecond * (performance.now() - started)) / 1000));
      while (issued < due && inFlight < SEND_IN_FLIGHT) {
        inFlight++;
        void issue(issued++).finally(() => {
          inFlight--;
          if (issued === total && inFlight === 0) {
            clearInterval(tick);
            resolve();
          }
        });
      }
    }, TICK_MS);
  });
}

/**
 * The jitter run (issue 8): `clients` sockets, each cut every ~`dropEveryMs` (TCP destroyed, no
 * close frame) and back after ~`offlineGapMs` on the next node with its last seq, while messages
 * flow at a steady rate to every client's channel and to a topic they all belong to. Reports how
 * many owed deliveries arrived exactly once, in order, and how long a reconnect took to catch up.
 */
export async function runJitter(nodes: readonly JitterNode[], o: JitterOptions, log: (line: string) => void = () => undefined): Promise<JitterReport> {
  const started = performance.now();
  const first = nodes[0]!;
  const topic = `${o.idPrefix}-all`;
  const ids = Array.from({ length: o.clients }, (_, i) => `${o.idPrefix}-${i}`);
  const tokens = new Array<string>(o.clients);
  await eachLimited(ids.map((id, i) => [id, i] as const), MINT_CONCURRENCY, async ([clientId, i]) => {
    tokens[i] = (await first.rpc.createChannel({ clientId, durationMinutes: 0 })).token;
  });
  for (let i = 0; i < ids.length; i += SUBSCRIBE_CHUNK) await first.rpc.subscribe({ clientIds: ids.slice(i, i + SUBSCRIBE_CHUNK), topic });

  const owed = ids.map(() => new Map<number, string>());
  const ackedMax = new Array<number>(o.clients).fill(0);
  const topicOwed = new Map<number, string>();
  let topicMax = 0;
  const violations: string[] = [];
  let violationCount = 0;
  const catchUps: number[] = [];
  let interrupted = 0;
  let topicWireDuplicates = 0;
  let failedCalls = 0;
  let firstFailure = '';
  let dropping = true;
  let sendingStarted = 0;
  let sendingSeconds = 0;
  const ledger: JitterLedger = {
    violation(clientIdx, text) {
      violationCount++;
      if (violations.length < KEPT_VIOLATIONS) violations.push(`client ${clientIdx}: ${text}`);
    },
    topicWireDuplicate: () => void topicWireDuplicates++,
    caughtUp: (ms) => void catchUps.push(ms),
    interrupted: () => void interrupted++,
  };
  const failed = (what: string, err: unknown): void => {
    failedCalls++;
    if (firstFailure === '') firstFailure = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  };
  const clients = ids.map(
    (_, clientIdx) =>
      new JitterClient({
        clientIdx,
        token: tokens[clientIdx]!,
        topic,
        wsUrls: nodes.map((n) => n.wsUrl),
        ledger,
        acked: { channel: (c) => ackedMax[c]!, topic: () => topicMax },
        nextDropMs: () => (dropping ? around(o.dropEveryMs) : undefined),
        nextGapMs: () => (Math.random() < IMMEDIATE_RECONNECTS ? 0 : 2 * o.offlineGapMs * Math.random()),
        transport: o.transport ?? 'websocket',
      }),
  );
  const acks = setInterval(() => clients.forEach((c) => c.ack()), ACK_EVERY_MS);
  const progress = setInterval(() => {
    const reconnects = clients.reduce((sum, c) => sum + c.reconnects, 0);
    log(`jitter ${((performance.now() - started) / 1000).toFixed(0)}s: ${reconnects} reconnects, ${catchUps.length} caught up, ${violationCount} violations, ${failedCalls} failed calls`);
  }, 5000);
  try {
    await eachLimited(clients, OPEN_CONCURRENCY, (c) => c.start());
    log(`jitter: ${o.clients} clients open on ${nodes.length} node(s); sending for ${o.sendSeconds} s`);
    sendingStarted = performance.now();
    await Promise.all([
      paced(o.messagesPerSecond, o.sendSeconds, async (k) => {
        const clientIdx = k % o.clients;
        const message = `${clientIdx}:${k}`;
        try {
          const { seq } = await nodes[k % nodes.length]!.rpc.sendMessage(toClient(ids[clientIdx]!, message));
          owed[clientIdx]!.set(seq, message);
          ackedMax[clientIdx] = Math.max(ackedMax[clientIdx]!, seq);
        } catch (err) {
          failed('SendMessage', err);
        }
      }),
      paced(o.broadcastsPerSecond, o.sendSeconds, async (k) => {
        const message = `t:${k}`;
        try {
          const res = await nodes[k % nodes.length]!.rpc.broadcast({ message, clientIds: [], topics: [topic] });
          const seq = res.topics[0]!.seq;
          topicOwed.set(seq, message);
          topicMax = Math.max(topicMax, seq);
        } catch (err) {
          failed('Broadcast', err);
        }
      }),
    ]);
    sendingSeconds = (performance.now() - sendingStarted) / 1000;
    dropping = false;
    clients.forEach((c) => c.stopDropping());
    const deadline = performance.now() + o.drainTimeoutMs;
    await Promise.all(
      clients.map((c, i) =>
        c
          .until(() => c.online && c.lastChannelSeq >= ackedMax[i]! && c.lastTopicSeq >= topicMax, 'everything owed', Math.max(1, deadline - performance.now()))
          .catch((err: unknown) => ledger.violation(i, err instanceof Error ? err.message : String(err))),
      ),
    );
  } finally {
    clearInterval(acks);
    clearInterval(progress);
    clients.forEach((c) => c.close());
  }

  let exactlyOnce = 0;
  let messages = 0;
  clients.forEach((c, i) => {
    for (const [seq, payload] of owed[i]!) {
      messages++;
      const got = c.channel.get(seq);
      if (got === payload && c.channelFrames.get(seq) === 1 && !c.outOfOrder.has(seq)) exactlyOnce++;
      else if (got === undefined) ledger.violation(i, `channel seq ${seq} (${payload}) never delivered`);
      else if (got !== payload) ledger.violation(i, `channel seq ${seq} carried ${got}, sent as ${payload}`);
    }
    for (const seq of c.channel.keys()) if (!owed[i]!.has(seq)) ledger.violation(i, `channel seq ${seq} delivered, but no SendMessage was answered OK with it`);
    for (const [seq, payload] of topicOwed) {
      const got = c.topicDelivered.get(seq);
      if (got === payload) exactlyOnce++;
      else ledger.violation(i, got === undefined ? `topic seq ${seq} never delivered` : `topic seq ${seq} carried ${got}, sent as ${payload}`);
    }
    if (c.heldTopicFrames > 0) ledger.violation(i, `${c.heldTopicFrames} topic frames held forever, waiting for a missing seq`);
  });
  const deliveriesOwed = messages + topicOwed.size * o.clients;
  return {
    clients: o.clients,
    transport: o.transport ?? 'websocket',
    nodes: nodes.length,
    reconnects: clients.reduce((sum, c) => sum + c.reconnects, 0),
    serverCloses: clients.reduce((sum, c) => sum + c.serverCloses, 0),
    messages,
    broadcasts: topicOwed.size,
    deliveriesOwed,
    exactlyOnce,
    exactlyOncePercent: deliveriesOwed === 0 ? 0 : (100 * exactlyOnce) / deliveriesOwed,
    failedCalls,
    firstFailure,
    violations: violationCount,
    firstViolations: violations,
    topicWireDuplicates,
    catchUp: percentiles(catchUps),
    interruptedCatchUps: interrupted,
    sendingSeconds,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The run's size from the environment (JITTER_CLIENTS, JITTER_SECONDS, …), so the bench can run it in full. */
export function jitterOptionsFromEnv(defaults: JitterOptions, env: NodeJS.ProcessEnv = process.env): JitterOptions {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} is "${raw}"; it must be a non-negative number`);
    return n;
  };
  return {
    ...defaults,
    clients: num('JITTER_CLIENTS', defaults.clients),
    sendSeconds: num('JITTER_SECONDS', defaults.sendSeconds),
    dropEveryMs: num('JITTER_DROP_MS', defaults.dropEveryMs),
    offlineGapMs: num('JITTER_GAP_MS', defaults.offlineGapMs),
    messagesPerSecond: num('JITTER_RATE', defaults.messagesPerSecond),
    broadcastsPerSecond: num('JITTER_TOPIC_RATE', defaults.broadcastsPerSecond),
    drainTimeoutMs: num('JITTER_DRAIN_MS', defaults.drainTimeoutMs),
  };
}

export function describeJitter(r: JitterReport): string {
  return (
    `${r.clients} clients on ${r.nodes} node(s) over ${r.transport}, ${r.reconnects} reconnects in ${r.seconds.toFixed(1)} s (${r.sendingSeconds.toFixed(1)} s of sending): ` +
    `${r.exactlyOnce}/${r.deliveriesOwed} deliveries exactly once, in order (${r.exactlyOncePercent.toFixed(3)} %; ` +
    `${r.messages} channel messages, ${r.broadcasts} broadcasts); catch-up p50 ${r.catchUp.p50Ms.toFixed(1)} ms, ` +
    `p99 ${r.catchUp.p99Ms.toFixed(1)} ms, max ${r.catchUp.maxMs.toFixed(1)} ms over ${r.catchUp.count} reconnects ` +
    `(${r.interruptedCatchUps} cut again before catching up); ${r.violations} violations, ${r.failedCalls} failed calls, ` +
    `${r.serverCloses} server closes, ${r.topicWireDuplicates} topic frames sent twice (dropped by the client)`
  );
}
