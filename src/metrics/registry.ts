import { status as GrpcStatus } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineStatus } from '../engine/engine.js';
import type { GatewayCounters, GrpcCounters, LatencyHistogram, SessionCounters, WebhookDrops } from './counters.js';
import type { Readiness } from './readiness.js';

/** Every name starts with this, the process metrics of prom-client included. */
export const METRIC_PREFIX = 'channeld_';

/** Where the metrics come from; everything is read at scrape time. */
export interface MetricSources {
  readonly engineName: 'memory' | 'redis';
  readonly engine: EngineStatus;
  readonly gateway: GatewayCounters;
  readonly sessions: SessionCounters;
  readonly grpc: GrpcCounters;
  /** The HTTP API's calls, counted as the gRPC ones are (by gRPC code). */
  readonly httpApi?: GrpcCounters;
  readonly presenceWatchers: () => number;
  readonly deliveryWatchers: () => number;
  readonly topicPresenceWatchers: () => number;
  readonly deliveryWaiters: () => number;
  /** The presence webhook, when one is configured (it starts after the metrics exist). */
  readonly webhook?: (() => { readonly pending: number; readonly drops: WebhookDrops } | undefined) | undefined;
  readonly readiness: Readiness;
}

export interface Metrics {
  readonly contentType: string;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
}

const SLOW_CONSUMER_CLOSE_CODE = 4001;
const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GrpcStatus).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

/** '/channel.v1.ChannelService/SendMessage' → its two labels. */
function serviceAndMethod(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

type HistogramSnapshot<T extends string> = Awaited<ReturnType<Histogram<T>['get']>>;

/** The type prom-client gives a histogram at run time ('histogram'; its typings say an enum). */
const HISTOGRAM_TYPE = new Histogram({ name: 'type_probe', help: 'type probe', registers: [] }).get().then((m) => m.type);

/**
 * A prom-client histogram whose numbers come from our own LatencyHistograms: the hot path counts
 * into plain arrays, and this turns them into Prometheus's cumulative buckets when scraped.
 */
class HistogramView<T extends string> extends Histogram<T> {
  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    labelNames: readonly T[],
    private readonly read: () => Iterable<readonly [Partial<Record<T, string>>, LatencyHistogram]>,
  ) {
    super({ name: metricName, help: helpText, labelNames, registers: [] });
  }

  override async get(): Promise<HistogramSnapshot<T>> {
    return this.snapshot();
  }

  /** What the registry reads for the text format (prom-client prefers it over get()). */
  async getForPromString(): Promise<HistogramSnapshot<T>> {
    return this.snapshot();
  }

  private async snapshot(): Promise<HistogramSnapshot<T>> {
    const values: HistogramSnapshot<T>['values'] = [];
    const bucket = `${this.metricName}_bucket`;
    for (const [labels, histogram] of this.read()) {
      let cumulative = 0;
      histogram.boundsSeconds.forEach((le, i) => {
        cumulative += histogram.counts[i]!;
        values.push({ labels: Object.assign({ le }, labels), value: cumulative, metricName: bucket });
      });
      values.push({ labels: Object.assign({ le: '+Inf' }, labels), value: histogram.count, metricName: bucket });
      values.push({ labels, value: histogram.sum, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: histogram.count, metricName: `${this.metricName}_count` });
    }
    return { name: this.metricName, help: this.helpText, type: await HISTOGRAM_TYPE, aggregator: 'sum', collect: () => undefined, values };
  }
}

