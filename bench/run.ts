/**
 * The benchmark: `npm run bench -- --help`. Starts each target (channeld, the grpc-js + Socket.IO
 * baseline, two channeld nodes over Redis) as child processes, drives it from separate receiver
 * and sender processes, and writes <out>/<name>.json and .md. Exits 1 when any message was lost, duplicated or misrouted, or any
 * call failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fleet } from './fleet.js';
import { senderLaunch } from './launch.js';
import { HELP, parseOptions, type BenchOptions, type ScenarioName, type TargetKind } from './options.js';
import { machine } from './procs.js';
import { compare, goals, markdown, type BenchResults } from './report.js';
import { closeSockets, openGroup, type Context, type ScenarioResult, type SocketGroup } from './scenarios/context.js';
import { jitter } from './scenarios/jitter.js';
import { batch } from './scenarios/batch.js';
import { httpApi } from './scenarios/http.js';
import { latencyAtFixedRate, latencyAtLoad } from './scenarios/latency.js';
import { connectStorm } from './scenarios/storm.js';
import { streaming } from './scenarios/stream.js';
import { topicFanOut } from './scenarios/topic.js';
import { unary } from './scenarios/unary.js';
import { startTarget, type Target } from './targets.js';

function summary(r: ScenarioResult): string {
  if (r.skipped !== undefined) return `SKIPPED: ${r.skipped}`;
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${Number.isInteger(v) || Math.abs(v) >= 100 ? Math.round(v) : v.toFixed(2)}`)
    .join(' ');
  const cpu = Object.entries(r.cpu).map(([k, v]) => `${k} ${v}%`).join(' ');
  return `${figures}  cpu: ${cpu}${r.problems.length > 0 ? `\n    PROBLEMS: ${r.problems.join('; ')}` : ''}`;
}

function describe(target: Target): string {
  const pids = target.processes.map((p) => `${p.name} pid ${p.pid}`).join(', ');
  if (target.kind !== 'cluster') return `${pids}, gRPC :${target.grpc.grpcPort}, HTTP :${target.ws.httpPort}`;
  const third = target.nodes.length > 2 ? `; jitter clients move between nodes A, B and C` : '';
  return `${pids}; senders → node A gRPC :${target.grpc.grpcPort}, sockets → node B HTTP :${target.ws.httpPort}, every delivery through Redis${third}`;
}

async function runTarget(kind: TargetKind, options: BenchOptions, fleet: Fleet): Promise<ScenarioResult[]> {
  const nodeArgs = (label: string): string[] =>
    options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(options.out, 'prof', label === 'server' ? kind : `${kind}-${label}`)}`] : [];
  const thirdNode = options.scenarios.includes('jitter');
  const target = await startTarget(kind, {
    fromDist: options.serverFromDist,
    nodeArgs,
    redisServer: options.redisServer,
    thirdNode,
    centrifugo: options.centrifugo,
    compression: options.compression,
  });
  console.log(`== ${kind} (${describe(target)})`);
  const results: ScenarioResult[] = [];
  const ctx: Context = { target, fleet, options, earlier: {} };
  const record = (r: ScenarioResult): void => {
    results.push(r);
    ctx.earlier[r.scenario] = r;
    console.log(`  ${r.scenario}: ${summary(r)}`);
  };
  const wants = (s: ScenarioName): boolean => options.scenarios.includes(s);
  try {
    await Promise.all(fleet.senders.map((s) => s.request({ type: 'connect', endpoint: target.grpc })));
    if (wants('storm') || wants('topic')) {
      const { result, group } = await connectStorm(ctx);
      if (wants('storm')) record(result);
      else if (result.problems.length > 0) record({ ...result, scenario: 'topic', figures: {}, cpu: {} });
      if (wants('topic') && result.problems.length === 0) record(await topicFanOut(ctx, group));
      await closeSockets(ctx);
    }
    const groupScenarios: readonly ScenarioName[] = ['unary', 'latency', 'fixed-rate', 'batch', 'stream', 'http-unary', 'http-batch'];
    if (groupScenarios.some(wants)) {
      const group: SocketGroup = await openGroup(ctx, 'u', options.sockets);
      if (group.problems.length > 0) throw new Error(group.problems.join('; '));
      if (wants('unary') || wants('latency')) {
        const peak = await unary(ctx, group);
        if (wants('unary')) record(peak);
        else ctx.earlier.unary = peak;
      }
      if (wants('latency')) record(await latencyAtLoad(ctx, group));
      if (wants('fixed-rate')) record(await latencyAtFixedRate(ctx, group));
      if (wants('batch')) record(await batch(ctx, group));
      if (wants('stream')) record(await streaming(ctx, group));
      if (wants('http-unary')) record(await httpApi(ctx, group, 'http-unary'));
      if (wants('http-batch')) record(await httpApi(ctx, group, 'http-batch'));
      await closeSockets(ctx);
    }
    if (wants('jitter')) record(await jitter(ctx));
  } finally {
    await Promise.all(fleet.senders.map((s) => s.request({ type: 'disconnect' }).catch(() => undefined)));
    await target.stop();
  }
  return results;
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  // Targets and generators are started by relative path from the repository root.
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  mkdirSync(options.out, { recursive: true });
  const fdLimit = machine().openFilesLimit;
  const needed = options.topicSockets + 1024;
  if (Number(fdLimit.split(' ')[0]) < needed) {
    console.warn(`!!! open files limit is ${fdLimit}; ${options.topicSockets} sockets need about ${needed} in the server process. Raise ulimit -n. !!!`);
  }
  const startedAt = new Date().toISOString();
  if (options.nodeSenders && options.targets.includes('centrifugo')) {
    process.stderr.write('bench: --node-senders speak ChannelService only; leave centrifugo out of --targets\n');
    return 2;
  }
  const fleet = new Fleet(options.receivers, options.senders, senderLaunch(options.nodeSenders));
  const targets: BenchResults['targets'] = {};
  const problems: string[] = [];
  try {
    for (const kind of options.targets) {
      try {
        targets[kind] = await runTarget(kind, options, fleet);
      } catch (err) {
        problems.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
        console.error(`== ${kind} failed: ${err instanceof Error ? err.stack : String(err)}`);
      }
    }
  } finally {
    await fleet.close();
  }
  for (const [kind, list] of Object.entries(targets)) {
    for (const r of list ?? []) for (const p of r.problems) problems.push(`${kind} ${r.scenario}: ${p}`);
  }
  const results: BenchResults = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machine(),
    options,
    targets,
    comparison: compare(targets),
    goals: goals(targets),
    ok: problems.length === 0,
    problems,
  };
  const md = markdown(results);
  writeFileSync(join(options.out, `${options.name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(options.out, `${options.name}.md`), `${md}\n`);
  console.log(`\n${md}`);
  console.log(`results: ${join(options.out, `${options.name}.json`)} and .md`);
  return results.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
