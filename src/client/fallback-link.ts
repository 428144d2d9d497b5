import { CloseCode } from './close-codes.js';
import type { Link, LinkEvents } from './link.js';
import { fallbackUrl, type ResumePosition } from './url.js';

/**
 * The fallback transport's links (docs/protocol.md §5) for networks where a WebSocket cannot
 * open: the server's frames come as a text/event-stream response read through fetch() (an
 * EventSource could not POST the token), or as long polls; the client's frames go as POSTs. The
 * token travels in a POST body only. Bodies are JSON sent as text/plain, so a page on another
 * origin needs no CORS preflight.
 */

/** How long an event stream may take to show its first bytes before it is taken for buffered. */
export const DEFAULT_STREAM_PROBE_MS = 3000;
/** A poll the server holds longer than this (its own hold is 20 s) is taken for lost. */
const POLL_TIMEOUT_MS = 45_000;
/** Missed heartbeats after which a silent event stream is taken for lost. */
const HEARTBEATS_MISSED = 2;
const BODY_HEADERS = { 'content-type': 'text/plain;charset=UTF-8' };

interface ConnectionRef {
  readonly id: string;
  readonly key: string;
}

function openBody(token: string, resume: ResumePosition | undefined): string {
  const body: Record<string, unknown> = { token };
  if (resume !== undefined) {
    body['epoch'] = resume.epoch;
    body['seq'] = resume.seq;
    if (resume.topics === true) body['topics'] = true;
  }
  return JSON.stringify(body);
}

function isRef(value: unknown): value is ConnectionRef {
  const v = value as Partial<ConnectionRef> | null;
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.key === 'string';
}

function isClose(value: unknown): value is [number, string] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string';
}

/** What a refused open means: the token's 401s are terminal, a bad request is a protocol error, the rest passes. */
async function refusal(res: Response): Promise<[number, string]> {
  if (res.status === 401) {
    const body = (await res.json().catch(() => undefined)) as { code?: unknown; reason?: unknown } | undefined;
    if (typeof body?.code === 'number' && typeof body.reason === 'string') return [body.code, body.reason];
    return [CloseCode.INVALID_TOKEN, 'Invalid+token.'];
  }
  if (res.status === 400 || res.status === 413) return [CloseCode.PROTOCOL_ERROR, 'Protocol+error.'];
  return [CloseCode.ABNORMAL, ''];
}

/**
 * The client's frames over POSTs, in order: one POST at a time, carrying every frame queued
 * while the previous was out. `keepalive` lets the last ack out of a page being unloaded.
 */
class FrameSender {
  private queue: string[] = [];
  private busy = false;
  /** The server has ended the connection: frames for it are moot. */
  private gone = false;

  constructor(
    private readonly url: string,
    private readonly ref: ConnectionRef,
    /** The network failed, or the server said a frame broke the protocol (400). */
    private readonly failed: (code: number, reason: string) => void,
  ) {}

  push(text: string): void {
    if (this.gone) return;
    this.queue.push(text);
    if (!this.busy) this.next();
  }

  /** Tells the server the client closed, with any frames still queued. */
  close(): void {
    this.post(this.take(), true).catch(() => undefined);
  }

  private take(): string[] {
    const frames = this.queue;
    this.queue = [];
    return frames;
  }

  private post(frames: readonly string[], close: boolean): Promise<Response> {
    const body = `{"id":${JSON.stringify(this.ref.id)},"key":${JSON.stringify(this.ref.key)},"frames":[${frames.join(',')}]${close ? ',"close":true' : ''}}`;
    return fetch(this.url, { method: 'POST', body, headers: BODY_HEADERS, keepalive: true, credentials: 'omit', cache: 'no-store' });
  }

  private next(): void {
    if (this.queue.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.post(this.take(), false).then(
      (res) => {
        if (res.ok) this.next();
        else if (res.status === 400) this.failed(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
        // The server ended the connection (404): its close comes down the event stream or the next
        // poll, and that, not this answer, says how it ended (a CloseChannel is 4503, not a loss).
        else if (res.status === 404) {
          this.gone = true;
          this.queue = [];
          this.busy = false;
        }
        else this.failed(CloseCode.ABNORMAL, '');
      },
      () => this.failed(CloseCode.ABNORMAL, ''),
    );
  }
}

/** What the two fallback links share: the sender, the end, the release. */
abstract class FallbackLink implements Link {
  gotFrame = false;
  protected sender: FrameSender | undefined;
  protected readonly abort = new AbortController();
  private ended = false;
  private released = false;

  constructor(
    protected readonly baseUrl: string,
    protected readonly events: LinkEvents,
  ) {}

  send(text: string): boolean {
    if (this.sender === undefined || this.ended) return false;
    this.sender.push(text);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.sender?.close();
    // Ended now, so the abort below is not taken for a loss; reported later, as a socket's close is.
    this.ended = true;
    this.stop();
    setTimeout(() => {
      if (!this.released) this.events.closed(code, reason);
    }, 0);
  }

  release(): void {
    this.released = true;
  }

  protected get isOver(): boolean {
    return this.ended;
  }

  /** The server accepted the connection: frames may be sent from now on. */
  protected opened(ref: ConnectionRef): void {
    this.sender = new FrameSender(fallbackUrl(this.baseUrl, 'send'), ref, (code, reason) => this.lose(code, reason));
    if (!this.released) this.events.open();
  }

  protected deliver(text: string): void {
    this.gotFrame = true;
    if (!this.released && !this.ended) this.events.frame(text);
  }

  /** Ends with the server's close, or as lost; reported once. */
  protected lose(code: number, reason: string): void {
    this.stop();
    this.finish(code, reason);
  }

  /** Stops the requests in flight and the timers; overridden to clear a link's own. */
  protected stop(): void {
    this.abort.abort();
  }

  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stop();
    if (!this.released) this.events.closed(code, reason);
  }
}

/**
 * The server's frames as one event stream: an `open` event (the connection's id and key, for the
 * POSTs), then one `data:` event per protocol frame, and a `close` event with the close code at the
 * end. A stream that shows nothing within `probeMs` is taken for one a proxy buffers: the link
 * ends as lost (1006) before any frame, and the transport falls back to long polling.
 */
export class EventStreamLink extends FallbackLink {
  private probe: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private silenceMs = 0;

