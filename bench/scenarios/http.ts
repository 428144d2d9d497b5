import type { ScenarioName } from '../options.js';
import { clientsFor, runPhase, type Context, type ScenarioResult, type SocketGroup } from './context.js';

/**
 * Scenarios `http-unary` and `http-batch`: channeld's HTTP/JSON API (issue 12) on its HTTP port,
 * `POST /channel.v1.ChannelService/SendMessage` (one message per request, --unary-in-flight
 * requests per sender) or `/SendMessages` (--batch-size per request, --batch-in-flight), canonical
 * proto JSON bodies, from the Go sender. channeld only; skipped while the API answers 404.
 */
export async function httpApi(ctx: Context, group: SocketGroup, scenario: 'http-unary' | 'http-batch'): Promise<ScenarioResult> {
  const { fleet, options } = ctx;
  const batched = scenario === 'http-batch';
  const params = {
    sockets: group.opened,
    messageBytes: options.messageBytes,
    batch: batched ? options.batchSize : 1,
    inFlightPerSender: batched ? options.batchInFlight : options.unaryInFlight,
    seconds: options.durationSeconds,
  };
  const skip = (why: string): ScenarioResult => ({ scenario: scenario satisfies ScenarioName, skipped: why, figures: {}, cpu: {}, params, problems: [] });
  if (ctx.target.ws.kind !== 'channeld' || ctx.target.kind === 'cluster') return skip('the HTTP API scenarios run against one channeld node only');
  if (options.nodeSenders) return skip('needs the Go sender (drop --node-senders)');
  const implemented = await fleet.senders[0]!.request<boolean>({ type: 'probe', method: 'http' });
  if (!implemented) return skip("channeld's HTTP API answered 404 to POST /channel.v1.ChannelService/SendMessages (not landed yet, issue 12)");
  const phase = await runPhase(ctx, batched ? `HTTP SendMessages ×${options.batchSize}` : 'HTTP SendMessage', group, (i) => ({
    kind: scenario,
    clients: clientsFor(group, fleet.senders.length, i),
    topic: '',
    durationMs: options.durationSeconds * 1000,
    rate: 0,
    inFlight: params.inFlightPerSender,
    batch: params.batch,
    messageBytes: options.messageBytes,
    unitsPerCall: 1,
    nOffset: 0,
    nStride: 1,
  }));
  return {
    scenario,
    figures: { messagesPerSecond: phase.perSecond, p50Ms: phase.latency.p50Ms, p99Ms: phase.latency.p99Ms, messages: phase.delivered, ...phase.extra },
    cpu: phase.cpu,
    params,
    problems: phase.problems,
  };
}
