import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResults } from '../bench/report.js';
import { redisAvailability } from './helpers/redis.js';

const SCENARIOS = ['storm', 'topic', 'unary', 'latency', 'stream'];
const redis = redisAvailability();

if (!redis.run && redis.fail) {
  test('bench - redis-server is installed for the cluster target (CI=true)', (t) => t.fail(redis.why));
} else if (!redis.run) {
  console.warn(`\n!!! bench smoke: SKIPPING the cluster target (two nodes + Redis): ${redis.why} !!!\n`);
}
const TARGETS = redis.run ? (['channeld', 'baseline', 'cluster'] as const) : (['channeld', 'baseline'] as const);

function runBench(out: string): Promise<{ code: number | null; output: string }> {
  const args = [
    '--import', 'tsx', 'bench/run.ts',
    '--targets', TARGETS.join(','),
    '--sockets', '20', '--topic-sockets', '20', '--duration', '1', '--settle', '0', '--drain-timeout', '10',
    '--out', out, '--name', 'smoke',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

test(`bench - every scenario runs against ${TARGETS.join(', ')} with no lost or duplicated message`, async (t) => {
  t.timeout(300_000);
  const out = mkdtempSync(join(tmpdir(), 'channeld-bench-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const { code, output } = await runBench(out);
  t.is(code, 0, output.slice(-3000));

  const results = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8')) as BenchResults;
  t.true(results.ok);
  t.deepEqual(results.problems, []);
  t.true(results.machine.cores > 0);
  t.regex(results.machine.node, /^v\d+/);
  t.deepEqual(Object.keys(results.targets), [...TARGETS], 'every target ran');
  for (const target of TARGETS) {
    const scenarios = results.targets[target] ?? [];
    const servers = target === 'cluster' ? ['nodeA', 'nodeB', 'redis'] : ['server'];
    t.deepEqual(scenarios.map((s) => s.scenario), SCENARIOS, `${target} ran every scenario in order`);
    for (const s of scenarios) {
      t.is(s.skipped, undefined, `${target} ${s.scenario} was not skipped`);
      t.deepEqual(s.problems, [], `${target} ${s.scenario} had no loss, duplicate or error`);
      t.true(Object.keys(s.figures).length > 0, `${target} ${s.scenario} has figures`);
      for (const [key, value] of Object.entries(s.figures)) t.true(Number.isFinite(value), `${target} ${s.scenario} ${key} is a number`);
      for (const name of servers) t.true(typeof s.cpu[name] === 'number', `${target} ${s.scenario} reports the CPU of ${name}`);
      t.true(typeof s.cpu['r0'] === 'number' && typeof s.cpu['s0'] === 'number', `${target} ${s.scenario} reports generator CPU`);
    }
  }
  const stream = results.targets.channeld?.find((s) => s.scenario === 'stream');
  t.is(stream?.params['batch'], 100, 'the stream scenario sends batches of --stream-batch (default 100) messages');
  t.true((stream?.figures['messages'] ?? 0) > 0, 'stream delivered messages');
  const unary = results.targets.channeld?.find((s) => s.scenario === 'unary');
  t.true((unary?.figures['messages'] ?? 0) > 0, 'unary delivered messages');
  for (const row of results.comparison) {
    if (row.channeld !== null && row.baseline !== null && row.baseline !== 0) t.is(row.ratio, row.channeld / row.baseline, row.figure);
  }
  const md = readFileSync(join(out, 'smoke.md'), 'utf8');
  t.regex(md, /\| figure \| channeld \| baseline \(grpc-js \+ Socket\.IO\) \| channeld \/ baseline \|/);
  t.regex(md, /Machine: \d+ cores/);
  if (!redis.run) return;
  const clusterUnary = results.targets.cluster?.find((s) => s.scenario === 'unary');
  t.true((clusterUnary?.figures['messages'] ?? 0) > 0, 'unary delivered messages across two nodes');
  t.regex(output, /senders → node A gRPC :\d+, sockets → node B HTTP :\d+/, 'senders and sockets use different nodes');
  for (const key of ['messagesPerSecond', 'p99Ms']) {
    const row = results.comparison.find((r) => r.scenario === 'unary' && r.key === key);
    t.true(row?.cluster !== null && row?.channeld !== null, `unary ${key} measured on both`);
    t.is(row?.clusterRatio, row!.cluster! / row!.channeld!, `unary ${key}: cluster / one node`);
  }
  t.regex(md, /\| figure \| channeld, one node \| cluster, 2 nodes \+ Redis \| cluster \/ one node \|/);
  t.regex(md, /\| scenario \| target \| server \| nodeA \| nodeB \| redis \| r0 \|/);
});
