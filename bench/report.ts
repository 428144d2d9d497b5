import type { BenchOptions, ScenarioName, TargetKind } from './options.js';
import type { Machine } from './procs.js';
import type { ScenarioResult } from './scenarios/context.js';

export interface BenchResults {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly options: BenchOptions;
  /** Per target, the scenarios in the order they ran. */
  readonly targets: Partial<Record<TargetKind, ScenarioResult[]>>;
  readonly comparison: FigureRow[];
  readonly goals: GoalRow[];
  /** True when no scenario lost, duplicated or misrouted a message and no call failed. */
  readonly ok: boolean;
  readonly problems: string[];
}

interface Figure {
  readonly scenario: ScenarioName;
  readonly key: string;
  readonly label: string;
  readonly better: 'higher' | 'lower' | 'info';
  readonly digits: number;
}

export interface FigureRow {
  readonly scenario: ScenarioName;
  readonly figure: string;
  readonly key: string;
  readonly better: Figure['better'];
  readonly channeld: number | null;
  readonly centrifugo: number | null;
  /** channeld / Centrifugo. */
  readonly centrifugoRatio: number | null;
  readonly baseline: number | null;
  /** channeld / baseline. */
  readonly ratio: number | null;
  /** One channeld node with --compression on (receivers inflate). */
  readonly deflate: number | null;
  /** channeld-deflate / channeld. */
  readonly deflateRatio: number | null;
  /** Two channeld nodes over Redis (senders → node A, sockets on node B). */
  readonly cluster: number | null;
  /** cluster / channeld: what going through Redis to another node costs. */
  readonly clusterRatio: number | null;
}

export interface GoalRow {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | null;
}

