import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { PresenceState, type ClientId, type PresenceChange } from '../core/types.js';
import type { WebhookDrops } from '../metrics/counters.js';

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` when a secret is set. */
export const SIGNATURE_HEADER = 'X-Channeld-Signature';
/** The presence change's cursor, the same on every retry, so a receiver can drop duplicates. */
export const CURSOR_HEADER = 'X-Channeld-Cursor';

const CONNECTED_PATH = '_ah/channel/connected/';
const DISCONNECTED_PATH = '_ah/channel/disconnected/';

/**
 * Answers that mean "this app does not handle that path". On App Engine presence was opt-in per
 * path, so an app that routes only `/disconnected/` answers `/connected/` like any unknown URL.
 * Retrying would only delay the notices behind it; such a notice is sent once and let go.
 */
const NOT_HANDLED_STATUSES: ReadonlySet<number> = new Set([404, 405]);

export interface PresenceWebhookOptions {
  /** Base URL; notices go to `<url>/_ah/channel/connected/` and `<url>/_ah/channel/disconnected/`. */
  readonly url: string;
  /** Signs every request when non-empty (see SIGNATURE_HEADER). */
  readonly secret: string;
  /** Notices waiting (queued, in flight or backing off) before new ones are dropped. */
  readonly maxQueued: number;
  /** Tries per notice, the first included, before it is dropped. */
  readonly maxAttempts: number;
  /** How long after its first try a notice is still retried. */
  readonly maxRetryMs: number;
  /** The deadline of one POST, response body included. */
  readonly requestTimeoutMs: number;
  /** POSTs in flight at once; always to different client ids. @default 8 */
  readonly concurrency?: number;
  /** @default 250 */
  readonly initialBackoffMs?: number;
  /** @default 30000 */
  readonly maxBackoffMs?: number;
}

/** What the webhook needs from the core: the in-process presence feed (PresenceBus.onPresenceChange). */
export interface PresenceSource {
  onPresenceChange(listener: (change: PresenceChange) => void): () => void;
}

interface Notice {
  readonly clientId: ClientId;
  readonly state: PresenceState;
  readonly cursor: string;
  attempts: number;
  firstAttemptMs: number;
}

/** What one POST came to. */
type PostOutcome =
  | { readonly kind: 'delivered' }
  /** The app answered 404 or 405 for this path: it does not take these notices. */
  | { readonly kind: 'not-handled'; readonly status: number }
  /** Worth another try: a network error, a timeout, a redirect, any other status. */
  | { readonly kind: 'failed'; readonly failure: string };

/** The notices of one client id, sent strictly one after another. */
interface ClientQueue {
  readonly notices: Notice[];
  /** The head is in flight or waiting out a backoff. */
  busy: boolean;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signPresenceBody(secret: string, body: Uint8Array, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** The multipart/form-data body App Engine sent: one field, `from`, holding the client id. */
export function presenceBody(clientId: ClientId): { body: Buffer; contentType: string } {
  let boundary = `channeld-${randomBytes(12).toString('hex')}`;
  while (clientId.includes(boundary)) boundary = `channeld-${randomBytes(12).toString('hex')}`;
  const text = `--${boundary}\r\nContent-Disposition: form-data; name="from"\r\n\r\n${clientId}\r\n--${boundary}--\r\n`;
  return { body: Buffer.from(text, 'utf8'), contentType: `multipart/form-data; boundary=${boundary}` };
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no response within ${timeoutMs} ms`;
  // fetch reports network failures as TypeError('fetch failed') with the reason in `cause`.
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}

/**
 * App Engine's `channel_presence` inbound service, as outgoing webhooks: every presence change is
 * POSTed to the application, in order per client id, retried with exponential backoff and jitter
 * (but a 404 or 405, from an app that does not route that path, is final at once). The presence
 * listener only enqueues, so a slow or dead receiver never delays message delivery; memory is
 * bounded by `maxQueued` notices.
 */
