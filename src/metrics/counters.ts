/**
 * Plain counters the hot paths bump: a number field each, no library call, no allocation. The
 * metrics registry (registry.ts) reads them when Prometheus scrapes. This module imports nothing,
 * so every layer (core, engine, transports) may use it.
 */

/** What the gateway did with sockets and frames. */
export class GatewayCounters {
  socketOpens = 0;
  /** Sockets open now: opened and not yet closed. */
  socketsOpen = 0;
  /** Closes by WebSocket close code (1000, 1001, 1006, 4001, 4500, …). */
  readonly socketCloses: Record<number, number> = {};
  framesChannel = 0;
  framesTopic = 0;
  framesControl = 0;
  bytesSent = 0;
  /** Upgrades refused by an operator limit, by limit. */
  upgradesRefusedMaxSockets = 0;
  upgradesRefusedRate = 0;
  upgradesRefusedOrigin = 0;

  socketOpened(): void {
    this.socketOpens++;
    this.socketsOpen++;
  }

  socketClosed(code: number): void {
    this.socketsOpen--;
    this.socketCloses[code] = (this.socketCloses[code] ?? 0) + 1;
  }
}

/** What the core's sessions did. */
export class SessionCounters {
  /** Reconnects that asked to resume from a position and got every message they missed. */
  resumesRecovered = 0;
  /** Reconnects that asked to resume and were told "not recovered" (a gap they must handle). */
  resumesNotRecovered = 0;
}

/** What the gRPC API answered, per method path ('/channel.v1.ChannelService/SendMessage'). */
export class GrpcCounters {
  /** Calls by method, then by gRPC status code (0 OK … 16 UNAUTHENTICATED). */
  readonly calls = new Map<string, number[]>();
  /** How long calls took, by method: unary calls to their answer, streams to their end. */
  readonly durations = new Map<string, LatencyHistogram>();
  /** Messages the core took (each got a seq), by the ChannelService RPC that sent them (SendMessage, …). */
  readonly accepted = new Map<string, number>();
  /** Backend connections moved to a new one before HTTP/2's rapid-reset guard would end them. */
  connectionsRecycled = 0;

  callEnded(method: string, code: number, seconds: number): void {
    let codes = this.calls.get(method);
    if (codes === undefined) {
      codes = new Array<number>(17).fill(0);
      this.calls.set(method, codes);
    }
    codes[code] = (codes[code] ?? 0) + 1;
    let histogram = this.durations.get(method);
    if (histogram === undefined) {
      histogram = new LatencyHistogram(LATENCY_BOUNDS_SECONDS);
      this.durations.set(method, histogram);
    }
    histogram.observe(seconds);
  }

  messagesAccepted(rpc: string, count: number): void {
    if (count > 0) this.accepted.set(rpc, (this.accepted.get(rpc) ?? 0) + count);
  }
}

/** What the presence webhook dropped, by why. */
export interface WebhookDrops {
  readonly queueFull: number;
  readonly retriesExhausted: number;
  readonly shutdown: number;
}

/**
 * A latency histogram with fixed bounds: `observe` is a short loop and two additions. Buckets are
 * kept per bucket (not cumulative); the exporter sums them.
 */
export class LatencyHistogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly boundsSeconds: readonly number[]) {
    this.counts = new Array<number>(boundsSeconds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    const bounds = this.boundsSeconds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i] = this.counts[i]! + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** Bounds for calls that take well under a millisecond on a good day and seconds on a bad one. */
export const LATENCY_BOUNDS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