const FIGURES: readonly Figure[] = [
  { scenario: 'unary', key: 'messagesPerSecond', label: 'unary SendMessage (Centrifugo: Publish) → 1k sockets: delivered msg/s', better: 'higher', digits: 0 },
  { scenario: 'unary', key: 'serverCpuMsPer1k', label: 'unary: server CPU ms per 1,000 messages', better: 'lower', digits: 1 },
  { scenario: 'unary', key: 'p50Ms', label: 'unary at full speed: latency p50 (ms)', better: 'lower', digits: 2 },
  { scenario: 'unary', key: 'p95Ms', label: 'unary at full speed: latency p95 (ms)', better: 'lower', digits: 2 },
  { scenario: 'unary', key: 'p99Ms', label: 'unary at full speed: latency p99 (ms)', better: 'lower', digits: 2 },
  { scenario: 'unary', key: 'wireBytesPerDelivery', label: 'unary: bytes on the wire per delivery', better: 'lower', digits: 1 },
  { scenario: 'fixed-rate', key: 'targetRate', label: 'fixed rate, same for all: offered msg/s', better: 'info', digits: 0 },
  { scenario: 'fixed-rate', key: 'p50Ms', label: 'fixed rate: latency p50 (ms)', better: 'lower', digits: 2 },
  { scenario: 'fixed-rate', key: 'p95Ms', label: 'fixed rate: latency p95 (ms)', better: 'lower', digits: 2 },
  { scenario: 'fixed-rate', key: 'p99Ms', label: 'fixed rate: latency p99 (ms)', better: 'lower', digits: 2 },
  { scenario: 'fixed-rate', key: 'serverCpuMsPer1k', label: 'fixed rate: server CPU ms per 1,000 messages', better: 'lower', digits: 1 },
  { scenario: 'batch', key: 'messagesPerSecond', label: 'batch API (SendMessages; Centrifugo: Batch) → 1k sockets: delivered msg/s', better: 'higher', digits: 0 },
  { scenario: 'batch', key: 'serverCpuMsPer1k', label: 'batch: server CPU ms per 1,000 messages', better: 'lower', digits: 1 },
  { scenario: 'stream', key: 'messagesPerSecond', label: 'StreamMessages → 1k sockets: delivered msg/s', better: 'higher', digits: 0 },
  { scenario: 'stream', key: 'serverCpuMsPer1k', label: 'stream: server CPU ms per 1,000 messages', better: 'lower', digits: 1 },
  { scenario: 'http-unary', key: 'messagesPerSecond', label: 'HTTP API SendMessage → 1k sockets: delivered msg/s', better: 'higher', digits: 0 },
  { scenario: 'http-unary', key: 'serverCpuMsPer1k', label: 'HTTP API SendMessage: server CPU ms per 1,000 messages', better: 'lower', digits: 1 },
  { scenario: 'http-batch', key: 'messagesPerSecond', label: 'HTTP API SendMessages → 1k sockets: delivered msg/s', better: 'higher', digits: 0 },
  { scenario: 'http-batch', key: 'serverCpuMsPer1k', label: 'HTTP API SendMessages: server CPU ms per 1,000 messages', better: 'lower', digits: 1 },
  { scenario: 'topic', key: 'deliveriesPerSecond', label: 'topic Broadcast (Centrifugo: Publish to one channel) → 10k sockets: deliveries/s', better: 'higher', digits: 0 },
  { scenario: 'topic', key: 'broadcastsPerSecond', label: 'topic Broadcast: Broadcast calls/s', better: 'info', digits: 0 },
  { scenario: 'topic', key: 'serverCpuMsPer1k', label: 'topic: server CPU ms per 1,000 deliveries', better: 'lower', digits: 2 },
  { scenario: 'topic', key: 'wireBytesPerDelivery', label: 'topic: bytes on the wire per delivery', better: 'lower', digits: 1 },
  { scenario: 'storm', key: 'connectionsPerSecond', label: 'connect storm: connections/s', better: 'higher', digits: 0 },
  { scenario: 'storm', key: 'connectP99Ms', label: 'connect storm: handshake→welcome p99 (ms)', better: 'lower', digits: 1 },
  { scenario: 'storm', key: 'tokensPerSecond', label: 'connect storm: CreateChannel tokens/s', better: 'higher', digits: 0 },
  { scenario: 'storm', key: 'rssPerSocketKiB', label: 'connect storm: server RSS per idle socket (KiB)', better: 'lower', digits: 2 },
  { scenario: 'latency', key: 'targetRate', label: 'fixed load: offered msg/s (50 % of own unary peak)', better: 'info', digits: 0 },
  { scenario: 'latency', key: 'p50Ms', label: 'fixed load: latency p50 (ms)', better: 'lower', digits: 2 },
  { scenario: 'latency', key: 'p95Ms', label: 'fixed load: latency p95 (ms)', better: 'lower', digits: 2 },
  { scenario: 'latency', key: 'p99Ms', label: 'fixed load: latency p99 (ms)', better: 'lower', digits: 2 },
  { scenario: 'jitter', key: 'exactlyOncePercent', label: 'jitter: deliveries exactly once, in order (%)', better: 'higher', digits: 3 },
  { scenario: 'jitter', key: 'catchUpP50Ms', label: 'jitter: replay catch-up p50 (ms)', better: 'lower', digits: 1 },
  { scenario: 'jitter', key: 'catchUpP99Ms', label: 'jitter: replay catch-up p99 (ms)', better: 'lower', digits: 1 },
  { scenario: 'jitter', key: 'reconnects', label: 'jitter: reconnects', better: 'info', digits: 0 },
];

function figure(results: BenchResults['targets'], target: TargetKind, scenario: ScenarioName, key: string): number | null {
  const value = results[target]?.find((r) => r.scenario === scenario)?.figures[key];
  return value === undefined || !Number.isFinite(value) ? null : value;
}

function over(x: number | null, y: number | null): number | null {
  return x !== null && y !== null && y !== 0 ? x / y : null;
}

