import { clientsFor, runPhase, type Context, type ScenarioResult, type SocketGroup } from './context.js';

/**
 * Scenario 1, unary SendMessage at full speed: the senders round-robin over the sockets' client
 * ids with --unary-in-flight calls each. Figures: delivered messages/s and end-to-end latency (gRPC
 * call start → frame read by the receiver), which at full speed is mostly queueing.
 */
export async function unary(ctx: Context, group: SocketGroup): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const phase = await runPhase(ctx, 'unary SendMessage', group, (i) => ({
    kind: 'unary',
    clients: clientsFor(group, fleet.senders.length, i),
    topic: '',
    durationMs: options.durationSeconds * 1000,
    rate: 0,
    inFlight: options.unaryInFlight,
    batch: 1,
    messageBytes: options.messageBytes,
    unitsPerCall: 1,
    nOffset: 0,
    nStride: 1,
  }));
  return {
    scenario: 'unary',
    figures: {
      messagesPerSecond: phase.perSecond,
      p50Ms: phase.latency.p50Ms,
      p95Ms: phase.latency.p95Ms,
      p99Ms: phase.latency.p99Ms,
      messages: phase.delivered,
      ...phase.extra,
    },
    cpu: phase.cpu,
    params: { sockets: group.opened, messageBytes: options.messageBytes, inFlightPerSender: options.unaryInFlight, seconds: options.durationSeconds },
    problems: phase.problems,
  };
}
