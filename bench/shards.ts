/**
 * Issue 13's sharded-Redis bench: the cluster target (two channeld nodes, senders → node A, sockets
 * on node B, so every delivery crosses Redis) on 1, 2 and 4 redis-servers given as --redis-shard,
 * and on one redis-server given as --redis-url (the one-slot layout of before sharding; with
 * --compare-root also as an older checkout runs it). Per layout: unary SendMessage and
 * StreamMessages round-robin over --sockets client ids, then Broadcast round-robin over --topics
 * topics (each socket in one), every delivery checked as in the bench. Each redis-server's CPU
 * (utime + stime from /proc/<pid>/stat) is read over the measured interval, so the figure that
 * must fall ~1/N with N shards — Redis CPU per 1,000 messages per shard — does not depend on how
 * much of the 2 cores the generators and nodes take.
 *
 *   node --import tsx bench/shards.ts [--shards 1,2,4] [--no-one-slot] [--compare-root DIR]
 *     [--duration 5] [--sockets 1000] [--topics 100] [--rounds 2] [--name shards]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Fleet } from './fleet.js';
import { senderLaunch } from './launch.js';
import { parseOptions, type BenchOptions } from './options.js';
import { machine } from './procs.js';
import { closeSockets, openGroup, runPhase, slice, type Context, type ScenarioResult, type SocketGroup } from './scenarios/context.js';
import { streaming } from './scenarios/stream.js';
import { unary } from './scenarios/unary.js';
import { startTarget, type Target } from './targets.js';

const TOPIC_WELCOME_TIMEOUT_MS = 120_000;
const CHANNELD = ['nodeA', 'nodeB'] as const;

/** One way to run the cluster: its Redis side and which checkout of channeld runs the nodes. */
interface Layout {
  readonly label: string;
  /** Redis servers passed as --redis-shard; undefined: one, as --redis-url (the one-slot layout). */
  readonly shards: number | undefined;
  /** A channeld checkout other than this one. */
  readonly root?: string;
}

type Scenario = 'unary' | 'stream' | 'topic';

/** One scenario on one layout: what the issue asks to report. */
export interface ShardRun {
  readonly round: number;
  readonly layout: string;
  readonly shards: number;
  readonly scenario: Scenario;
  /** Messages the senders got OK for: unary and stream, one per delivery; topic, one per Broadcast. */
  readonly messages: number;
  readonly deliveries: number;
  readonly messagesPerSecond: number;
  readonly deliveriesPerSecond: number;
  /** Node A + node B, CPU ms per 1,000 messages. */
  readonly channeldCpuMsPer1k: number;
  /** Each redis-server's CPU ms per 1,000 messages, in shard order (one-slot: one entry). */
  readonly redisCpuMsPer1k: readonly number[];
  readonly redisCpuMsPer1kTotal: number;
  /** Mean and max over the shards of redisCpuMsPer1k: the figures that must fall ~1/N. */
  readonly redisCpuMsPer1kPerShardMean: number;
  readonly redisCpuMsPer1kPerShardMax: number;
  /** Each process's CPU in percent of one core while the scenario ran. */
  readonly cpuPercent: Record<string, number>;
  /** Keys each redis-server held after the scenario (DBSIZE): shows the state really is spread. */
  readonly keysPerShard: readonly number[];
  readonly problems: readonly string[];
}