export function compare(targets: BenchResults['targets']): FigureRow[] {
  return FIGURES.map((f) => {
    const channeld = figure(targets, 'channeld', f.scenario, f.key);
    const centrifugo = figure(targets, 'centrifugo', f.scenario, f.key);
    const baseline = figure(targets, 'baseline', f.scenario, f.key);
    const cluster = figure(targets, 'cluster', f.scenario, f.key);
    const deflate = figure(targets, 'channeld-deflate', f.scenario, f.key);
    return {
      scenario: f.scenario,
      figure: f.label,
      key: f.key,
      better: f.better,
      channeld,
      centrifugo,
      centrifugoRatio: over(channeld, centrifugo),
      baseline,
      ratio: over(channeld, baseline),
      deflate,
      deflateRatio: over(deflate, channeld),
      cluster,
      clusterRatio: over(cluster, channeld),
    };
  });
}

/** The targets of issues 4 and 8, checked against this run. */
export function goals(targets: BenchResults['targets']): GoalRow[] {
  const c = (s: ScenarioName, k: string): number | null => figure(targets, 'channeld', s, k);
  const b = (s: ScenarioName, k: string): number | null => figure(targets, 'baseline', s, k);
  const z = (s: ScenarioName, k: string): number | null => figure(targets, 'centrifugo', s, k);
  const atMost = (goal: string, value: number | null, max: number, show: (v: number) => string): GoalRow => ({
    goal,
    measured: value === null ? 'not measured' : show(value),
    met: value === null ? null : value <= max,
  });
  const atLeast = (goal: string, value: number | null, min: number, show: (v: number) => string): GoalRow => ({
    goal,
    measured: value === null ? 'not measured' : show(value),
    met: value === null ? null : value >= min,
  });
  const ratio = (x: number | null, y: number | null): number | null => (x === null || y === null || y === 0 ? null : x / y);
  const int = (v: number): string => Math.round(v).toLocaleString('en-US');
  const times = (v: number): string => `${v.toFixed(2)}×`;
  const storm = c('storm', 'sockets');
  const rss = c('storm', 'rssPerSocketKiB');
  const p99 = c('latency', 'p99Ms');
  const exactlyOnce = (target: TargetKind, name: string): GoalRow => {
    const pct = figure(targets, target, 'jitter', 'exactlyOncePercent');
    return { goal: `jitter, ${name}: 100 % exactly once, in order (issue 8)`, measured: pct === null ? 'not measured' : `${pct.toFixed(3)} %`, met: pct === null ? null : pct === 100 };
  };
  return [
    atLeast('topic fan-out ≥ 1,000,000 deliveries/s', c('topic', 'deliveriesPerSecond'), 1_000_000, int),
    atLeast('topic fan-out ≥ 5× baseline', ratio(c('topic', 'deliveriesPerSecond'), b('topic', 'deliveriesPerSecond')), 5, times),
    atLeast('streaming ingest ≥ 100,000 msg/s', c('stream', 'messagesPerSecond'), 100_000, int),
    atLeast('unary ≥ 2× baseline', ratio(c('unary', 'messagesPerSecond'), b('unary', 'messagesPerSecond')), 2, times),
    { goal: 'p99 ≤ 10 ms at 50 % load', measured: p99 === null ? 'not measured' : `${p99.toFixed(2)} ms`, met: p99 === null ? null : p99 <= 10 },
    {
      goal: '≤ 8 KB RSS per idle socket at 10,000 sockets',
      measured: rss === null ? 'not measured' : `${rss.toFixed(2)} KiB at ${storm ?? 0} sockets`,
      met: rss === null || storm === null || storm < 10_000 ? null : rss * 1024 <= 8000,
    },
    exactlyOnce('channeld', 'one node'),
    exactlyOnce('cluster', '3 nodes + Redis'),
    atLeast('issue 9: unary msg/s ≥ 1.5× Centrifugo', ratio(c('unary', 'messagesPerSecond'), z('unary', 'messagesPerSecond')), 1.5, times),
    atMost('issue 9: unary server CPU per message ≤ Centrifugo', ratio(c('unary', 'serverCpuMsPer1k'), z('unary', 'serverCpuMsPer1k')), 1, times),
    atMost('issue 9: p99 at the fixed rate ≤ Centrifugo', ratio(c('fixed-rate', 'p99Ms'), z('fixed-rate', 'p99Ms')), 1, times),
    atMost('issue 9: p99 ≤ 5 ms at the fixed rate', c('fixed-rate', 'p99Ms'), 5, (v) => `${v.toFixed(2)} ms at ${Math.round(c('fixed-rate', 'targetRate') ?? 0)} msg/s`),
    atLeast(
      'issue 9: best of batch/stream ≥ 2× Centrifugo batch',
      ratio(Math.max(c('batch', 'messagesPerSecond') ?? 0, c('stream', 'messagesPerSecond') ?? 0) || null, z('batch', 'messagesPerSecond')),
      2,
      times,
    ),
    atLeast('issue 9: fan-out ≥ 10× Centrifugo', ratio(c('topic', 'deliveriesPerSecond'), z('topic', 'deliveriesPerSecond')), 10, times),
  ];
}