export class PresenceWebhook {
  private readonly log: Logger;
  private readonly connectedUrl: string;
  private readonly disconnectedUrl: string;
  /** The base URL without credentials, for logs. */
  private readonly shownUrl: string;
  /** From credentials in the URL (fetch refuses URLs that carry them). */
  private readonly authorization: string | undefined;
  private readonly concurrency: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly queues = new Map<ClientId, ClientQueue>();
  /** Client ids whose head notice may be sent now, oldest first. */
  private readonly ready = new Set<ClientId>();
  /** Each waiting retry and the client id whose head notice it will send. */
  private readonly backoffTimers = new Map<NodeJS.Timeout, ClientId>();
  private readonly abort = new AbortController();
  /** Paths whose 404/405 was logged; a 2xx there clears it, so a later 404 is logged again. */
  private readonly notHandledLogged = new Set<string>();
  private queued = 0;
  private inFlight = 0;
  private droppedWhileFull = 0;
  private readonly dropCounts = { queueFull: 0, retriesExhausted: 0, shutdown: 0 };
  /** Notices whose last try, during shutdown, failed. */
  private droppedAtShutdown = 0;
  private lastShutdownFailure = '';
  private failing = false;
  private closed = false;
  private pumpScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: PresenceWebhookOptions,
    logger: Logger,
  ) {
    this.log = logger.child({ mod: 'presence-webhook' });
    const base = new URL(options.url);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    if (base.username !== '' || base.password !== '') {
      const user = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
      this.authorization = `Basic ${Buffer.from(user, 'utf8').toString('base64')}`;
      base.username = '';
      base.password = '';
    }
    this.shownUrl = `${base.origin}${base.pathname}`;
    // A query on the base URL (say, a key the receiver wants) is kept on both endpoints.
    const endpoint = (path: string): string => {
      const url = new URL(path, base);
      url.search = base.search;
      return url.href;
    };
    this.connectedUrl = endpoint(CONNECTED_PATH);
    this.disconnectedUrl = endpoint(DISCONNECTED_PATH);
    this.concurrency = options.concurrency ?? 8;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.log.info({ url: this.shownUrl, signed: options.secret !== '' }, 'presence webhook on');
  }

  /** Notices accepted and not yet delivered or dropped. */
  get pending(): number {
    return this.queued;
  }

  /** Notices dropped so far, by why (metrics). */
  get drops(): WebhookDrops {
    return this.dropCounts;
  }

  /** Takes one presence change. Synchronous and cheap: the HTTP work happens later. */
  notify(change: PresenceChange): void {
    if (this.closed) return;
    if (this.queued >= this.options.maxQueued) {
      if (this.droppedWhileFull === 0) {
        this.log.warn(
          { maxQueued: this.options.maxQueued, clientId: change.clientId, state: change.state },
          `presence webhook queue is full (${this.options.maxQueued} notices): dropping new presence notices until the receiver catches up`,
        );
      }
      this.droppedWhileFull += 1;
      this.dropCounts.queueFull += 1;
      return;
    }
    if (this.droppedWhileFull > 0) {
      this.log.warn({ dropped: this.droppedWhileFull }, `presence webhook queue has room again; ${this.droppedWhileFull} presence notices were dropped`);
      this.droppedWhileFull = 0;
    }
    let queue = this.queues.get(change.clientId);
    if (queue === undefined) {
      queue = { notices: [], busy: false };
      this.queues.set(change.clientId, queue);
    }
    queue.notices.push({ clientId: change.clientId, state: change.state, cursor: change.cursor, attempts: 0, firstAttemptMs: 0 });
    this.queued += 1;
    if (!queue.busy) this.ready.add(change.clientId);
    this.schedulePump();
  }

  /**
   * Stops taking notices and gives each pending one a last try, within `graceMs` in all: a notice
   * waiting out a backoff is sent at once, and a failure now is final (the receiver that fails at
   * shutdown is not waited for). Still in order per client id. What has not been answered when
   * the grace ends is aborted and logged as dropped.
   */
  async close(graceMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [timer, clientId] of this.backoffTimers) {
      clearTimeout(timer);
      this.ready.add(clientId);
    }
    this.backoffTimers.clear();
    this.pump();
    if (this.queued > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    this.abort.abort();
    for (const timer of this.backoffTimers.keys()) clearTimeout(timer);
    this.backoffTimers.clear();
    if (this.droppedAtShutdown > 0) {
      this.log.warn(
        { dropped: this.droppedAtShutdown, failure: this.lastShutdownFailure },
        `shutdown: dropped ${this.droppedAtShutdown} presence notices whose last try failed: ${this.lastShutdownFailure}`,
      );
    }
    if (this.queued > 0) {
      this.dropCounts.shutdown += this.queued;
      this.log.warn({ dropped: this.queued, graceMs }, `shutdown: dropped ${this.queued} presence notices not delivered within ${graceMs} ms`);
    }
    this.queued = 0;
    this.queues.clear();
    this.ready.clear();
    this.wakeIdle();
  }

  // Sending starts on a later turn, so the presence emitter (the hub) never waits for fetch setup.
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.ready.size > 0 && !this.abort.signal.aborted) {
      const clientId = this.ready.values().next().value as ClientId;
      this.ready.delete(clientId);
      const queue = this.queues.get(clientId);
      const notice = queue?.notices[0];
      if (queue === undefined || notice === undefined) continue;
      queue.busy = true;
      this.inFlight += 1;
      void this.attempt(queue, notice);
    }
  }

  private async attempt(queue: ClientQueue, notice: Notice): Promise<void> {
    notice.attempts += 1;
    if (notice.attempts === 1) notice.firstAttemptMs = Date.now();
    const url = notice.state === PresenceState.Connected ? this.connectedUrl : this.disconnectedUrl;
    const outcome = await this.post(notice, url);
    this.inFlight -= 1;
    if (this.abort.signal.aborted) return;
    if (outcome.kind === 'failed') {
      this.retryOrDrop(queue, notice, outcome.failure);
    } else {
      if (this.failing) this.log.info({ url: this.shownUrl }, 'presence webhook receiver is answering again');
      this.failing = false;
      if (outcome.kind === 'not-handled') this.logNotHandled(url, outcome.status);
      else this.notHandledLogged.delete(url);
      this.finish(queue, notice);
    }
    this.pump();
  }

  private logNotHandled(url: string, status: number): void {
    if (this.notHandledLogged.has(url)) return;
    this.notHandledLogged.add(url);
    const path = new URL(url).pathname;
    this.log.info(
      { path, status },
      `the app does not handle ${path} (HTTP ${status}): those presence notices are sent once, not retried`,
    );
  }

  private retryOrDrop(queue: ClientQueue, notice: Notice, failure: string): void {
    const { clientId, state, attempts } = notice;
    if (!this.failing) this.log.warn({ url: this.shownUrl, clientId, state, failure }, `presence webhook POST failed: ${failure}`);
    this.failing = true;
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (attempts - 1));
    // Equal jitter: at least half the backoff, so a crowd of retries spreads out but still waits.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    const elapsed = Date.now() - notice.firstAttemptMs;
    if (this.closed) {
      // Shutdown gave this notice its last try; waiting for a receiver that fails would only
      // hold up the exit.
      this.droppedAtShutdown += 1;
      this.dropCounts.shutdown += 1;
      this.lastShutdownFailure = failure;
      this.finish(queue, notice);
      return;
    }
    if (attempts >= this.options.maxAttempts || elapsed + delay > this.options.maxRetryMs) {
      this.dropCounts.retriesExhausted += 1;
      this.log.warn(
        { clientId, state, attempts, elapsedMs: elapsed, failure },
        `dropped presence notice (${state} ${clientId}) after ${attempts} attempts in ${elapsed} ms: ${failure}`,
      );
      this.finish(queue, notice);
      return;
    }
    this.log.debug({ clientId, state, attempts, delayMs: delay, failure }, 'presence webhook retry scheduled');
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      this.ready.add(clientId);
      this.pump();
    }, delay);
    this.backoffTimers.set(timer, clientId);
  }

  /** The head notice is done (delivered or dropped): the next one of this client id may go. */
  private finish(queue: ClientQueue, notice: Notice): void {
    queue.notices.shift();
    queue.busy = false;
    this.queued -= 1;
    if (queue.notices.length === 0) this.queues.delete(notice.clientId);
    else this.ready.add(notice.clientId);
    if (this.queued === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** One POST to `url`, and what it came to. Never rejects. */
  private async post(notice: Notice, url: string): Promise<PostOutcome> {
    const { body, contentType } = presenceBody(notice.clientId);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'user-agent': 'channeld-presence-webhook',
      [CURSOR_HEADER]: notice.cursor,
    };
    if (this.authorization !== undefined) headers['authorization'] = this.authorization;
    if (this.options.secret !== '') {
      headers[SIGNATURE_HEADER] = signPresenceBody(this.options.secret, body, Math.floor(Date.now() / 1000));
    }
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs)]);
    try {
      // A redirect is a failure, not something to follow: a POST turned into a GET would be lost.
      const response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
      // Reading the body lets the connection be reused.
      await response.arrayBuffer();
      if (response.status >= 200 && response.status < 300) return { kind: 'delivered' };
      if (NOT_HANDLED_STATUSES.has(response.status)) return { kind: 'not-handled', status: response.status };
      return { kind: 'failed', failure: `HTTP ${response.status} from ${new URL(url).pathname}` };
    } catch (err) {
      return { kind: 'failed', failure: describeFailure(err, this.options.requestTimeoutMs) };
    }
  }
}

/** Subscribes a PresenceWebhook to `source`; `close` unsubscribes and then closes the webhook. */
export function startPresenceWebhook(
  source: PresenceSource,
  options: PresenceWebhookOptions,
  logger: Logger,
): { readonly webhook: PresenceWebhook; close(graceMs: number): Promise<void> } {
  const webhook = new PresenceWebhook(options, logger);
  // With many nodes every node sees every change; only the node that caused it notifies.
  const unsubscribe = source.onPresenceChange((change) => {
    if (change.local !== false) webhook.notify(change);
  });
  return {
    webhook,
    close(graceMs) {
      unsubscribe();
      return webhook.close(graceMs);
    },
  };
}
