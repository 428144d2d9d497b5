import { clientsFor, runPhase, type Context, type ScenarioResult, type SocketGroup } from './context.js';

/**
 * Scenario `batch`, the batch API: SendMessages with --batch-size messages per call (Centrifugo:
 * its Batch API, one Publish command per message), --batch-in-flight calls per sender, round-robin
 * over the sockets' client ids. Figure: delivered messages/s; every message must come back sent
 * and arrive once.
 */
export async function batch(ctx: Context, group: SocketGroup): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const params = { sockets: group.opened, messageBytes: options.messageBytes, batch: options.batchSize, inFlightPerSender: options.batchInFlight, seconds: options.durationSeconds };
  const implemented = await fleet.senders[0]!.request<boolean>({ type: 'probe', method: 'sendMessages' });
  if (!implemented) return { scenario: 'batch', skipped: 'SendMessages is UNIMPLEMENTED on this target', figures: {}, cpu: {}, params, problems: [] };
  const phase = await runPhase(ctx, `SendMessages ×${options.batchSize}`, group, (i) => ({
    kind: 'batch',
    clients: clientsFor(group, fleet.senders.length, i),
    topic: '',
    durationMs: options.durationSeconds * 1000,
    rate: 0,
    inFlight: options.batchInFlight,
    batch: options.batchSize,
    messageBytes: options.messageBytes,
    unitsPerCall: 1,
    nOffset: 0,
    nStride: 1,
  }));
  return {
    scenario: 'batch',
    figures: { messagesPerSecond: phase.perSecond, p50Ms: phase.latency.p50Ms, p99Ms: phase.latency.p99Ms, messages: phase.delivered, ...phase.extra },
    cpu: phase.cpu,
    params,
    problems: phase.problems,
  };
}