const TARGET_ORDER: readonly TargetKind[] = ['channeld', 'centrifugo', 'baseline', 'cluster', 'channeld-deflate'];

function num(v: number | null, digits: number): string {
  if (v === null) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function markdown(results: BenchResults): string {
  const m = results.machine;
  const o = results.options;
  const lines: string[] = [];
  lines.push(`Run ${results.startedAt} → ${results.finishedAt}: **${results.ok ? 'no loss, no duplicates, no failed calls' : 'FAILED'}**`);
  lines.push('');
  lines.push(`Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}, open files ${m.openFilesLimit}, load average at the end ${m.loadAverage.join(' / ')}.`);
  lines.push(
    `Parameters: ${o.sockets} sockets (unary, stream, latency), ${o.topicSockets} sockets (storm, topic), ${o.durationSeconds} s per scenario, ` +
      `${o.messageBytes}-byte messages, ${o.receivers} receiver + ${o.senders} sender processes, in flight per sender: unary ${o.unaryInFlight}, ` +
      `stream ${o.streamInFlight} (${o.streamBatch} per request), batch ${o.batchInFlight} calls of ${o.batchSize}, broadcast ${o.broadcastInFlight}; ` +
      `latency load ${o.latencyLoad * 100} % of each target's own unary peak; fixed rate ${o.fixedRate} msg/s for every target; ` +
      `senders: ${o.nodeSenders ? 'Node (grpc-js, bench/load/sender.ts)' : 'Go (bench/loadgen)'}.`,
  );
  if (o.scenarios.includes('jitter')) {
    const j = o.jitter;
    lines.push(
      `Jitter: ${j.clients} clients, ${j.sendSeconds} s of sending, each socket's TCP destroyed every ~${j.dropEveryMs / 1000} s and back after 0–${(2 * j.offlineGapMs) / 1000} s ` +
        `on the next node, ${j.messagesPerSecond} SendMessage/s and ${j.broadcastsPerSecond} Broadcast/s to a topic every client is in.`,
    );
  }
  const digits = (row: FigureRow): number => FIGURES.find((x) => x.scenario === row.scenario && x.key === row.key)!.digits;
  const note = (row: FigureRow): string => (row.better === 'lower' ? ' (lower is better)' : '');
  const times = (v: number | null): string => (v === null ? '—' : `${v.toFixed(2)}×`);
  const mainRows = results.comparison.filter((row) => row.channeld !== null || row.centrifugo !== null || row.baseline !== null);
  if (mainRows.length > 0) {
    lines.push('');
    lines.push('| figure | channeld | Centrifugo | baseline (grpc-js + Socket.IO) | channeld / Centrifugo | channeld / baseline |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const row of mainRows) {
      lines.push(
        `| ${row.figure}${note(row)} | ${num(row.channeld, digits(row))} | ${num(row.centrifugo, digits(row))} | ${num(row.baseline, digits(row))} | ${times(row.centrifugoRatio)} | ${times(row.ratio)} |`,
      );
    }
  }
  const deflateRows = results.comparison.filter((row) => row.deflate !== null);
  if (deflateRows.length > 0) {
    lines.push('');
    lines.push(`channeld with \`--compression ${o.compression}\` (receivers offer permessage-deflate and inflate every frame) against channeld without:`);
    lines.push('');
    lines.push('| figure | channeld, compression off | channeld, compression on | on / off |');
    lines.push('| --- | ---: | ---: | ---: |');
    for (const row of deflateRows) {
      lines.push(`| ${row.figure}${note(row)} | ${num(row.channeld, digits(row))} | ${num(row.deflate, digits(row))} | ${times(row.deflateRatio)} |`);
    }
  }
  const clusterRows = results.comparison.filter((row) => row.cluster !== null);
  if (clusterRows.length > 0) {
    lines.push('');
    const jitterRan = (results.targets.cluster ?? []).some((r) => r.scenario === 'jitter' && r.skipped === undefined);
    lines.push(
      'Two nodes + Redis against one node: senders call node A, every socket is on node B, so every delivery goes A → Redis → B.' +
        (jitterRan ? ' The jitter rows use a third node: its clients move between nodes A, B and C, and calls go to all three.' : ''),
    );
    lines.push('');
    lines.push('| figure | channeld, one node | cluster, 2 nodes + Redis | cluster / one node |');
    lines.push('| --- | ---: | ---: | ---: |');
    for (const row of clusterRows) {
      lines.push(`| ${row.figure}${note(row)} | ${num(row.channeld, digits(row))} | ${num(row.cluster, digits(row))} | ${times(row.clusterRatio)} |`);
    }
  }
  const ran = TARGET_ORDER.filter((t) => results.targets[t] !== undefined);
  const measured = (name: string): boolean => ran.some((t) => (results.targets[t] ?? []).some((r) => r.cpu[name] !== undefined));
  lines.push('');
  lines.push(
    'CPU while each scenario ran, % of one core (server = the one-process target: channeld, Centrifugo or the baseline; cluster: nodeA = gRPC node, nodeB = socket node, redis' +
      `${measured('nodeC') ? ', nodeC = the third node of the jitter scenario' : ''}; r* = receiver, s* = sender processes${measured('j0') ? ', j0 = the jitter process' : ''}):`,
  );
  lines.push('');
  const serverNames = [
    ...(ran.some((t) => t !== 'cluster') ? ['server'] : []),
    ...(ran.includes('cluster') ? ['nodeA', 'nodeB', ...(measured('nodeC') ? ['nodeC'] : []), 'redis'] : []),
  ];
  const names = [
    ...serverNames,
    ...Array.from({ length: o.receivers }, (_, i) => `r${i}`),
    ...Array.from({ length: o.senders }, (_, i) => `s${i}`),
    ...(measured('j0') ? ['j0'] : []),
  ];
  lines.push(`| scenario | target | ${names.join(' | ')} |`);
  lines.push(`| --- | --- | ${names.map(() => '---:').join(' | ')} |`);
  for (const target of ran) {
    for (const r of results.targets[target] ?? []) {
      if (r.skipped !== undefined) {
        lines.push(`| ${r.scenario} | ${target} | skipped: ${r.skipped} |`);
        continue;
      }
      lines.push(`| ${r.scenario} | ${target} | ${names.map((n) => (r.cpu[n] === undefined ? '—' : String(r.cpu[n]))).join(' | ')} |`);
    }
  }
  lines.push('');
  lines.push('Goals from issues 4, 8 and 9:');
  lines.push('');
  lines.push('| goal | measured | met |');
  lines.push('| --- | --- | --- |');
  for (const g of results.goals) lines.push(`| ${g.goal} | ${g.measured} | ${g.met === null ? '—' : g.met ? 'yes' : 'no'} |`);
  lines.push('');
  if (results.problems.length > 0) {
    lines.push('Problems:');
    lines.push('');
    for (const p of results.problems) lines.push(`- ${p}`);
    lines.push('');
  }
  return lines.join('\n');
}
