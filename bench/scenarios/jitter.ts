import { randomBytes } from 'node:crypto';
import type { JitterReport } from '../../test/helpers/jitter.js';
import { Generator } from '../fleet.js';
import type { JitterMessage, JitterRequest } from '../ipc.js';
import { CpuMeter } from '../procs.js';
import type { Context, ScenarioResult } from './context.js';

/**
 * Scenario 6, jitter (issue 8): --jitter-clients clients, each one's TCP connection destroyed every
 * ~--jitter-drop-every s (no close frame) and back after ~--jitter-gap s with its last seq, on the
 * next node each time (cluster: nodes A, B and C over one Redis), while SendMessage and a topic
 * Broadcast run at a steady rate. It runs test/helpers/jitter.ts in a process of its own (`j0`).
 * Figures: % of owed deliveries received exactly once, in order; replay catch-up p50/p99 (from the
 * new socket to having every message OK'd before it). Anything short of 100 % fails the run.
 */
export async function jitter(ctx: Context): Promise<ScenarioResult> {
  const size = ctx.options.jitter;
  const params = {
    clients: size.clients,
    nodes: ctx.target.nodes.length,
    seconds: size.sendSeconds,
    dropEveryMs: size.dropEveryMs,
    offlineGapMs: size.offlineGapMs,
    messagesPerSecond: size.messagesPerSecond,
    broadcastsPerSecond: size.broadcastsPerSecond,
  };
  if (ctx.target.kind === 'baseline') {
    return { scenario: 'jitter', skipped: 'Socket.IO here has no resume from a seq', figures: {}, cpu: {}, params, problems: [] };
  }
  const generator = new Generator<JitterRequest, JitterMessage>('jitter', './load/jitter.ts', (m) => {
    if (m.type === 'log') console.log(`  [${ctx.target.kind}] ${m.line}`);
  });
  const meter = new CpuMeter([...ctx.target.processes, { name: 'j0', pid: generator.pid }]);
  try {
    meter.start();
    const r = await generator.request<JitterReport>({ type: 'run', nodes: ctx.target.nodes, size, idPrefix: `jitter-${randomBytes(3).toString('hex')}` });
    const cpu = meter.read();
    if (r.sendingSeconds > 1.5 * size.sendSeconds) {
      console.warn(`  [${ctx.target.kind}] jitter: sending took ${r.sendingSeconds.toFixed(0)} s instead of ${size.sendSeconds} s: calls were slower than the asked rate (a loaded machine?)`);
    }
    const problems: string[] = [];
    if (r.violations > 0) problems.push(`${r.violations} breaks of exactly-once, in order: ${r.firstViolations.join('; ')}`);
    if (r.exactlyOnce !== r.deliveriesOwed) problems.push(`only ${r.exactlyOnce} of ${r.deliveriesOwed} owed deliveries arrived exactly once, in order`);
    if (r.failedCalls > 0) problems.push(`${r.failedCalls} failed calls, first: ${r.firstFailure}`);
    if (r.deliveriesOwed === 0) problems.push('nothing was sent');
    return {
      scenario: 'jitter',
      figures: {
        exactlyOncePercent: r.exactlyOncePercent,
        catchUpP50Ms: r.catchUp.p50Ms,
        catchUpP99Ms: r.catchUp.p99Ms,
        catchUpMaxMs: r.catchUp.maxMs,
        catchUps: r.catchUp.count,
        reconnects: r.reconnects,
        deliveriesOwed: r.deliveriesOwed,
        violations: r.violations,
        serverCloses: r.serverCloses,
        topicWireDuplicates: r.topicWireDuplicates,
        sendingSeconds: r.sendingSeconds,
      },
      cpu,
      params,
      problems,
    };
  } finally {
    await generator.close();
  }
}
