import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { CloseCode, isTerminalCloseCode } from './close-codes.js';
import { DEFAULT_STREAM_PROBE_MS, EventStreamLink, LongPollLink } from './fallback-link.js';
import { WebSocketLink, type Link, type WebSocketConstructor } from './link.js';
import { channelSocketUrl, type ResumePosition } from './url.js';

export { PROTOCOL, type WebSocketConstructor } from './link.js';

/**
 * How frames travel. `auto` opens a WebSocket, and when one cannot open on this network (refused,
 * or blocked before any frame), falls back to an event stream, then to long polling
 * (docs/protocol.md §5); the others force one kind.
 */
export type TransportKind = 'auto' | 'websocket' | 'sse' | 'poll';
type LinkKind = Exclude<TransportKind, 'auto'>;

const LADDERS: Record<TransportKind, readonly LinkKind[]> = {
  auto: ['websocket', 'sse', 'poll'],
  websocket: ['websocket'],
  sse: ['sse'],
  poll: ['poll'],
};

export interface TransportOptions {
  readonly baseUrl: string;
  readonly backoff?: BackoffOptions;
  /** How long a socket may take from its creation to the server's welcome. @default 10000 */
  readonly openTimeoutMs?: number;
  readonly webSocket?: WebSocketConstructor;
  /** @default 'auto' */
  readonly transport?: TransportKind;
  /** How long an event stream may show nothing before it is taken for buffered. @default 3000 */
  readonly streamProbeMs?: number;
}

/**
 * Generous, as a busy server may take a while to read history for the welcome; what it guards
 * against is an attempt that never completes (packets dropped on the way, a half-dead proxy),
 * which would otherwise keep the client away long after the network is back.
 */
export const DEFAULT_OPEN_TIMEOUT_MS = 10_000;

export interface ReconnectInfo {
  /**
   * Close code of the lost socket: 1006 when the connection dropped without a close frame (reason
   * `Open+timed+out.` when it never got its welcome in time), 1000 when this client gave it up
   * (reason `Missing+seq.`: a seq it waited for did not come).
   */
  readonly code: number;
  readonly reason: string;
  readonly delayMs: number;
  /** 0 for the first reconnect after a working socket. */
  readonly attempt: number;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** True when the application asked for the close; no error is reported then. */
  readonly byClient: boolean;
}

/** What the transport tells its owner; called synchronously from WebSocket and timer callbacks. */
export interface TransportHandler {
  /** The WebSocket opened with the right subprotocol; the welcome frame comes next. */
  onOpen(): void;
  onFrame(text: string): void;
  /** The socket was lost; a reconnect is scheduled. */
  onReconnecting(info: ReconnectInfo): void;
  /** The transport is finished for good; called exactly once. */
  onClosed(info: CloseInfo): void;
  /** Where to resume from, asked before every reconnect. */
  resumePosition(): ResumePosition | undefined;
}

/** The page's document, or undefined outside a browser (e.g. under Node with the `ws` package). */
function pageDocument(): Document | undefined {
  return typeof document === 'undefined' ? undefined : document;
}

/**
 * One logical connection to channeld: opens WebSockets, and after losing one, opens the next with
 * capped exponential backoff and full jitter until a terminal close code (4500–4999) or `close()`.
 * A pending reconnect happens at once when the browser comes back online or the page becomes
 * visible again (a hidden page's timers may be throttled to one a minute).
 */
export class Transport {
  private link: Link | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Runs from a socket's creation until the server welcomes it. */
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private finished = false;
  private closingByClient = false;
  /** Set when this side ends the socket for a terminal reason; reported instead of the echo. */
  private terminalClose: { code: number; reason: string } | undefined;
  private readonly ladder: readonly LinkKind[];
  private rung = 0;
  /** A link of the current kind was welcomed: it works on this network, so it is kept for good. */
  private kindWorks = false;
  // A true private field: the token stays out of JSON.stringify and enumeration of this object.
  readonly #token: string;

  constructor(
    token: string,
    private readonly options: TransportOptions,
    private readonly handler: TransportHandler,
  ) {
    this.#token = token;
    this.ladder = LADDERS[options.transport ?? 'auto'];
  }

  /** The kind of link in use (or being tried). */
  get kind(): LinkKind {
    return this.ladder[this.rung]!;
  }

  /** Opens the first socket. A fresh open never carries a resume position (protocol §1). */
  start(): void {
    this.connect(undefined);
  }

  /** Sends one text frame; false when no socket is open. */
  send(text: string): boolean {
    return this.link?.send(text) ?? false;
  }

  /** The server welcomed the socket: it works, so the next loss starts over at the short delay. */
  established(): void {
    this.attempt = 0;
    this.kindWorks = true;
    this.stopOpenTimer();
  }

  /** Ends the connection at the application's request; no reconnect follows. */
  close(): void {
    if (this.finished || this.closingByClient) return;
    this.closingByClient = true;
    this.stopWaiting();
    this.stopOpenTimer();
    if (this.link !== undefined) {
      this.link.close(CloseCode.NORMAL, '');
      return;
    }
    // Between sockets there is nothing to wait for; still report asynchronously, like a socket would.
    setTimeout(() => this.finish({ code: CloseCode.NORMAL, reason: '', byClient: true }), 0);
  }