function parse(argv: readonly string[]): {
  shards: number[];
  oneSlot: boolean;
  compareRoot: string | undefined;
  rounds: number;
  topics: number;
  name: string;
  out: string;
  bench: BenchOptions;
} {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      shards: { type: 'string', default: '1,2,4' },
      'no-one-slot': { type: 'boolean', default: false },
      'compare-root': { type: 'string' },
      rounds: { type: 'string', default: '2' },
      topics: { type: 'string', default: '100' },
      duration: { type: 'string', default: '5' },
      sockets: { type: 'string', default: '1000' },
      'drain-timeout': { type: 'string', default: '15' },
      server: { type: 'string', default: 'tsx' },
      'redis-server': { type: 'string', default: 'redis-server' },
      name: { type: 'string', default: 'shards' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const whole = (flag: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} is "${raw}"; it must be a whole number ≥ 1`);
    return n;
  };
  const shards = values.shards.split(',').map((s) => whole('shards', s.trim()));
  const bench = parseOptions([
    '--duration', values.duration, '--sockets', values.sockets, '--drain-timeout', values['drain-timeout'],
    '--server', values.server, '--redis-server', values['redis-server'], '--settle', '0',
  ]);
  if (bench === 'help') throw new Error('unreachable: no --help passed');
  const topics = whole('topics', values.topics);
  if (topics > bench.sockets) throw new Error(`--topics ${topics} is more than --sockets ${bench.sockets}: every topic needs a socket`);
  return {
    shards,
    oneSlot: !values['no-one-slot'],
    compareRoot: values['compare-root'] === undefined ? undefined : resolve(values['compare-root']),
    rounds: whole('rounds', values.rounds),
    topics,
    name: values.name,
    out: values.out,
    bench,
  };
}

/** The commit a checkout is at (short hash), or its path when it is not a git checkout. */
function commitOf(root: string): string {
  try {
    return execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return root;
  }
}

async function keysPerShard(target: Target): Promise<number[]> {
  return Promise.all(
    (target.redisUrls ?? []).map(async (url) => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        return await client.dbsize();
      } finally {
        client.disconnect();
      }
    }),
  );
}

/** Broadcast round-robin over `topics` topics; socket k is in topic k mod topics. */
async function topicPhase(ctx: Context, group: SocketGroup, topics: number): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const names = Array.from({ length: topics }, (_, t) => `shard-bench-t${t}`);
  const topicOf = group.clientIds.map((_, k) => k % topics);
  // Each sender subscribes the members of its share of the topics.
  await Promise.all(
    fleet.senders.map(async (s, i) => {
      const [a, b] = slice(topics, fleet.senders.length, i);
      for (let t = a; t < b; t++) {
        const members = group.clientIds.filter((_, k) => topicOf[k] === t);
        await s.request({ type: 'subscribe', clientIds: members, topic: names[t]! });
      }
    }),
  );
  // channeld's receivers wait for every socket's topic welcome whatever the topic's name.
  await Promise.all(fleet.receivers.map((r) => r.request({ type: 'await-topic', topic: names[0]!, timeoutMs: TOPIC_WELCOME_TIMEOUT_MS })));
  const senders = fleet.senders.length;
  const phase = await runPhase(
    ctx,
    `Broadcast over ${topics} topics`,
    group,
    (i) => ({
      kind: 'broadcast',
      clients: [],
      topic: '',
      topics: names,
      durationMs: options.durationSeconds * 1000,
      rate: 0,
      inFlight: options.broadcastInFlight,
      batch: 1,
      messageBytes: options.messageBytes,
      // Only the senders' pause (--max-outstanding) reads it, so the mean topic size does.
      unitsPerCall: Math.max(1, Math.round(group.opened / topics)),
      nOffset: i,
      nStride: senders,
    }),
    topicOf,
  );
  return {
    scenario: 'topic',
    figures: { messages: phase.calls, deliveries: phase.delivered, deliveriesPerSecond: phase.perSecond, broadcastsPerSecond: phase.calls / phase.seconds, ...phase.extra },
    cpu: phase.cpu,
    cpuSeconds: phase.cpuSeconds,
    params: { sockets: group.opened, topics, seconds: options.durationSeconds },
    problems: phase.problems,
  };
}

function shardRun(round: number, layout: Layout, result: ScenarioResult, keys: readonly number[]): ShardRun {
  const scenario = result.scenario as Scenario;
  const used = result.cpuSeconds ?? {};
  const messages = result.figures['messages'] ?? 0;
  const topic = scenario === 'topic';
  const deliveries = topic ? (result.figures['deliveries'] ?? 0) : messages;
  const messagesPerSecond = result.figures[topic ? 'broadcastsPerSecond' : 'messagesPerSecond'] ?? 0;
  const deliveriesPerSecond = result.figures[topic ? 'deliveriesPerSecond' : 'messagesPerSecond'] ?? 0;
  const per1k = (cpuSeconds: number): number => (messages === 0 ? 0 : (cpuSeconds * 1e6) / messages);
  const redisNames = layout.shards === undefined ? ['redis'] : Array.from({ length: layout.shards }, (_, i) => `redis${i}`);
  const redis = redisNames.map((name) => per1k(used[name] ?? Number.NaN));
  const total = redis.reduce((a, b) => a + b, 0);
  return {
    round,
    layout: layout.label,
    shards: redis.length,
    scenario,
    messages,
    deliveries,
    messagesPerSecond,
    deliveriesPerSecond,
    channeldCpuMsPer1k: per1k(CHANNELD.reduce((sum, n) => sum + (used[n] ?? 0), 0)),
    redisCpuMsPer1k: redis,
    redisCpuMsPer1kTotal: total,
    redisCpuMsPer1kPerShardMean: total / redis.length,
    redisCpuMsPer1kPerShardMax: Math.max(...redis),
    cpuPercent: result.cpu,
    keysPerShard: keys,
    problems: result.problems,
  };
}

async function runLayout(round: number, layout: Layout, options: BenchOptions, topics: number, fleet: Fleet): Promise<ShardRun[]> {
  const target = await startTarget('cluster', {
    fromDist: options.serverFromDist,
    nodeArgs: () => [],
    redisServer: options.redisServer,
    thirdNode: false,
    centrifugo: options.centrifugo,
    compression: options.compression,
    ...(layout.shards === undefined ? {} : { redisShards: layout.shards }),
    ...(layout.root === undefined ? {} : { channeldRoot: layout.root }),
  });
  console.log(`== round ${round}, ${layout.label}: ${target.processes.map((p) => `${p.name} pid ${p.pid}`).join(', ')}`);
  const ctx: Context = { target, fleet, options, earlier: {} };
  const runs: ShardRun[] = [];
  try {
    await Promise.all(fleet.senders.map((s) => s.request({ type: 'connect', endpoint: target.grpc })));
    const group = await openGroup(ctx, 'u', options.sockets);
    if (group.problems.length > 0) throw new Error(group.problems.join('; '));
    for (const scenario of ['unary', 'stream', 'topic'] as const) {
      const result = scenario === 'unary' ? await unary(ctx, group) : scenario === 'stream' ? await streaming(ctx, group) : await topicPhase(ctx, group, topics);
      if (result.skipped !== undefined) throw new Error(`${scenario} was skipped: ${result.skipped}`);
      const run = shardRun(round, layout, result, await keysPerShard(target));
      runs.push(run);
      console.log(
        `  ${scenario}: ${Math.round(run.messagesPerSecond)} msg/s, channeld ${run.channeldCpuMsPer1k.toFixed(1)} ms/1k, ` +
          `redis ${run.redisCpuMsPer1k.map((v) => v.toFixed(2)).join(' / ')} ms/1k (per shard mean ${run.redisCpuMsPer1kPerShardMean.toFixed(2)}, max ${run.redisCpuMsPer1kPerShardMax.toFixed(2)}), ` +
          `keys ${run.keysPerShard.join(' / ')}${run.problems.length > 0 ? `\n    PROBLEMS: ${run.problems.join('; ')}` : ''}`,
      );
    }
    await closeSockets(ctx);
  } finally {
    await Promise.all(fleet.senders.map((s) => s.request({ type: 'disconnect' }).catch(() => undefined)));
    await target.stop();
  }
  return runs;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const thousands = (v: number): string => Math.round(v).toLocaleString('en-US');

function markdown(runs: readonly ShardRun[], layouts: readonly Layout[], meta: { startedAt: string; finishedAt: string; topics: number; options: BenchOptions; problems: readonly string[] }): string {
  const m = machine();
  const lines: string[] = [
    `Sharded Redis (issue 13): two channeld nodes (senders → node A, sockets on node B), ${meta.options.sockets} sockets on their own client ids, ` +
      `${meta.options.durationSeconds} s per scenario, ${meta.options.messageBytes}-byte messages, topic: Broadcast round-robin over ${meta.topics} topics (each socket in one). ` +
      `${meta.startedAt} → ${meta.finishedAt}; ${m.cores} cores (${m.cpuModel}), load average at the end ${m.loadAverage.join(' / ')}.`,
    '',
    'CPU is ms per 1,000 messages sent (unary, stream: one delivery each; topic: one Broadcast, which reaches the members of one topic). ' +
      '"per shard" is each redis-server\'s figure, mean and max over the shards: the one that must fall ~1/N.',
    '',
    '| round | layout | scenario | msg/s | deliveries/s | channeld CPU ms/1k | Redis CPU ms/1k, each | Redis total | per shard, mean | per shard, max | keys per shard |',
    '| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
    ...runs.map(
      (r) =>
        `| ${r.round} | ${r.layout} | ${r.scenario} | ${thousands(r.messagesPerSecond)} | ${thousands(r.deliveriesPerSecond)} | ${fixed(r.channeldCpuMsPer1k, 1)} | ` +
        `${r.redisCpuMsPer1k.map((v) => fixed(v, 2)).join(' / ')} | ${fixed(r.redisCpuMsPer1kTotal, 2)} | ${fixed(r.redisCpuMsPer1kPerShardMean, 2)} | ${fixed(r.redisCpuMsPer1kPerShardMax, 2)} | ${r.keysPerShard.join(' / ')} |`,
    ),
  ];
  const oneShard = layouts.find((l) => l.shards === 1);
  const pick = (layout: Layout, scenario: Scenario, key: keyof ShardRun): number =>
    median(runs.filter((r) => r.layout === layout.label && r.scenario === scenario).map((r) => r[key] as number));
  const rounds = Math.max(...runs.map((r) => r.round));
  const over = rounds > 1 ? `medians of ${rounds} rounds` : 'one round';
  const sharded = layouts.filter((l) => (l.shards ?? 1) > 1);
  if (oneShard !== undefined && sharded.length > 0) {
    lines.push(
      '',
      `N shards ÷ 1 shard (${over}): per-shard Redis CPU per 1,000 messages (mean and max over the shards; ~1/N is the goal), Redis CPU of all shards together, msg/s and channeld CPU per 1,000.`,
      '',
      '| layout | scenario | per shard, mean ÷ 1 shard | per shard, max ÷ 1 shard | 1/N | all shards ÷ 1 shard | msg/s ÷ 1 shard | channeld CPU ÷ 1 shard |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const layout of sharded) {
      for (const scenario of ['unary', 'stream', 'topic'] as const) {
        const ratio = (key: keyof ShardRun): string => fixed(pick(layout, scenario, key) / pick(oneShard, scenario, key), 2);
        lines.push(
          `| ${layout.label} | ${scenario} | ${ratio('redisCpuMsPer1kPerShardMean')} | ${ratio('redisCpuMsPer1kPerShardMax')} | ${fixed(1 / (layout.shards ?? 1), 2)} | ${ratio('redisCpuMsPer1kTotal')} | ${ratio('messagesPerSecond')} | ${ratio('channeldCpuMsPer1k')} |`,
        );
      }
    }
  }
  const oneSlots = layouts.filter((l) => l.shards === undefined);
  if (oneShard !== undefined && oneSlots.length > 0) {
    lines.push(
      '',
      `1 shard ÷ the one-slot layout (--redis-url) (${over}): above 1 is more CPU per message (or, for msg/s, faster).`,
      '',
      '| against | scenario | Redis CPU per 1,000 | channeld CPU per 1,000 | msg/s |',
      '| --- | --- | ---: | ---: | ---: |',
    );
    for (const layout of oneSlots) {
      for (const scenario of ['unary', 'stream', 'topic'] as const) {
        const ratio = (key: keyof ShardRun): string => fixed(pick(oneShard, scenario, key) / pick(layout, scenario, key), 2);
        lines.push(`| ${layout.label} | ${scenario} | ${ratio('redisCpuMsPer1kTotal')} | ${ratio('channeldCpuMsPer1k')} | ${ratio('messagesPerSecond')} |`);
      }
    }
  }
  if (meta.problems.length > 0) lines.push('', 'Problems:', ...meta.problems.map((p) => `- ${p}`));
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  // Targets and generators are started by relative path from the repository root.
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  const here = commitOf('.');
  const layouts: Layout[] = [
    ...(args.compareRoot === undefined ? [] : [{ label: `one-slot, ${commitOf(args.compareRoot)} (--compare-root)`, shards: undefined, root: args.compareRoot }]),
    ...(args.oneSlot ? [{ label: `one-slot, ${here}`, shards: undefined }] : []),
    ...[...new Set(args.shards)].map((n) => ({ label: `${n} shard${n === 1 ? '' : 's'}`, shards: n })),
  ];
  // The nodes are stopped only after their figures are taken. A sender's connection that grpc-js
  // still counts as open (seen after a unary run then a stream run, on the memory engine too) holds
  // each stop for the whole default grace of 10 s; a second is enough here.
  process.env['CHANNELD_SHUTDOWN_GRACE_MS'] ??= '1000';
  mkdirSync(args.out, { recursive: true });
  const startedAt = new Date().toISOString();
  const fleet = new Fleet(args.bench.receivers, args.bench.senders, senderLaunch(false));
  const runs: ShardRun[] = [];
  const problems: string[] = [];
  try {
    for (let round = 1; round <= args.rounds; round++) {
      // Every other round runs the layouts backwards, so drift in the machine's load falls on all alike.
      const order = round % 2 === 1 ? layouts : [...layouts].reverse();
      for (const layout of order) {
        try {
          const done = await runLayout(round, layout, args.bench, args.topics, fleet);
          runs.push(...done);
          for (const r of done) problems.push(...r.problems.map((p) => `round ${round} ${layout.label} ${r.scenario}: ${p}`));
        } catch (err) {
          problems.push(`round ${round} ${layout.label}: ${err instanceof Error ? err.message : String(err)}`);
          console.error(`== ${layout.label} failed: ${err instanceof Error ? err.stack : String(err)}`);
        }
      }
    }
  } finally {
    await fleet.close();
  }
  const finishedAt = new Date().toISOString();
  const md = markdown(runs, layouts, { startedAt, finishedAt, topics: args.topics, options: args.bench, problems });
  writeFileSync(join(args.out, `${args.name}.md`), `${md}\n`);
  writeFileSync(
    join(args.out, `${args.name}.json`),
    `${JSON.stringify({ startedAt, finishedAt, machine: machine(), commit: here, layouts, topics: args.topics, options: args.bench, runs, ok: problems.length === 0, problems }, null, 2)}\n`,
  );
  console.log(`\n${md}\nresults: ${join(args.out, `${args.name}.json`)} and .md`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
