import { clientsFor, runPhase, type Context, type ScenarioResult, type SocketGroup } from './context.js';

/**
 * Scenario 2, streaming ingest: each sender opens one StreamMessages call and keeps up to
 * --stream-in-flight messages awaiting their results (honouring write backpressure), written
 * --stream-batch to a request (`requests`; 1 writes one `request` each). Figure:
 * delivered messages/s; every request must come back `sent` and every message arrive once.
 */
export async function streaming(ctx: Context, group: SocketGroup): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const params = { sockets: group.opened, messageBytes: options.messageBytes, inFlightPerSender: options.streamInFlight, batch: options.streamBatch, seconds: options.durationSeconds };
  const implemented = await fleet.senders[0]!.request<boolean>({ type: 'probe', method: 'streamMessages' });
  if (!implemented) return { scenario: 'stream', skipped: ctx.target.kind === 'centrifugo' ? 'Centrifugo has no streaming publish API (its batch API is the batch scenario)' : 'StreamMessages is UNIMPLEMENTED on this target', figures: {}, cpu: {}, params, problems: [] };
  const phase = await runPhase(ctx, 'StreamMessages', group, (i) => ({
    kind: 'stream',
    clients: clientsFor(group, fleet.senders.length, i),
    topic: '',
    durationMs: options.durationSeconds * 1000,
    rate: 0,
    inFlight: options.streamInFlight,
    batch: options.streamBatch,
    messageBytes: options.messageBytes,
    unitsPerCall: 1,
    nOffset: 0,
    nStride: 1,
  }));
  return {
    scenario: 'stream',
    figures: { messagesPerSecond: phase.perSecond, p50Ms: phase.latency.p50Ms, p99Ms: phase.latency.p99Ms, messages: phase.delivered, ...phase.extra },
    cpu: phase.cpu,
    params,
    problems: phase.problems,
  };
}
