import { clientsFor, runPhase, type Context, type ScenarioResult, type SocketGroup } from './context.js';

/** Calls in flight per sender at a fixed rate: generous, so the window never sets the pace. */
const FIXED_RATE_IN_FLIGHT = 4096;

/**
 * Scenario 5, latency at a fixed load: unary SendMessage paced at --latency-load (50 %) of the peak
 * scenario 1 measured on the same target. Figures: the rate asked for and achieved, and
 * end-to-end latency percentiles.
 */
export async function latencyAtLoad(ctx: Context, group: SocketGroup): Promise<ScenarioResult> {
  const { options } = ctx;
  const peak = ctx.earlier.unary?.figures['messagesPerSecond'];
  const params = { sockets: group.opened, load: options.latencyLoad, seconds: options.latencyDurationSeconds };
  if (peak === undefined || peak <= 0) {
    return { scenario: 'latency', skipped: 'needs the unary scenario peak', figures: {}, cpu: {}, params, problems: [] };
  }
  return paced(ctx, group, 'latency', peak * options.latencyLoad, params);
}

/**
 * Scenario `fixed-rate`: the same as `latency`, but at --fixed-rate msg/s for every target, so
 * the tails compare at one offered load (issue 9: 2,000 msg/s, which every target sustains here).
 */
export async function latencyAtFixedRate(ctx: Context, group: SocketGroup): Promise<ScenarioResult> {
  const { options } = ctx;
  return paced(ctx, group, 'fixed-rate', options.fixedRate, { sockets: group.opened, seconds: options.latencyDurationSeconds });
}

async function paced(ctx: Context, group: SocketGroup, scenario: 'latency' | 'fixed-rate', rate: number, params: Record<string, number>): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const phase = await runPhase(ctx, `unary at ${Math.round(rate)}/s`, group, (i) => ({
    kind: 'unary',
    clients: clientsFor(group, fleet.senders.length, i),
    topic: '',
    durationMs: options.latencyDurationSeconds * 1000,
    rate: rate / fleet.senders.length,
    inFlight: FIXED_RATE_IN_FLIGHT,
    batch: 1,
    messageBytes: options.messageBytes,
    unitsPerCall: 1,
    nOffset: 0,
    nStride: 1,
  }));
  return {
    scenario,
    figures: {
      targetRate: rate,
      messagesPerSecond: phase.perSecond,
      p50Ms: phase.latency.p50Ms,
      p95Ms: phase.latency.p95Ms,
      p99Ms: phase.latency.p99Ms,
      maxMs: phase.latency.maxMs,
      ...phase.extra,
    },
    cpu: phase.cpu,
    params: { ...params, rate: Math.round(rate) },
    problems: phase.problems,
  };
}
