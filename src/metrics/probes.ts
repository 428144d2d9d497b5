import type { Metrics } from './registry.js';
import type { Readiness } from './readiness.js';

/** What a probe or a scrape gets back, whatever HTTP server carries it. */
export interface OpsAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The paths served for operators, on the HTTP port and on --metrics-port. */
export const OPS_PATHS = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

/**
 * Load balancers send few headers; a request with more than this gets 431 at once (the pinned
 * uWebSockets.js build cannot parse more than this on the HTTP port and leaves such a request
 * unanswered until its idle timeout; see README "Probes").
 */
export const MAX_PROBE_HEADERS = 48;

const TEXT = 'text/plain; charset=utf-8';

/** Answers for /healthz, /readyz and (when metrics are on here) /metrics. */
export class OpsAnswers {
  constructor(
    private readonly readiness: Readiness,
    /** Undefined when /metrics is off, or served by the other listener. */
    private readonly metrics: Metrics | undefined,
  ) {}

  /** Whether `path` is one of ours on this listener. */
  serves(path: string): boolean {
    return path === OPS_PATHS.health || path === OPS_PATHS.ready || (path === OPS_PATHS.metrics && this.metrics !== undefined);
  }

  /** The process is alive and its event loop turns: always 200. */
  health(): OpsAnswer {
    return { status: 200, contentType: TEXT, body: 'ok\n' };
  }

  /** 200 while the node should get traffic; 503 with the reason while starting, draining or without its engine. */
  ready(): OpsAnswer {
    this.readiness.refresh();
    const why = this.readiness.notReadyBecause();
    return why === undefined ? { status: 200, contentType: TEXT, body: 'ready\n' } : { status: 503, contentType: TEXT, body: `not ready: ${why}\n` };
  }

  async scrape(): Promise<OpsAnswer> {
    if (this.metrics === undefined) return { status: 404, contentType: TEXT, body: 'not found\n' };
    return { status: 200, contentType: this.metrics.contentType, body: await this.metrics.render() };
  }

  /** The answer for one of our paths. */
  answer(path: string): OpsAnswer | Promise<OpsAnswer> {
    if (path === OPS_PATHS.health) return this.health();
    if (path === OPS_PATHS.ready) return this.ready();
    return this.scrape();
  }
}

/** HTTP status lines for the answers above. */
export const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  431: '431 Request Header Fields Too Large',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};
