import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { CloseCode, isTerminalCloseCode } from './close-codes.js';
import { channelSocketUrl, type ResumePosition } from './url.js';

/** The subprotocol of docs/protocol.md, version 1. */
export const PROTOCOL = 'channeld.v1';
const TOKEN_PROTOCOL_PREFIX = 'token.';
/** WebSocket.OPEN, spelled out so an injected implementation need not carry the static. */
const OPEN = 1;

/** Anything constructible like the browser's WebSocket (e.g. the `ws` package under Node). */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocket;

export interface TransportOptions {
  readonly baseUrl: string;
  readonly backoff?: BackoffOptions;
  readonly webSocket?: WebSocketConstructor;
}

export interface ReconnectInfo {
  /** Close code of the lost socket (1006 when the connection dropped without a close frame). */
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

/**
 * One logical connection to channeld: opens WebSockets, and after losing one, opens the next with
 * exponential backoff and full jitter until a terminal close code (4500–4999) or `close()`.
 */
export class Transport {
  private ws: WebSocket | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private finished = false;
  private closingByClient = false;
  /** Set when this side ends the socket for a terminal reason; reported instead of the echo. */
  private terminalClose: { code: number; reason: string } | undefined;
  // A true private field: the token stays out of JSON.stringify and enumeration of this object.
  readonly #token: string;

  constructor(
    token: string,
    private readonly options: TransportOptions,
    private readonly handler: TransportHandler,
  ) {
    this.#token = token;
  }

  /** Opens the first socket. A fresh open never carries a resume position (protocol §1). */
  start(): void {
    this.connect(undefined);
  }

  /** Sends one text frame; false when no socket is open. */
  send(text: string): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== OPEN) return false;
    ws.send(text);
    return true;
  }

  /** A socket worked (the server welcomed it), so the next loss starts over at the short delay. */
  resetBackoff(): void {
    this.attempt = 0;
  }

  /** Ends the connection at the application's request; no reconnect follows. */
  close(): void {
    if (this.finished || this.closingByClient) return;
    this.closingByClient = true;
    this.stopWaiting();
    if (this.ws !== undefined) {
      this.ws.close(CloseCode.NORMAL);
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
    const ws = this.ws;
    if (ws === undefined) {
      setTimeout(() => this.finish({ code, reason, byClient: false }), 0);
      return;
    }
    // Nothing more from this socket counts once it is condemned.
    ws.onmessage = null;
    ws.close(code, reason);
  }

  private connect(resume: ResumePosition | undefined): void {
    let ws: WebSocket;
    try {
      const url = channelSocketUrl(this.options.baseUrl, resume);
      const Impl = this.options.webSocket ?? WebSocket;
      ws = new Impl(url, [PROTOCOL, TOKEN_PROTOCOL_PREFIX + this.#token]);
    } catch {
      // Only a misconfiguration gets here (e.g. ws: from an https page); retrying cannot help.
      const terminal = { code: CloseCode.PROTOCOL_ERROR, reason: 'Protocol+error.' };
      this.terminalClose = terminal;
      setTimeout(() => this.finish({ ...terminal, byClient: false }), 0);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws.protocol !== PROTOCOL) {
        this.fail(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
        return;
      }
      this.handler.onOpen();
    };
    ws.onmessage = (event: MessageEvent<unknown>) => {
      if (typeof event.data !== 'string') {
        this.fail(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
        return;
      }
      this.handler.onFrame(event.data);
    };
    ws.onclose = (event: CloseEvent) => this.handleSocketClose(ws, event.code, event.reason);
  }

  private handleSocketClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    this.ws = undefined;
    if (this.closingByClient) {
      this.finish({ code: CloseCode.NORMAL, reason: '', byClient: true });
    } else if (this.terminalClose !== undefined) {
      this.finish({ ...this.terminalClose, byClient: false });
    } else if (isTerminalCloseCode(code)) {
      this.finish({ code, reason, byClient: false });
    } else {
      this.scheduleReconnect(code, reason);
    }
  }

  private scheduleReconnect(code: number, reason: string): void {
    const attempt = this.attempt++;
    const delayMs = backoffDelayMs(attempt, this.options.backoff);
    this.reconnectTimer = setTimeout(this.reconnectNow, delayMs);
    // A browser that comes back online need not sit out the rest of a long backoff.
    globalThis.addEventListener?.('online', this.reconnectNow);
    this.handler.onReconnecting({ code, reason, delayMs, attempt });
  }

  private readonly reconnectNow = (): void => {
    if (this.reconnectTimer === undefined) return;
    this.stopWaiting();
    this.connect(this.handler.resumePosition());
  };

  private stopWaiting(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    globalThis.removeEventListener?.('online', this.reconnectNow);
  }

  private finish(info: CloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWaiting();
    this.handler.onClosed(info);
  }
}
