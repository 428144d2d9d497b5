import type { Fleet } from '../fleet.js';
import type { OpenReply, ReceiverReport, RunReply, RunSpec, SocketSpec } from '../ipc.js';
import { Histogram, type Percentiles } from '../load/histogram.js';
import type { BenchOptions, ScenarioName } from '../options.js';
import { CpuMeter } from '../procs.js';
import type { Target } from '../targets.js';

export interface Context {
  readonly target: Target;
  readonly fleet: Fleet;
  readonly options: BenchOptions;
  /** Figures of scenarios already run against this target (the latency scenario reads the unary peak). */
  readonly earlier: Partial<Record<ScenarioName, ScenarioResult>>;
}

export interface ScenarioResult {
  readonly scenario: ScenarioName;
  /** Set when the target cannot run the scenario (e.g. the RPC is UNIMPLEMENTED). */
  readonly skipped?: string;
  /** Named numbers; see bench/report.ts for their meaning and units. */
  readonly figures: Record<string, number>;
  /** Percent of one core per process while the scenario ran: the target's (`server`, or `nodeA`, `nodeB`, `redis`), `r0`…, `s0`…. */
  readonly cpu: Record<string, number>;
  readonly params: Record<string, number | string>;
  /** Loss, duplicates, errors: any entry fails the run. */
  readonly problems: string[];
}

/** `[start, end)` of part `i` when `n` items are cut into `parts` contiguous pieces. */
export function slice(n: number, parts: number, i: number): [number, number] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const start = i * base + Math.min(i, extra);
  return [start, start + base + (i < extra ? 1 : 0)];
}

export function cpuMeter(ctx: Context): CpuMeter {
  return new CpuMeter([...ctx.target.processes, ...ctx.fleet.processes]);
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}

