/**
 * What counting costs the topic fan-out (issue 10): channeld with metrics on (A, the default) and
 * with `--no-metrics` (B), run interleaved A B B A, A B B A, … so that drift in the machine's load
 * falls on both sides alike. Each run is a fresh server with the same process layout (one channeld,
 * the same receiver and Go sender processes): the storm's --topic-sockets sockets, all subscribed
 * to one topic, then --duration s of Broadcast. Per pair, ratio = A ÷ B (deliveries/s with metrics
 * over without); the report gives every run, the median ratio and its spread. Every delivery is
 * checked as in the bench; any loss fails the run.
 *
 *   node --import tsx bench/ab-metrics.ts [--pairs 4] [--topic-sockets 10000] [--duration 10] [--name ab-metrics]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Fleet } from './fleet.js';
import { parseOptions } from './options.js';
import { machine } from './procs.js';
import { senderLaunch } from './launch.js';
import { closeSockets, type Context } from './scenarios/context.js';
import { connectStorm } from './scenarios/storm.js';
import { topicFanOut } from './scenarios/topic.js';
import { startTarget } from './targets.js';

interface Run {
  readonly order: number;
  readonly metrics: boolean;
  readonly deliveriesPerSecond: number;
  readonly serverCpuMsPer1k: number;
  readonly serverCpuPercent: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What the pairs say about the 2 % budget: the median, and whether the spread lets it be read. */
function verdict(m: number, ratios: readonly number[]): string {
  const cost = (1 - m) * 100;
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const head = cost > 0 ? `Counting costs ${cost.toFixed(1)} % of fan-out throughput at the median` : `At the median, metrics on was ${(-cost).toFixed(1)} % faster than off (no measurable cost)`;
  const within = cost <= 2 ? 'within the 2 % budget' : 'beyond the 2 % budget';
  const noise = hi - lo > 0.04 ? `; the pairs spread over ${((hi - lo) * 100).toFixed(1)} points, more than the budget, so the run-to-run noise of this machine bounds what one can read` : '';
  return `${head}: ${within}${noise}.`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      pairs: { type: 'string', default: '4' },
      'topic-sockets': { type: 'string', default: '10000' },
      duration: { type: 'string', default: '10' },
      name: { type: 'string', default: 'ab-metrics' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const pairs = Number(values.pairs);
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs is "${values.pairs}"; it must be a whole number ≥ 1`);
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  const base = parseOptions(['--topic-sockets', values['topic-sockets'], '--duration', values.duration, '--settle', '0']);
  if (base === 'help') return 0;
  const options = { ...base, targets: ['channeld' as const], scenarios: ['storm' as const, 'topic' as const] };
  mkdirSync(values.out, { recursive: true });
  const fleet = new Fleet(options.receivers, options.senders, senderLaunch(false));
  const runs: Run[] = [];
  const problems: string[] = [];
  const startedAt = new Date().toISOString();
  try {
    // A B B A per pair: each side runs first as often as second.
    const order = Array.from({ length: pairs }, () => [true, false, false, true]).flat().slice(0, pairs * 2);
    for (const [i, metrics] of order.entries()) {
      const target = await startTarget('channeld', {
        fromDist: options.serverFromDist,
        nodeArgs: () => [],
        redisServer: options.redisServer,
        thirdNode: false,
        centrifugo: options.centrifugo,
        compression: options.compression,
        channeldArgs: metrics ? [] : ['--no-metrics'],
      });
      const ctx: Context = { target, fleet, options, earlier: {} };
      try {
        await Promise.all(fleet.senders.map((s) => s.request({ type: 'connect', endpoint: target.grpc })));
        const { result, group } = await connectStorm(ctx);
        problems.push(...result.problems.map((p) => `run ${i + 1} storm: ${p}`));
        const topic = await topicFanOut(ctx, group);
        problems.push(...topic.problems.map((p) => `run ${i + 1} topic: ${p}`));
        const run: Run = {
          order: i + 1,
          metrics,
          deliveriesPerSecond: topic.figures['deliveriesPerSecond'] ?? 0,
          serverCpuMsPer1k: topic.figures['serverCpuMsPer1k'] ?? 0,
          serverCpuPercent: topic.cpu['server'] ?? 0,
        };
        runs.push(run);
        console.log(`run ${run.order} metrics ${metrics ? 'on ' : 'off'}: ${Math.round(run.deliveriesPerSecond).toLocaleString('en-US')} deliveries/s, server ${run.serverCpuPercent} % of a core, ${run.serverCpuMsPer1k.toFixed(3)} ms per 1,000`);
        await closeSockets(ctx);
      } finally {
        await Promise.all(fleet.senders.map((s) => s.request({ type: 'disconnect' }).catch(() => undefined)));
        await target.stop();
      }
    }
  } finally {
    await fleet.close();
  }
  // Pair k is runs 2k and 2k+1 (A B or B A).
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let k = 0; k + 1 < runs.length; k += 2) {
    const on = runs[k]!.metrics ? runs[k]! : runs[k + 1]!;
    const off = runs[k]!.metrics ? runs[k + 1]! : runs[k]!;
    ratios.push(on.deliveriesPerSecond / off.deliveriesPerSecond);
    cpuRatios.push(on.serverCpuMsPer1k / off.serverCpuMsPer1k);
  }
  const m = median(ratios);
  const lines = [
    `Metrics on (A) against --no-metrics (B), topic fan-out to ${options.topicSockets} sockets, ${options.durationSeconds} s per run, ${pairs} pairs in ABBA order; ${startedAt} → ${new Date().toISOString()}; load average at the end ${machine().loadAverage.join(' / ')}.`,
    '',
    '| run | metrics | deliveries/s | server CPU ms per 1,000 deliveries | server % of a core |',
    '| ---: | --- | ---: | ---: | ---: |',
    ...runs.map((r) => `| ${r.order} | ${r.metrics ? 'on' : 'off'} | ${Math.round(r.deliveriesPerSecond).toLocaleString('en-US')} | ${r.serverCpuMsPer1k.toFixed(3)} | ${r.serverCpuPercent} |`),
    '',
    `Per pair, on ÷ off: deliveries/s ${ratios.map((r) => r.toFixed(3)).join(', ')} (median ${m.toFixed(3)}, spread ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); ` +
      `CPU per delivery ${cpuRatios.map((r) => r.toFixed(3)).join(', ')} (median ${median(cpuRatios).toFixed(3)}).`,
    verdict(m, ratios),
    ...(problems.length > 0 ? ['', 'Problems:', ...problems.map((p) => `- ${p}`)] : []),
  ];
  const md = lines.join('\n');
  writeFileSync(join(values.out, `${values.name}.md`), `${md}\n`);
  writeFileSync(join(values.out, `${values.name}.json`), `${JSON.stringify({ startedAt, pairs, options, runs, ratios, medianRatio: m, cpuRatios, problems }, null, 2)}\n`);
  console.log(`\n${md}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
