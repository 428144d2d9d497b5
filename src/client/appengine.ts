import { ChannelSocket, type ChannelNotRecoveredEvent, type ChannelSocketOptions } from './channel.js';
import type { ChannelErrorInfo } from './close-codes.js';
import { reportLater } from './emitter.js';

/** `goog.appengine.Socket.ReadyState`, same numbers as App Engine's (and the DOM WebSocket's). */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

export interface AppEngineMessage {
  readonly data: string;
  /** channeld extension: the message's seq in its channel, or in its topic. */
  readonly seq: number;
  /**
   * channeld extension (App Engine had no topics): the topic the message was broadcast to;
   * undefined for a message sent to this channel.
   */
  readonly topic?: string;
}

export type AppEngineError = ChannelErrorInfo;

/** The optional argument of `open()`: any subset of the socket's callbacks. */
export interface SocketHandler {
  onopen?: (() => void) | null;
  onmessage?: ((message: AppEngineMessage) => void) | null;
  onerror?: ((error: AppEngineError) => void) | null;
  onclose?: (() => void) | null;
  onnotrecovered?: ((event: ChannelNotRecoveredEvent) => void) | null;
}

function bound<A extends unknown[]>(handler: SocketHandler, fn: ((...args: A) => void) | null | undefined): ((...args: A) => void) | null {
  return typeof fn === 'function' ? (...args: A) => fn.apply(handler, args) : null;
}

/**
 * The socket `goog.appengine.Channel#open()` returns. Callbacks run asynchronously, each in order,
 * so handlers assigned right after `open()` see every event. Reconnects are invisible here:
 * `onopen` fires once, and `onclose` once at the very end (after `onerror` for a terminal close).
 */
export class AppEngineSocket {
  static readonly ReadyState = ReadyState;

  onopen: (() => void) | null;
  onmessage: ((message: AppEngineMessage) => void) | null;
  onerror: ((error: AppEngineError) => void) | null;
  onclose: (() => void) | null;
  /** channeld extension: messages (of the channel, or of `event.topic`) were lost for good; resynchronise. */
  onnotrecovered: ((event: ChannelNotRecoveredEvent) => void) | null;

  private state: ReadyState = ReadyState.CONNECTING;
  private closeRequested = false;
  private opened = false;
  private readonly queue: Array<() => void> = [];
  private drainScheduled = false;

  /** Use `AppEngineChannel#open()`; the socket takes ownership of `channel`. */
  constructor(
    private readonly channel: ChannelSocket,
    handler: SocketHandler = {},
  ) {
    this.onopen = bound(handler, handler.onopen);
    this.onmessage = bound(handler, handler.onmessage);
    this.onerror = bound(handler, handler.onerror);
    this.onclose = bound(handler, handler.onclose);
    this.onnotrecovered = bound(handler, handler.onnotrecovered);

    channel.on('open', () => {
      if (this.opened) return;
      this.opened = true;
      this.dispatch(() => {
        if (this.closeRequested) return;
        this.state = ReadyState.OPEN;
        this.onopen?.();
      });
    });
    channel.on('message', (message) =>
      this.dispatch(() => {
        if (!this.closeRequested) this.onmessage?.(message);
      }),
    );
    channel.on('notrecovered', (event) =>
      this.dispatch(() => {
        if (!this.closeRequested) this.onnotrecovered?.(event);
      }),
    );
    channel.on('error', ({ code, description }) =>
      this.dispatch(() => {
        this.state = ReadyState.CLOSED;
        this.onerror?.({ code, description });
      }),
    );
    channel.on('close', () =>
      this.dispatch(() => {
        this.state = ReadyState.CLOSED;
        this.onclose?.();
      }),
    );
  }

  get readyState(): ReadyState {
    return this.state;
  }

  /** App Engine sockets are receive-only: backends send, browsers POST to the backend. */
  send(): boolean {
    return false;
  }

  close(): void {
    if (this.closeRequested || this.state === ReadyState.CLOSED) return;
    this.closeRequested = true;
    this.state = ReadyState.CLOSING;
    this.channel.close();
  }

  private dispatch(callback: () => void): void {
    this.queue.push(callback);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setTimeout(() => this.drain(), 0);
  }

  private drain(): void {
    this.drainScheduled = false;
    for (const callback of this.queue.splice(0)) {
      try {
        callback();
      } catch (error) {
        reportLater(error);
      }
    }
  }
}

/** `goog.appengine.Channel`: holds a token; each `open()` starts a socket with it. */
export class AppEngineChannel {
  readonly #token: string;
  readonly #options: ChannelSocketOptions;

  constructor(token: string, options: ChannelSocketOptions = {}) {
    this.#token = String(token);
    this.#options = options;
  }

  open(handler?: SocketHandler): AppEngineSocket {
    return new AppEngineSocket(new ChannelSocket(this.#token, this.#options), handler);
  }
}
