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
 * Redis's commands per shard (INFO commandstats) and keys per shard (DBSIZE) come with them.
 *
 *   node --import tsx bench/shards.ts [--shards 1,2,4] [--no-one-slot] [--compare-root DIR]
 *     [--duration 5] [--sockets 1000] [--topics 100] [--rounds 2] [--name shards]
 *     [--rate MSG/S] [--broadcast-rate N/S]   (paced instead of closed loop; 0, the default, is closed loop)
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
import { clientsFor, closeSockets, openGroup, runPhase, slice, type Context, type PhaseResult, type SocketGroup } from './scenarios/context.js';
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
  /**
   * Commands each redis-server ran per 1,000 messages (INFO commandstats: scripts and the commands
   * they call, pub/sub, the nodes' own reads and leases), and the busiest few of them by calls.
   */
  readonly commandsPer1k: readonly number[];
  readonly topCommandsPer1k: readonly Record<string, number>[];
  readonly problems: readonly string[];
}

function parse(argv: readonly string[]): {
  shards: number[];
  oneSlot: boolean;
  compareRoot: string | undefined;
  rounds: number;
  topics: number;
  rates: Rates;
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
      rate: { type: 'string', default: '0' },
      'broadcast-rate': { type: 'string', default: '0' },
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
  const rate = (flag: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} is "${raw}"; it must be a number ≥ 0 (0: as fast as the window allows)`);
    return n;
  };
  if (topics > bench.sockets) throw new Error(`--topics ${topics} is more than --sockets ${bench.sockets}: every topic needs a socket`);
  return {
    shards,
    oneSlot: !values['no-one-slot'],
    compareRoot: values['compare-root'] === undefined ? undefined : resolve(values['compare-root']),
    rounds: whole('rounds', values.rounds),
    topics,
    rates: { messages: rate('rate', values.rate), broadcasts: rate('broadcast-rate', values['broadcast-rate']) },
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

/** What one redis-server holds and has run so far. */
interface ShardState {
  readonly keys: number;
  /** Calls per command since it started (INFO commandstats), the bench's own INFO and DBSIZE left out. */
  readonly calls: Record<string, number>;
}

const OWN_COMMANDS = new Set(['info', 'dbsize']);

async function shardStates(target: Target): Promise<ShardState[]> {
  return Promise.all(
    (target.redisUrls ?? []).map(async (url) => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        const calls: Record<string, number> = {};
        // cmdstat_evalsha:calls=123,usec=456,… (subcommands as cmdstat_client|setname)
        for (const match of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
          if (!OWN_COMMANDS.has(match[1]!)) calls[match[1]!] = Number(match[2]);
        }
        return { keys: await client.dbsize(), calls };
      } finally {
        client.disconnect();
      }
    }),
  );
}

/** Commands per 1,000 messages between two readings of one shard: the total and the busiest few. */
function commandFigures(before: ShardState | undefined, after: ShardState, messages: number): { total: number; top: Record<string, number> } {
  const per1k = (n: number): number => (messages === 0 ? 0 : (n * 1000) / messages);
  const diffs = Object.entries(after.calls).map(([name, n]) => [name, n - (before?.calls[name] ?? 0)] as const);
  const total = diffs.reduce((sum, [, n]) => sum + n, 0);
  const top = diffs
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, n]) => [name, Math.round(per1k(n) * 10) / 10] as const);
  return { total: per1k(total), top: Object.fromEntries(top) };
}

/** How hard each scenario is driven: 0 = closed loop (as fast as the window allows), else a paced total rate. */
interface Rates {
  /** unary and stream: messages/s over all senders. */
  readonly messages: number;
  /** topic: Broadcast calls/s over all senders. */
  readonly broadcasts: number;
}

/** Subscribes socket k to topic k mod topics (each sender its share of the topics) and waits for every topic welcome. */
async function subscribeTopics(ctx: Context, group: SocketGroup, names: readonly string[], topicOf: readonly number[]): Promise<void> {
  const { fleet } = ctx;
  await Promise.all(
    fleet.senders.map(async (s, i) => {
      const [a, b] = slice(names.length, fleet.senders.length, i);
      for (let t = a; t < b; t++) {
        const members = group.clientIds.filter((_, k) => topicOf[k] === t);
        await s.request({ type: 'subscribe', clientIds: members, topic: names[t]! });
      }
    }),
  );
  // channeld's receivers wait for every socket's topic welcome whatever the topic's name.
  await Promise.all(fleet.receivers.map((r) => r.request({ type: 'await-topic', topic: names[0]!, timeoutMs: TOPIC_WELCOME_TIMEOUT_MS })));
}

/**
 * One measured scenario: unary SendMessage or StreamMessages round-robin over the group's client
 * ids, or Broadcast round-robin over the topics (the bench's unary, stream and topic scenarios,
 * with a rate and several topics).
 */
function phase(ctx: Context, group: SocketGroup, scenario: Scenario, rates: Rates, topics: { names: readonly string[]; of: readonly number[] }): Promise<PhaseResult> {
  const { fleet, options } = ctx;
  const senders = fleet.senders.length;
  const common = { durationMs: options.durationSeconds * 1000, messageBytes: options.messageBytes, topic: '' };
  if (scenario === 'topic') {
    return runPhase(
      ctx,
      `Broadcast over ${topics.names.length} topics`,
      group,
      (i) => ({
        ...common,
        kind: 'broadcast',
        clients: [],
        topics: topics.names,
        rate: rates.broadcasts / senders,
        inFlight: options.broadcastInFlight,
        batch: 1,
        // Only the senders' pause (--max-outstanding) reads it, so the mean topic size does.
        unitsPerCall: Math.max(1, Math.round(group.opened / topics.names.length)),
        nOffset: i,
        nStride: senders,
      }),
      topics.of,
    );
  }
  const stream = scenario === 'stream';
  return runPhase(ctx, stream ? 'StreamMessages' : 'unary SendMessage', group, (i) => ({
    ...common,
    kind: scenario,
    clients: clientsFor(group, senders, i),
    rate: rates.messages / senders,
    inFlight: stream ? options.streamInFlight : options.unaryInFlight,
    batch: stream ? options.streamBatch : 1,
    unitsPerCall: 1,
    nOffset: 0,
    nStride: 1,
  }));
}

function shardRun(round: number, layout: Layout, scenario: Scenario, result: PhaseResult, before: readonly ShardState[], after: readonly ShardState[]): ShardRun {
  const used = result.cpuSeconds;
  // A topic's messages are its Broadcast calls; unary's and stream's are their deliveries.
  const messages = scenario === 'topic' ? result.calls : result.delivered;
  const deliveries = result.delivered;
  const messagesPerSecond = messages / result.seconds;
  const deliveriesPerSecond = result.perSecond;
  const per1k = (cpuSeconds: number): number => (messages === 0 ? 0 : (cpuSeconds * 1e6) / messages);
  const redisNames = layout.shards === undefined ? ['redis'] : Array.from({ length: layout.shards }, (_, i) => `redis${i}`);
  const redis = redisNames.map((name) => per1k(used[name] ?? Number.NaN));
  const total = redis.reduce((a, b) => a + b, 0);
  const commands = after.map((a, i) => commandFigures(before[i], a, messages));
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
    keysPerShard: after.map((a) => a.keys),
    commandsPer1k: commands.map((c) => c.total),
    topCommandsPer1k: commands.map((c) => c.top),
    problems: result.problems,
  };
}

async function runLayout(round: number, layout: Layout, options: BenchOptions, topicCount: number, rates: Rates, fleet: Fleet): Promise<ShardRun[]> {
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
    const names = Array.from({ length: topicCount }, (_, t) => `shard-bench-t${t}`);
    const topics = { names, of: group.clientIds.map((_, k) => k % topicCount) };
    for (const scenario of ['unary', 'stream', 'topic'] as const) {
      if (scenario === 'topic') await subscribeTopics(ctx, group, topics.names, topics.of);
      const before = await shardStates(target);
      const result = await phase(ctx, group, scenario, rates, topics);
      const run = shardRun(round, layout, scenario, result, before, await shardStates(target));
      runs.push(run);
      console.log(
        `  ${scenario}: ${Math.round(run.messagesPerSecond)} msg/s, channeld ${run.channeldCpuMsPer1k.toFixed(1)} ms/1k, ` +
          `redis ${run.redisCpuMsPer1k.map((v) => v.toFixed(2)).join(' / ')} ms/1k (per shard mean ${run.redisCpuMsPer1kPerShardMean.toFixed(2)}, max ${run.redisCpuMsPer1kPerShardMax.toFixed(2)}), ` +
          `keys ${run.keysPerShard.join(' / ')}, commands/1k ${run.commandsPer1k.map((v) => v.toFixed(0)).join(' / ')} ` +
          `(${run.topCommandsPer1k.map((top) => Object.entries(top).map(([k, v]) => `${k} ${v}`).join(' ')).join(' | ')})${run.problems.length > 0 ? `\n    PROBLEMS: ${run.problems.join('; ')}` : ''}`,
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

function pace(rates: Rates): string {
  const one = (n: number, unit: string): string => (n === 0 ? 'closed loop' : `paced at ${n.toLocaleString('en-US')} ${unit}`);
  return `unary and stream ${one(rates.messages, 'msg/s')}, topic ${one(rates.broadcasts, 'broadcasts/s')}`;
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const thousands = (v: number): string => Math.round(v).toLocaleString('en-US');

function markdown(runs: readonly ShardRun[], layouts: readonly Layout[], meta: { startedAt: string; finishedAt: string; topics: number; rates: Rates; options: BenchOptions; problems: readonly string[] }): string {
  const m = machine();
  const lines: string[] = [
    `Sharded Redis (issue 13): two channeld nodes (senders → node A, sockets on node B), ${meta.options.sockets} sockets on their own client ids, ` +
      `${meta.options.durationSeconds} s per scenario, ${meta.options.messageBytes}-byte messages, topic: Broadcast round-robin over ${meta.topics} topics (each socket in one); ${pace(meta.rates)}. ` +
      `${meta.startedAt} → ${meta.finishedAt}; ${m.cores} cores (${m.cpuModel}), load average at the end ${m.loadAverage.join(' / ')}.`,
    '',
    'CPU is ms per 1,000 messages sent (unary, stream: one delivery each; topic: one Broadcast, which reaches the members of one topic). ' +
      '"per shard" is each redis-server\'s figure, mean and max over the shards: the one that must fall ~1/N.',
    '',
    '| round | layout | scenario | msg/s | deliveries/s | channeld CPU ms/1k | Redis CPU ms/1k, each | Redis total | per shard, mean | per shard, max | keys per shard | Redis commands per 1k, each |',
    '| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |',
    ...runs.map(
      (r) =>
        `| ${r.round} | ${r.layout} | ${r.scenario} | ${thousands(r.messagesPerSecond)} | ${thousands(r.deliveriesPerSecond)} | ${fixed(r.channeldCpuMsPer1k, 1)} | ` +
        `${r.redisCpuMsPer1k.map((v) => fixed(v, 2)).join(' / ')} | ${fixed(r.redisCpuMsPer1kTotal, 2)} | ${fixed(r.redisCpuMsPer1kPerShardMean, 2)} | ${fixed(r.redisCpuMsPer1kPerShardMax, 2)} | ${r.keysPerShard.join(' / ')} | ${r.commandsPer1k.map((v) => fixed(v, 0)).join(' / ')} |`,
    ),
  ];
  const oneShard = layouts.find((l) => l.shards === 1);
  type Figure = keyof ShardRun | 'commandsPer1kMax';
  const value = (r: ShardRun, key: Figure): number => (key === 'commandsPer1kMax' ? Math.max(...r.commandsPer1k) : (r[key] as number));
  const pick = (layout: Layout, scenario: Scenario, key: Figure): number =>
    median(runs.filter((r) => r.layout === layout.label && r.scenario === scenario).map((r) => value(r, key)));
  const rounds = Math.max(...runs.map((r) => r.round));
  const over = rounds > 1 ? `medians of ${rounds} rounds` : 'one round';
  const sharded = layouts.filter((l) => (l.shards ?? 1) > 1);
  if (oneShard !== undefined && sharded.length > 0) {
    lines.push(
      '',
      `N shards ÷ 1 shard (${over}): per-shard Redis CPU per 1,000 messages (mean and max over the shards; ~1/N is the goal), Redis CPU of all shards together, msg/s and channeld CPU per 1,000.`,
      '',
      '| layout | scenario | per shard, mean ÷ 1 shard | per shard, max ÷ 1 shard | 1/N | all shards ÷ 1 shard | Redis commands per shard, max ÷ 1 shard | msg/s ÷ 1 shard | channeld CPU ÷ 1 shard |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const layout of sharded) {
      for (const scenario of ['unary', 'stream', 'topic'] as const) {
        const ratio = (key: Figure): string => fixed(pick(layout, scenario, key) / pick(oneShard, scenario, key), 2);
        lines.push(
          `| ${layout.label} | ${scenario} | ${ratio('redisCpuMsPer1kPerShardMean')} | ${ratio('redisCpuMsPer1kPerShardMax')} | ${fixed(1 / (layout.shards ?? 1), 2)} | ${ratio('redisCpuMsPer1kTotal')} | ${ratio('commandsPer1kMax')} | ${ratio('messagesPerSecond')} | ${ratio('channeldCpuMsPer1k')} |`,
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
        const ratio = (key: Figure): string => fixed(pick(oneShard, scenario, key) / pick(layout, scenario, key), 2);
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
          const done = await runLayout(round, layout, args.bench, args.topics, args.rates, fleet);
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
  const md = markdown(runs, layouts, { startedAt, finishedAt, topics: args.topics, rates: args.rates, options: args.bench, problems });
  writeFileSync(join(args.out, `${args.name}.md`), `${md}\n`);
  writeFileSync(
    join(args.out, `${args.name}.json`),
    `${JSON.stringify({ startedAt, finishedAt, machine: machine(), commit: here, layouts, topics: args.topics, rates: args.rates, options: args.bench, runs, ok: problems.length === 0, problems }, null, 2)}\n`,
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
