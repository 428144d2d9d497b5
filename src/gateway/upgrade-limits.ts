import type { GatewayCounters } from '../metrics/counters.js';
import type { HttpRequest, HttpResponse, us_socket_context_t } from './uws.js';

type UpgradeHandler = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void;

/** Limits an operator sets on WebSocket upgrades; each refusal is an HTTP answer, never a hang. */
export interface UpgradeLimitOptions {
  /** Sockets this node holds at most; 0: no limit. */
  readonly maxSockets: number;
  /** Upgrades one IP address may make per second, on average; 0: no limit. */
  readonly upgradesPerIpPerSecond: number;
  /** Upgrades one IP address may make at once, on top of the rate (a page reload, a reconnect wave). */
  readonly upgradeBurstPerIp: number;
  /** Origins (scheme://host[:port]) whose pages may open sockets; empty: any (App Engine pages are on any origin). */
  readonly allowedOrigins: readonly string[];
}

export const UpgradeRefusal = {
  MaxSockets: { status: '503 Service Unavailable', text: 'this node holds as many sockets as it may; try another node or later', retryAfterSeconds: 5 },
  Rate: { status: '429 Too Many Requests', text: 'too many WebSocket upgrades from this address; slow down', retryAfterSeconds: 1 },
  Origin: { status: '403 Forbidden', text: 'this origin may not open channeld sockets', retryAfterSeconds: undefined },
} as const;
export type UpgradeRefusal = (typeof UpgradeRefusal)[keyof typeof UpgradeRefusal];

interface Bucket {
  tokens: number;
  lastMs: number;
}

/** Idle addresses are forgotten after this long: their bucket is full again by then. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Decides, synchronously and in O(1), whether an upgrade may go ahead: the upgrade handler must
 * answer within its own call (see socket-handlers.ts), so nothing here awaits.
 */
export class UpgradeLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly origins: ReadonlySet<string>;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: UpgradeLimitOptions,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.origins = new Set(options.allowedOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
    if (options.upgradesPerIpPerSecond > 0) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
      this.sweeper.unref();
    }
  }

  /** Why this upgrade is refused, or undefined when it may go ahead (and then it is counted). */
  check(remoteAddress: string, origin: string, openSockets: number): UpgradeRefusal | undefined {
    if (this.origins.size > 0 && !this.origins.has(origin.toLowerCase())) return UpgradeRefusal.Origin;
    if (this.options.maxSockets > 0 && openSockets >= this.options.maxSockets) return UpgradeRefusal.MaxSockets;
    if (this.options.upgradesPerIpPerSecond > 0 && !this.take(remoteAddress)) return UpgradeRefusal.Rate;
    return undefined;
  }

  stop(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
  }

  private take(address: string): boolean {
    const now = this.nowMs();
    const burst = Math.max(1, this.options.upgradeBurstPerIp);
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      bucket = { tokens: burst, lastMs: now };
      this.buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.lastMs) / 1000) * this.options.upgradesPerIpPerSecond);
      bucket.lastMs = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private sweep(): void {
    const now = this.nowMs();
    const burst = Math.max(1, this.options.upgradeBurstPerIp);
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.lastMs) / 1000) * this.options.upgradesPerIpPerSecond >= burst) this.buckets.delete(address);
    }
  }
}

/**
 * Wraps the upgrade handler with the limits: a refused upgrade is answered at once, inside the
 * handler's own call, and counted; the others go on to `handleUpgrade` synchronously.
 */
export function limitUpgrades(limits: UpgradeLimits, counters: GatewayCounters, handleUpgrade: UpgradeHandler): UpgradeHandler {
  return (res, req, context) => {
    const refusal = limits.check(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('origin'), counters.socketsOpen);
    if (refusal === undefined) {
      handleUpgrade(res, req, context);
      return;
    }
    if (refusal === UpgradeRefusal.MaxSockets) counters.upgradesRefusedMaxSockets++;
    else if (refusal === UpgradeRefusal.Rate) counters.upgradesRefusedRate++;
    else counters.upgradesRefusedOrigin++;
    res.cork(() => {
      res.writeStatus(refusal.status).writeHeader('content-type', 'text/plain; charset=utf-8');
      if (refusal.retryAfterSeconds !== undefined) res.writeHeader('retry-after', String(refusal.retryAfterSeconds));
      res.end(`${refusal.text}\n`);
    });
  };
}
