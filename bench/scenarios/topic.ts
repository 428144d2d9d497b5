import { slice, runPhase, type Context, type ScenarioResult, type SocketGroup } from './context.js';

export const TOPIC = 'bench-topic';
const TOPIC_WELCOME_TIMEOUT_MS = 120_000;

/**
 * Scenario 3, topic fan-out: every socket of the storm is subscribed to one topic (Subscribe, then
 * each socket's topic welcome), then the senders call Broadcast {topics: [topic]} for --duration
 * seconds, --broadcast-in-flight calls each. Figure: deliveries/s (topic frames received by all
 * sockets together), with each socket checked to get every broadcast exactly once.
 */
export async function topicFanOut(ctx: Context, group: SocketGroup): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const params = { sockets: group.opened, messageBytes: options.messageBytes, broadcastInFlightPerSender: options.broadcastInFlight, seconds: options.durationSeconds };
  const implemented = await fleet.senders[0]!.request<boolean>({ type: 'probe', method: 'broadcast' });
  if (!implemented) return { scenario: 'topic', skipped: 'Broadcast is UNIMPLEMENTED on this target', figures: {}, cpu: {}, params, problems: [] };
  await Promise.all(
    fleet.senders.map((s, i) => {
      const [a, b] = slice(group.clientIds.length, fleet.senders.length, i);
      return s.request({ type: 'subscribe', clientIds: group.clientIds.slice(a, b), topic: TOPIC });
    }),
  );
  await Promise.all(fleet.receivers.map((r) => r.request({ type: 'await-topic', topic: TOPIC, timeoutMs: TOPIC_WELCOME_TIMEOUT_MS })));
  const senders = fleet.senders.length;
  const phase = await runPhase(ctx, 'topic broadcast', group, (i) => ({
    kind: 'broadcast',
    clients: [],
    topic: TOPIC,
    durationMs: options.durationSeconds * 1000,
    rate: 0,
    inFlight: options.broadcastInFlight,
    batch: 1,
    messageBytes: options.messageBytes,
    unitsPerCall: group.opened,
    nOffset: i,
    nStride: senders,
  }));
  return {
    scenario: 'topic',
    figures: {
      deliveriesPerSecond: phase.perSecond,
      broadcastsPerSecond: phase.calls / phase.seconds,
      deliveries: phase.delivered,
      p50Ms: phase.latency.p50Ms,
      p99Ms: phase.latency.p99Ms,
      ...phase.extra,
    },
    cpu: phase.cpu,
    params,
    problems: phase.problems,
  };
}
