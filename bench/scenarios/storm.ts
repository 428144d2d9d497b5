import { rssBytes } from '../procs.js';
import { cpuMeter, mint, openProblems, openSockets, progress, type Context, type ScenarioResult, type SocketGroup } from './context.js';
import { Histogram } from '../load/histogram.js';
import { TOPIC } from './topic.js';

/**
 * Scenario 4, connect storm: mint --topic-sockets tokens over gRPC, then open that many sockets as
 * fast as the receivers can (--connect-concurrency handshakes in flight each). Figures: tokens/s,
 * connections/s (until the last welcome), connect latency, and the RSS growth per idle socket of the
 * server holding the sockets, cluster: node B (VmRSS after the sockets sat idle for --settle seconds,
 * minus VmRSS before they opened). The sockets stay open for the topic scenario.
 */
export async function connectStorm(ctx: Context): Promise<{ result: ScenarioResult; group: SocketGroup }> {
  const count = ctx.options.topicSockets;
  const clientIds = Array.from({ length: count }, (_, i) => `s${i}`);
  const mintStarted = performance.now();
  const tokens = await mint(ctx, clientIds);
  const mintSeconds = (performance.now() - mintStarted) / 1000;

  const rssBefore = rssBytes(ctx.target.socketPid);
  const meter = cpuMeter(ctx);
  // Receivers count welcomes as deliveries while they open sockets, which feeds the progress line.
  ctx.fleet.beginPhase(Number.POSITIVE_INFINITY);
  const stopProgress = progress(ctx, 'connect storm', () => ctx.fleet.delivered, 'sockets open');
  meter.start();
  const { seconds, replies } = await openSockets(ctx, tokens, TOPIC);
  ctx.fleet.endPhase();
  const cpu = meter.read();
  stopProgress();
  await new Promise((resolve) => setTimeout(resolve, ctx.options.settleSeconds * 1000));
  const rssAfter = rssBytes(ctx.target.socketPid);

  const connect = new Histogram();
  let opened = 0;
  let droppedAfterUpgrade = 0;
  for (const reply of replies) {
    connect.merge(reply.connectHistogram);
    opened += reply.opened;
    droppedAfterUpgrade += reply.droppedAfterUpgrade;
  }
  const problems = openProblems(replies);
  const latency = connect.percentiles();
  const group: SocketGroup = { clientIds, openSeconds: seconds, mintSeconds, opened, connectLatency: latency, problems };
  return {
    group,
    result: {
      scenario: 'storm',
      figures: {
        tokensPerSecond: count / mintSeconds,
        connectionsPerSecond: opened / seconds,
        connectP50Ms: latency.p50Ms,
        connectP99Ms: latency.p99Ms,
        rssBeforeMiB: rssBefore / 2 ** 20,
        rssAfterMiB: rssAfter / 2 ** 20,
        rssPerSocketKiB: opened === 0 ? 0 : (rssAfter - rssBefore) / opened / 1024,
        sockets: opened,
        droppedAfterUpgrade,
      },
      cpu,
      params: { sockets: count, connectConcurrencyPerReceiver: ctx.options.connectConcurrency, receivers: ctx.fleet.receivers.length },
      problems,
    },
  };
}