  constructor(baseUrl: string, token: string, resume: ResumePosition | undefined, probeMs: number, events: LinkEvents) {
    super(baseUrl, events);
    this.probe = setTimeout(() => this.lose(CloseCode.ABNORMAL, ''), probeMs);
    fetch(fallbackUrl(baseUrl, 'sse'), {
      method: 'POST',
      body: openBody(token, resume),
      headers: { ...BODY_HEADERS, accept: 'text/event-stream' },
      signal: this.abort.signal,
      credentials: 'omit',
      cache: 'no-store',
    }).then(
      (res) => (res.ok && res.body !== null ? this.read(res.body) : refusal(res).then(([code, reason]) => this.lose(code, reason))),
      () => this.lose(CloseCode.ABNORMAL, ''),
    ).catch(() => this.lose(CloseCode.ABNORMAL, ''));
  }

  protected override stop(): void {
    super.stop();
    if (this.probe !== undefined) clearTimeout(this.probe);
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.probe = this.watchdog = undefined;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (this.isOver) return;
      if (done) break;
      this.heard();
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.event(event);
        if (this.isOver) return;
      }
    }
    // The stream ended without a close event: the connection was lost.
    this.lose(CloseCode.ABNORMAL, '');
  }

  /** Bytes came: the stream passes, and a silence longer than a few heartbeats means it is dead. */
  private heard(): void {
    if (this.probe !== undefined) clearTimeout(this.probe);
    this.probe = undefined;
    if (this.silenceMs === 0) return;
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.lose(CloseCode.ABNORMAL, ''), this.silenceMs);
  }

  /** One event of the stream (lines `event:` and `data:`; `:` lines are comments, the heartbeats). */
  private event(text: string): void {
    let type = 'message';
    const data: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    if (data.length === 0) return;
    const payload = data.join('\n');
    if (type === 'message') this.deliver(payload);
    else if (type === 'open') {
      const value: unknown = JSON.parse(payload);
      if (!isRef(value)) return this.lose(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
      const heartbeatMs = (value as { heartbeatMs?: unknown }).heartbeatMs;
      if (typeof heartbeatMs === 'number' && heartbeatMs > 0) {
        this.silenceMs = heartbeatMs * HEARTBEATS_MISSED + 5000;
        this.heard();
      }
      this.opened(value);
    } else if (type === 'close') {
      const value: unknown = JSON.parse(payload);
      if (isClose(value)) this.lose(value[0], value[1]);
      else this.lose(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
    }
  }
}

interface PollAnswer {
  readonly id?: string;
  readonly key?: string;
  readonly next: number;
  readonly frames: readonly unknown[];
  readonly close?: [number, string];
}

function isPollAnswer(value: unknown): value is PollAnswer {
  const v = value as Partial<PollAnswer> | null;
  return typeof v === 'object' && v !== null && typeof v.next === 'number' && Array.isArray(v.frames) && (v.close === undefined || isClose(v.close));
}

/**
 * The last resort, for proxies that hold a response until it ends: long polls. Each answer holds
 * the frames since the previous one and says how many the client has seen; the next poll sends
 * that count back, so an answer lost on the way comes again.
 */
export class LongPollLink extends FallbackLink {
  private ref: ConnectionRef | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(baseUrl: string, token: string, resume: ResumePosition | undefined, events: LinkEvents) {
    super(baseUrl, events);
    this.poll(openBody(token, resume));
  }

  protected override stop(): void {
    super.stop();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private poll(body: string): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    // A poll that never answers (a half-dead proxy) ends the link, as a socket's silence would.
    this.timer = setTimeout(() => this.lose(CloseCode.ABNORMAL, ''), POLL_TIMEOUT_MS);
    fetch(fallbackUrl(this.baseUrl, 'poll'), { method: 'POST', body, headers: BODY_HEADERS, signal: this.abort.signal, credentials: 'omit', cache: 'no-store' })
      .then(async (res) => {
        if (this.isOver) return;
        if (!res.ok) {
          // The connection is gone (404): lost, as a socket without a close frame.
          const [code, reason] = this.ref === undefined ? await refusal(res) : [res.status === 400 ? CloseCode.PROTOCOL_ERROR : CloseCode.ABNORMAL, res.status === 400 ? 'Protocol+error.' : ''];
          return this.lose(code, reason);
        }
        const answer: unknown = await res.json();
        if (this.isOver) return;
        if (!isPollAnswer(answer)) return this.lose(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
        this.answered(answer);
      })
      .catch(() => this.lose(CloseCode.ABNORMAL, ''));
  }

  private answered(answer: PollAnswer): void {
    if (this.ref === undefined) {
      if (!isRef(answer)) return this.lose(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
      this.ref = { id: answer.id, key: answer.key };
      this.opened(this.ref);
    }
    for (const frame of answer.frames) {
      this.deliver(JSON.stringify(frame));
      if (this.isOver) return;
    }
    if (answer.close !== undefined) return this.lose(answer.close[0], answer.close[1]);
    this.poll(JSON.stringify({ id: this.ref.id, key: this.ref.key, seen: answer.next }));
  }
}