/** Prints a live progress line every second until stopped. */
export function progress(ctx: Context, label: string, count: () => number, unit: string): () => void {
  const started = performance.now();
  const meter = cpuMeter(ctx);
  meter.start();
  let last = count();
  let lastMs = started;
  const tty = process.stdout.isTTY;
  const timer = setInterval(() => {
    const now = performance.now();
    const value = count();
    const rate = ((value - last) * 1000) / (now - lastMs);
    const cpu = Object.entries(meter.read()).map(([name, pct]) => `${name} ${pct}%`).join(' ');
    meter.start();
    last = value;
    lastMs = now;
    const line = `  [${ctx.target.kind}] ${label} ${((now - started) / 1000).toFixed(1)}s  ${fmt(value)} ${unit} (${fmt(rate)}/s)  cpu: ${cpu}`;
    process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);
  return () => {
    clearInterval(timer);
    if (tty) process.stdout.write('\r\x1b[2K');
  };
}

export interface SocketGroup {
  readonly clientIds: readonly string[];
  readonly openSeconds: number;
  readonly mintSeconds: number;
  readonly opened: number;
  readonly connectLatency: Percentiles;
  readonly problems: string[];
}

/** Mints one token per client id (split across the senders), in id order. */
export async function mint(ctx: Context, clientIds: readonly string[]): Promise<string[]> {
  const { senders } = ctx.fleet;
  const parts = await Promise.all(
    senders.map((s, i) => {
      const [a, b] = slice(clientIds.length, senders.length, i);
      return s.request<string[]>({ type: 'mint', clientIds: clientIds.slice(a, b), concurrency: 64 });
    }),
  );
  return parts.flat();
}

/**
 * Opens `tokens.length` sockets, receiver `i` holding the i-th contiguous slice, and resolves once
 * every socket got its welcome (or failed).
 */
export async function openSockets(ctx: Context, tokens: readonly string[], topic?: string): Promise<{ seconds: number; replies: OpenReply[] }> {
  const { receivers } = ctx.fleet;
  const started = performance.now();
  const replies = await Promise.all(
    receivers.map((r, i) => {
      const [a, b] = slice(tokens.length, receivers.length, i);
      const sockets: SocketSpec[] = [];
      for (let k = a; k < b; k++) sockets.push({ clientIdx: k, token: tokens[k]! });
      return r.request<OpenReply>({ type: 'open', endpoint: ctx.target.ws, sockets, concurrency: ctx.options.connectConcurrency, ...(topic === undefined ? {} : { topic }) });
    }),
  );
  return { seconds: (performance.now() - started) / 1000, replies };
}

/** What went wrong while sockets opened: every socket without its welcome is a problem. */
export function openProblems(replies: readonly OpenReply[]): string[] {
  const problems: string[] = [];
  const dropped = replies.reduce((sum, r) => sum + r.droppedAfterUpgrade, 0);
  if (dropped > 0) problems.push(`${dropped} sockets dropped by the server right after their 101, before the welcome, without a close frame`);
  for (const reply of replies) if (reply.failed > 0) problems.push(`${reply.failed} sockets failed to open: ${reply.firstError}`);
  return problems;
}

export async function openGroup(ctx: Context, prefix: string, count: number): Promise<SocketGroup> {
  const clientIds = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const mintStarted = performance.now();
  const tokens = await mint(ctx, clientIds);
  const mintSeconds = (performance.now() - mintStarted) / 1000;
  const { seconds, replies } = await openSockets(ctx, tokens);
  const connect = new Histogram();
  let opened = 0;
  for (const reply of replies) {
    connect.merge(reply.connectHistogram);
    opened += reply.opened;
  }
  const problems = openProblems(replies);
  return { clientIds, openSeconds: seconds, mintSeconds, opened, connectLatency: connect.percentiles(), problems };
}

export async function closeSockets(ctx: Context): Promise<void> {
  await Promise.all(ctx.fleet.receivers.map((r) => r.request({ type: 'close' })));
}

export interface PhaseResult {
  readonly delivered: number;
  readonly expected: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly calls: number;
  readonly latency: Percentiles;
  readonly cpu: Record<string, number>;
  /** CPU seconds each process (the target's and the generators') used during the phase. */
  readonly cpuSeconds: Record<string, number>;
  /**
   * Figures every throughput scenario reports: `serverCpuMsPer1k`, the target's CPU (every one of
   * its processes) in ms per 1,000 deliveries, and `wireBytesPerDelivery`, bytes the receivers read
   * off their sockets per delivery (frames with their headers).
   */
  readonly extra: { serverCpuMsPer1k: number; wireBytesPerDelivery: number };
  readonly problems: string[];
}

/**
 * One measured run: every sender runs `specFor(i)`, then the phase waits until every expected
 * delivery arrived (or none arrived for --drain-timeout), and checks each socket's count.
 * The rate is deliveries over the time from the first send to the last delivery. A broadcast
 * over several `topics` needs `topicOfSocket`: each socket's index into them (every sender's spec
 * lists the same topics), so that each socket is owed just its own topic's broadcasts.
 */
export async function runPhase(
  ctx: Context,
  label: string,
  group: SocketGroup,
  specFor: (senderIndex: number) => RunSpec,
  topicOfSocket?: readonly number[],
): Promise<PhaseResult> {
  const { fleet, options } = ctx;
  await Promise.all(fleet.receivers.map((r) => r.request({ type: 'phase' })));
  const specs = fleet.senders.map((_, i) => specFor(i));
  fleet.beginPhase(options.maxOutstanding);
  const meter = cpuMeter(ctx);
  const stopProgress = progress(ctx, label, () => fleet.delivered, 'delivered');
  meter.start();
  const started = performance.now();
  let replies: RunReply[];
  try {
    replies = await Promise.all(fleet.senders.map((s, i) => s.request<RunReply>({ type: 'run', spec: specs[i]! })));
  } finally {
    fleet.endPhase();
  }
  const expectedPerSocket = new Array<number>(group.clientIds.length).fill(0);
  let calls = 0;
  const problems: string[] = [];
  replies.forEach((reply, i) => {
    calls += reply.calls;
    if (reply.errors > 0) problems.push(`sender ${i}: ${reply.errors} failed calls, first: ${reply.firstError}`);
    const spec = specs[i]!;
    if (spec.kind === 'broadcast' && (spec.topics?.length ?? 0) > 0) {
      if (topicOfSocket === undefined) throw new Error(`${label}: a broadcast over several topics needs each socket's topic`);
      const perTopic = reply.sentPerTopic ?? [];
      for (let k = 0; k < expectedPerSocket.length; k++) expectedPerSocket[k]! += perTopic[topicOfSocket[k]!] ?? 0;
    } else if (spec.kind === 'broadcast') {
      for (let k = 0; k < expectedPerSocket.length; k++) expectedPerSocket[k]! += reply.calls;
    } else {
      spec.clients.forEach((c, k) => (expectedPerSocket[c.clientIdx]! += reply.sentPerClient[k]!));
    }
  });
  const expected = expectedPerSocket.reduce((a, b) => a + b, 0);
  await fleet.waitFor(() => fleet.delivered >= expected, options.drainTimeoutSeconds * 1000);
  const seconds = (Math.max(fleet.lastDeliveryMs, started + 1) - started) / 1000;
  const cpu = meter.read();
  const used = meter.used();
  const serverCpuSeconds = ctx.target.processes.reduce((sum, p) => sum + (used[p.name] ?? 0), 0);
  stopProgress();

  const reports = await Promise.all(fleet.receivers.map((r) => r.request<ReceiverReport>({ type: 'report' })));
  const latency = new Histogram();
  let delivered = 0;
  let missingSockets = 0;
  let missing = 0;
  let surplus = 0;
  let firstMismatch = '';
  let idx = 0;
  let wireBytes = 0;
  for (const report of reports) {
    latency.merge(report.latency);
    wireBytes += report.wireBytes;
    for (const got of report.received) {
      const want = expectedPerSocket[idx] ?? 0;
      delivered += got;
      if (got !== want) {
        if (firstMismatch === '') firstMismatch = `socket ${idx} got ${got} of ${want}`;
        if (got < want) {
          missingSockets++;
          missing += want - got;
        } else surplus += got - want;
      }
      idx++;
    }
    const counts: [string, number][] = [
      ['duplicates', report.duplicates],
      ['server seq errors', report.seqErrors],
      ['misrouted messages', report.misrouted],
      ['unparsed frames', report.unparsed],
      ['unexpected socket closes', report.unexpectedCloses],
    ];
    for (const [what, n] of counts) if (n > 0) problems.push(`${n} ${what} (${report.firstProblem})`);
  }
  if (missing > 0) problems.push(`lost ${missing} deliveries on ${missingSockets} sockets (${firstMismatch})`);
  if (surplus > 0) problems.push(`${surplus} deliveries more than sent (${firstMismatch})`);
  if (calls === 0) problems.push('no call succeeded');
  const extra = {
    serverCpuMsPer1k: delivered === 0 ? 0 : (serverCpuSeconds * 1000 * 1000) / delivered,
    wireBytesPerDelivery: delivered === 0 ? 0 : wireBytes / delivered,
  };
  return { delivered, expected, seconds, perSecond: delivered / seconds, calls, latency: latency.percentiles(), cpu, cpuSeconds: used, extra, problems };
}

export function clientsFor(group: SocketGroup, senders: number, i: number): { clientId: string; clientIdx: number }[] {
  const [a, b] = slice(group.clientIds.length, senders, i);
  const out: { clientId: string; clientIdx: number }[] = [];
  for (let k = a; k < b; k++) out.push({ clientId: group.clientIds[k]!, clientIdx: k });
  return out;
}