  /** Ends the connection for a terminal reason found on this side, e.g. a malformed server frame. */
  fail(code: number, reason: string): void {
    if (this.finished || this.closingByClient || this.terminalClose !== undefined) return;
    this.terminalClose = { code, reason };
    this.stopWaiting();
    this.stopOpenTimer();
    const link = this.link;
    if (link === undefined) {
      setTimeout(() => this.finish({ code, reason, byClient: false }), 0);
      return;
    }
    // Nothing more from this link counts once it is condemned (see handleFrame); its close reports.
    link.close(code, reason);
  }

  /**
   * Gives up on the current socket, which can make no more progress (say, a seq it waits for will
   * not come), and reconnects as after a loss, so the owner resumes from its positions. The old
   * socket is closed with 1000 and `reason`, without waiting for the server's echo.
   */
  reconnect(reason: string): void {
    this.abandon(CloseCode.NORMAL, reason);
  }

  private abandon(code: number, reason: string): void {
    const link = this.link;
    if (link === undefined || this.finished || this.closingByClient || this.terminalClose !== undefined) return;
    this.release(link);
    link.close(CloseCode.NORMAL, reason);
    this.lost(link, code, reason);
  }

  private connect(resume: ResumePosition | undefined): void {
    let link: Link;
    const events = {
      open: () => {
        if (link === this.link) this.handler.onOpen();
      },
      frame: (text: string) => {
        if (link === this.link && this.terminalClose === undefined) this.handler.onFrame(text);
      },
      protocolError: () => {
        if (link === this.link) this.fail(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
      },
      closed: (code: number, reason: string) => this.handleLinkClose(link, code, reason),
    };
    try {
      const { baseUrl } = this.options;
      const kind = this.kind;
      if (kind === 'websocket') {
        link = new WebSocketLink(channelSocketUrl(baseUrl, resume), this.#token, this.options.webSocket ?? WebSocket, events);
      } else if (kind === 'sse') {
        link = new EventStreamLink(baseUrl, this.#token, resume, this.options.streamProbeMs ?? DEFAULT_STREAM_PROBE_MS, events);
      } else {
        link = new LongPollLink(baseUrl, this.#token, resume, events);
      }
    } catch {
      // Only a misconfiguration gets here (e.g. ws: from an https page); retrying cannot help.
      const terminal = { code: CloseCode.PROTOCOL_ERROR, reason: 'Protocol+error.' };
      this.terminalClose = terminal;
      setTimeout(() => this.finish({ ...terminal, byClient: false }), 0);
      return;
    }
    this.link = link;
    const openTimeoutMs = this.options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.openTimer = setTimeout(() => this.abandon(CloseCode.ABNORMAL, 'Open+timed+out.'), openTimeoutMs);
  }

  private handleLinkClose(link: Link, code: number, reason: string): void {
    if (link !== this.link) return;
    this.release(link);
    if (this.closingByClient) {
      this.finish({ code: CloseCode.NORMAL, reason: '', byClient: true });
    } else if (this.terminalClose !== undefined) {
      this.finish({ ...this.terminalClose, byClient: false });
    } else if (isTerminalCloseCode(code)) {
      this.finish({ code, reason, byClient: false });
    } else {
      this.lost(link, code, reason);
    }
  }

  /** Nothing from `link` counts any more. */
  private release(link: Link): void {
    link.release();
    this.link = undefined;
    this.stopOpenTimer();
  }

  /**
   * A link was lost. One that never got a frame, of a kind that never worked here, may be blocked
   * rather than lost (a proxy that refuses upgrades, or buffers a stream): the next kind is tried at
   * once. Once every kind failed so, or once a kind worked, losses reconnect with backoff.
   */
  private lost(link: Link, code: number, reason: string): void {
    if (!this.kindWorks && !link.gotFrame && code === CloseCode.ABNORMAL && this.rung + 1 < this.ladder.length) {
      this.rung++;
      this.reconnectTimer = setTimeout(this.reconnectNow, 0);
      return;
    }
    if (!this.kindWorks && !link.gotFrame) this.rung = 0;
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code: number, reason: string): void {
    const attempt = this.attempt++;
    const delayMs = backoffDelayMs(attempt, this.options.backoff);
    this.reconnectTimer = setTimeout(this.reconnectNow, delayMs);
    // The network being back, or the user looking again, is the moment to try, not the timer's.
    globalThis.addEventListener?.('online', this.reconnectNow);
    pageDocument()?.addEventListener('visibilitychange', this.reconnectIfVisible);
    this.handler.onReconnecting({ code, reason, delayMs, attempt });
  }

  private readonly reconnectNow = (): void => {
    if (this.reconnectTimer === undefined) return;
    this.stopWaiting();
    this.connect(this.handler.resumePosition());
  };

  private readonly reconnectIfVisible = (): void => {
    if (pageDocument()?.visibilityState === 'visible') this.reconnectNow();
  };

  private stopWaiting(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    globalThis.removeEventListener?.('online', this.reconnectNow);
    pageDocument()?.removeEventListener('visibilitychange', this.reconnectIfVisible);
  }

  private stopOpenTimer(): void {
    if (this.openTimer !== undefined) clearTimeout(this.openTimer);
    this.openTimer = undefined;
  }

  private finish(info: CloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWaiting();
    this.stopOpenTimer();
    this.handler.onClosed(info);
  }
}