/** One registry per node (tests run several in one process), with prom-client's process metrics. */
export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const { gateway, sessions, grpc, engine } = sources;

  new Gauge({
    name: 'channeld_sockets_open',
    help: 'WebSockets open on this node now.',
    registers,
    collect() {
      this.set(gateway.socketsOpen);
    },
  });
  new Counter({
    name: 'channeld_socket_opens_total',
    help: 'WebSockets opened (upgraded) on this node.',
    registers,
    collect() {
      this.reset();
      this.inc(gateway.socketOpens);
    },
  });
  new Counter({
    name: 'channeld_socket_closes_total',
    help: 'WebSockets closed, by close code (4001 slow consumer, 45xx terminal, 1001 going away, 1006 dropped, …).',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(gateway.socketCloses)) this.inc({ code }, n);
    },
  });
  new Counter({
    name: 'channeld_slow_consumer_closes_total',
    help: 'WebSockets closed with 4001 because they fell behind their outgoing cap (they resume).',
    registers,
    collect() {
      this.reset();
      this.inc(gateway.socketCloses[SLOW_CONSUMER_CLOSE_CODE] ?? 0);
    },
  });
  new Counter({
    name: 'channeld_frames_sent_total',
    help: 'Frames handed to WebSockets, by kind: channel messages, topic messages (each fan-out copy counts), control (welcomes, topic joins and leaves).',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      this.inc({ kind: 'channel' }, gateway.framesChannel);
      this.inc({ kind: 'topic' }, gateway.framesTopic);
      this.inc({ kind: 'control' }, gateway.framesControl);
    },
  });
  new Counter({
    name: 'channeld_sent_bytes_total',
    help: 'Bytes of frame payload handed to WebSockets (UTF-8, before WebSocket framing and compression).',
    registers,
    collect() {
      this.reset();
      this.inc(gateway.bytesSent);
    },
  });
  new Counter({
    name: 'channeld_upgrades_refused_total',
    help: 'WebSocket upgrades refused by an operator limit, by reason: max_sockets (503), rate (429, per IP), origin (403).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      this.inc({ reason: 'max_sockets' }, gateway.upgradesRefusedMaxSockets);
      this.inc({ reason: 'rate' }, gateway.upgradesRefusedRate);
      this.inc({ reason: 'origin' }, gateway.upgradesRefusedOrigin);
    },
  });
  new Counter({
    name: 'channeld_resumes_total',
    help: 'Reconnects that asked to resume from their last seq, by outcome: recovered (every missed message replayed) or not_recovered (told of a gap).',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      this.inc({ outcome: 'recovered' }, sessions.resumesRecovered);
      this.inc({ outcome: 'not_recovered' }, sessions.resumesNotRecovered);
    },
  });
  new Counter({
    name: 'channeld_messages_accepted_total',
    help: 'Messages accepted (given a seq) by the gRPC API, by RPC; a Broadcast counts once.',
    labelNames: ['rpc'],
    registers,
    collect() {
      this.reset();
      for (const [rpc, n] of grpc.accepted) this.inc({ rpc }, n);
    },
  });
  new Counter({
    name: 'channeld_grpc_calls_total',
    help: 'gRPC calls answered, by service, method and status code (OK, INVALID_ARGUMENT, UNAUTHENTICATED, CANCELLED, …).',
    labelNames: ['service', 'method', 'code'],
    registers,
    collect() {
      this.reset();
      for (const [path, codes] of grpc.calls) {
        const labels = serviceAndMethod(path);
        codes.forEach((n, code) => {
          if (n > 0) this.inc({ ...labels, code: STATUS_NAMES[code] ?? String(code) }, n);
        });
      }
    },
  });
  registry.registerMetric(
    new HistogramView('channeld_grpc_call_duration_seconds', 'How long gRPC calls took, by service and method: unary calls to their answer, streams to their end.', ['service', 'method'], () =>
      [...grpc.durations].map(([path, histogram]) => [serviceAndMethod(path), histogram] as const),
    ),
  );
  const httpApi = sources.httpApi;
  if (httpApi !== undefined) {
    new Counter({
      name: 'channeld_http_api_calls_total',
      help: 'HTTP API calls (POST /channel.v1.ChannelService/<Method>) answered, by service, method and the gRPC code of the answer (OK, INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED for 413, NOT_FOUND for an unknown method, CANCELLED when the client went away, …).',
      labelNames: ['service', 'method', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [path, codes] of httpApi.calls) {
          const labels = serviceAndMethod(path);
          codes.forEach((n, code) => {
            if (n > 0) this.inc({ ...labels, code: STATUS_NAMES[code] ?? String(code) }, n);
          });
        }
      },
    });
    registry.registerMetric(
      new HistogramView('channeld_http_api_call_duration_seconds', 'How long HTTP API calls took, by service and method: unary calls to their answer, WatchPresence streams to their end.', ['service', 'method'], () =>
        [...httpApi.durations].map(([path, histogram]) => [serviceAndMethod(path), histogram] as const),
      ),
    );
    new Counter({
      name: 'channeld_http_api_messages_accepted_total',
      help: 'Messages accepted (given a seq) by the HTTP API, by RPC; a Broadcast counts once.',
      labelNames: ['rpc'],
      registers,
      collect() {
        this.reset();
        for (const [rpc, n] of httpApi.accepted) this.inc({ rpc }, n);
      },
    });
  }
  new Counter({
    name: 'channeld_grpc_connections_recycled_total',
    help: "Backend connections that cancelled calls faster than HTTP/2's rapid-reset guard allows, moved to a new connection (graceful GOAWAY).",
    registers,
    collect() {
      this.reset();
      this.inc(grpc.connectionsRecycled);
    },
  });
  new Gauge({
    name: 'channeld_presence_watchers',
    help: 'WatchPresence streams open on this node.',
    registers,
    collect() {
      this.set(sources.presenceWatchers());
    },
  });
  new Gauge({
    name: 'channeld_topic_presence_watchers',
    help: 'WatchTopicPresence streams open on this node.',
    registers,
    collect() {
      this.set(sources.topicPresenceWatchers());
    },
  });
  new Gauge({
    name: 'channeld_delivery_watchers',
    help: 'WatchDeliveries streams open on this node.',
    registers,
    collect() {
      this.set(sources.deliveryWatchers());
    },
  });
  new Gauge({
    name: 'channeld_delivery_waiters',
    help: 'SendMessage calls on this node waiting for the browser to acknowledge (wait_for_delivery).',
    registers,
    collect() {
      this.set(sources.deliveryWaiters());
    },
  });
  if (sources.webhook !== undefined) {
    const webhook = sources.webhook;
    new Gauge({
      name: 'channeld_webhook_queue_depth',
      help: 'Presence notices waiting for the webhook (queued, in flight or backing off).',
      registers,
      collect() {
        this.set(webhook()?.pending ?? 0);
      },
    });
    new Counter({
      name: 'channeld_webhook_dropped_total',
      help: 'Presence notices dropped, by reason: queue_full, retries_exhausted, shutdown.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const drops = webhook()?.drops ?? { queueFull: 0, retriesExhausted: 0, shutdown: 0 };
        this.inc({ reason: 'queue_full' }, drops.queueFull);
        this.inc({ reason: 'retries_exhausted' }, drops.retriesExhausted);
        this.inc({ reason: 'shutdown' }, drops.shutdown);
      },
    });
  }
  new Gauge({
    name: 'channeld_engine_up',
    help: 'Whether the engine reaches its store (1) or not (0); the memory engine always does.',
    labelNames: ['engine'],
    registers,
    collect() {
      this.reset();
      this.set({ engine: sources.engineName }, engine.isUp() ? 1 : 0);
    },
  });
  if (engine.shards?.() !== undefined) {
    new Gauge({
      name: 'channeld_redis_shard_up',
      help: 'Whether each Redis shard (--redis-shard, by its place in the list) is reached (1) or not (0).',
      labelNames: ['shard'],
      registers,
      collect() {
        this.reset();
        for (const { shard, up } of engine.shards?.() ?? []) this.set({ shard }, up ? 1 : 0);
      },
    });
  }
  const roundTrips = engine.roundTrips;
  if (roundTrips !== undefined) {
    registry.registerMetric(
      new HistogramView('channeld_redis_roundtrip_seconds', 'Round trips to Redis (scripts and commands), from sending to the reply.', [], () => [[{}, roundTrips] as const]),
    );
  }
  if (engine.bufferedMessages() !== undefined) {
    new Gauge({
      name: 'channeld_replay_buffer_messages',
      help: "Messages held in this node's replay buffers (channels and topics).",
      registers,
      collect() {
        this.set(engine.bufferedMessages() ?? 0);
      },
    });
  }
  new Gauge({
    name: 'channeld_ready',
    help: 'Whether the node takes traffic (1): started, not draining, engine reachable (what /readyz says).',
    registers,
    collect() {
      this.set(sources.readiness.ready ? 1 : 0);
    },
  });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
