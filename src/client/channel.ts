import type { BackoffOptions } from './backoff.js';
import { CloseCode, errorForCloseCode, type ChannelErrorInfo } from './close-codes.js';
import { Emitter, type Listener } from './emitter.js';
import { decodeServerFrame, encodeAck, FrameType } from './frames.js';
import { DEFAULT_GAP_TIMEOUT_MS, GapWatch } from './gap-watch.js';
import { TopicStreams, type TopicGap } from './topics.js';
import { Transport, type CloseInfo, type ReconnectInfo, type TransportKind, type WebSocketConstructor } from './transport.js';
import { channelSocketUrl, isWellFormedToken, type ResumePosition } from './url.js';

export type ChannelState = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

export interface ChannelOpenEvent {
  readonly epoch: string;
  /** Seq of the last message this socket is known to have; messages that follow are above it. */
  readonly seq: number;
  /** True for a socket that took over from a lost one (a reconnect), false for the first. */
  readonly resumed: boolean;
}

/**
 * One message, sent to this channel or broadcast to one of its topics. Both kinds come through the
 * same `message` event (as they do through App Engine–style `onmessage`); `topic` tells them apart.
 */
export interface ChannelMessageEvent {
  readonly data: string;
  /** The message's seq in the channel, or in the topic (each topic counts its own messages). */
  readonly seq: number;
  /** The topic the message was broadcast to; undefined for a message sent to this channel. */
  readonly topic?: string;
}

/** Channel messages were lost for good while reconnecting (or the channel's history was replaced). */
export interface ChannelGap {
  readonly topic?: undefined;
  readonly epoch: string;
  readonly previousEpoch: string;
  /** The last seq received in `previousEpoch`. */
  readonly lastSeq: number;
}

export type { TopicGap };

/**
 * Messages were lost for good: the app should resynchronise its state. `topic` says whose: the
 * channel's own messages (undefined) or those of one topic.
 */
export type ChannelNotRecoveredEvent = ChannelGap | TopicGap;

export type ChannelReconnectingEvent = ReconnectInfo;
export type ChannelErrorEvent = ChannelErrorInfo;
export type ChannelCloseEvent = CloseInfo;

export interface ChannelEventMap {
  open: ChannelOpenEvent;
  message: ChannelMessageEvent;
  notrecovered: ChannelNotRecoveredEvent;
  reconnecting: ChannelReconnectingEvent;
  error: ChannelErrorEvent;
  close: ChannelCloseEvent;
}

export interface ChannelSocketOptions {
  /**
   * Where channeld listens (http, https, ws or wss; a path prefix is kept).
   * @default location.origin
   */
  readonly baseUrl?: string | URL;
  readonly backoff?: BackoffOptions;
  /** Acks are coalesced: at most one per this interval. @default 100 */
  readonly ackIntervalMs?: number;
  /**
   * How long the channel or a topic may wait for a missing seq while later messages are held;
   * then the socket is replaced by one that resumes from the last message delivered. @default 5000
   */
  readonly gapTimeoutMs?: number;
  /** How long a socket may take from its creation to the server's welcome. @default 10000 */
  readonly openTimeoutMs?: number;
  /** A WebSocket implementation, for runtimes without a global one. @default globalThis.WebSocket */
  readonly webSocket?: WebSocketConstructor;
  /**
   * How frames travel: `auto` opens a WebSocket and, where one cannot open (a proxy refuses or
   * blocks it), falls back to server-sent events, then to long polling, with the same guarantees
   * (docs/protocol.md §5). `websocket`, `sse` and `poll` force one. @default 'auto'
   */
  readonly transport?: TransportKind;
  /** How long an event stream may show nothing before it is taken for one a proxy buffers. @default 3000 */
  readonly streamProbeMs?: number;
}

export const DEFAULT_ACK_INTERVAL_MS = 100;

function defaultBaseUrl(): string {
  if (typeof location === 'undefined') throw new TypeError('channeld: no location to default baseUrl to; pass options.baseUrl');
  return location.origin;
}

/**
 * One channel socket with the channeld protocol's guarantees: it reconnects by itself after a loss
 * and resumes from the last seq, delivers each message once and in order (a missing seq that has
 * not come within `gapTimeoutMs` is asked for again on a new socket), and says so (event
 * `notrecovered`) when a gap could not be filled. The same holds per topic the backend subscribed
 * the client id to: topic messages also come as `message` events (with `topic` set), in order per
 * topic, and resume after a reconnect. Events fire in this order: `open` (again after each
 * reconnect, with `resumed`), `message`…, and at the end `error` (terminal closes only) then
 * `close`, exactly once. Nothing fires before the constructor's task ends, so listeners added
 * right after `new` see everything. Several instances may live on one page.
 */
export class ChannelSocket {
  private readonly emitter = new Emitter<ChannelEventMap>();
  private readonly transport: Transport;
  private readonly ackIntervalMs: number;
  private currentState: ChannelState = 'connecting';
  private currentEpoch: string | undefined;
  private seq = 0;
  /** Highest seq the server has been told (or told us) this client has. */
  private ackedSeq = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private welcomed = false;
  /** Channel messages beyond a missing seq, by seq; the server never reorders them, but may lose one. */
  private readonly held = new Map<number, string>();
  private readonly gaps: GapWatch;
  private readonly topics = new TopicStreams({
    deliver: (topic, seq, data) => {
      if (this.currentState !== 'closing' && this.currentState !== 'closed') this.emitter.emit('message', { data, seq, topic });
    },
    gap: (gap) => this.emitter.emit('notrecovered', gap),
    ackDue: () => this.scheduleAck(),
    waiting: (topic, moved) => this.gaps.waiting(topic, moved),
    caughtUp: (topic) => this.gaps.caughtUp(topic),
  });
  /** The topic resume frame the socket being opened announced in its URL; sent as its first frame. */
  private topicResume: string | undefined;

  constructor(token: string, options: ChannelSocketOptions = {}) {
    const baseUrl = String(options.baseUrl ?? defaultBaseUrl());
    // A bad base URL is a programming error: throw now (TypeError), not as a socket error later.
    channelSocketUrl(baseUrl);
    this.ackIntervalMs = options.ackIntervalMs ?? DEFAULT_ACK_INTERVAL_MS;
    // This socket will not bring the missing seq: a new one resumes from what was delivered.
    this.gaps = new GapWatch(options.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS, () => this.transport.reconnect('Missing+seq.'));
    this.transport = new Transport(
      token,
      {
        baseUrl,
        backoff: options.backoff,
        openTimeoutMs: options.openTimeoutMs,
        webSocket: options.webSocket,
        transport: options.transport,
        streamProbeMs: options.streamProbeMs,
      },
      {
        onOpen: () => {
          this.welcomed = false;
          if (this.topicResume !== undefined) this.transport.send(this.topicResume);
          this.topicResume = undefined;
        },
        onFrame: (text) => this.handleFrame(text),
        onReconnecting: (info) => this.handleReconnecting(info),
        onClosed: (info) => this.handleClosed(info),
        resumePosition: () => this.resumePosition(),
      },
    );
    // A page being unloaded still gets its last ack out, so the next page load starts after it.
    globalThis.addEventListener?.('pagehide', this.flushAck);
    if (isWellFormedToken(token)) this.transport.start();
    // The server would answer 4500; saying so here keeps a malformed token off the network.
    else this.transport.fail(CloseCode.INVALID_TOKEN, 'Invalid+token.');
  }

  get state(): ChannelState {
    return this.currentState;
  }

  /** The channel's current epoch, once welcomed. */
  get epoch(): string | undefined {
    return this.currentEpoch;
  }

  /** How frames travel now: a WebSocket, or the fallback's event stream or long polls. */
  get transportKind(): 'websocket' | 'sse' | 'poll' {
    return this.transport.kind;
  }

  /** The seq of the last message delivered (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ChannelEventMap>(type: K, listener: Listener<ChannelEventMap[K]>): () => void {
    return this.emitter.on(type, listener);
  }

  off<K extends keyof ChannelEventMap>(type: K, listener: Listener<ChannelEventMap[K]>): void {
    this.emitter.off(type, listener);
  }

  /** Closes the socket for good (code 1000); a last ack is sent first when possible. */
  close(): void {
    if (this.currentState === 'closing' || this.currentState === 'closed') return;
    this.flushAck();
    this.currentState = 'closing';
    this.transport.close();
  }

  private resumePosition(): ResumePosition | undefined {
    if (this.currentEpoch === undefined) return undefined;
    this.topicResume = this.topics.resumeFrame();
    return { epoch: this.currentEpoch, seq: this.seq, topics: this.topicResume !== undefined };
  }

  private handleFrame(text: string): void {
    if (this.currentState === 'closing' || this.currentState === 'closed') return;
    const frame = decodeServerFrame(text);
    if (frame === undefined) {
      this.transport.fail(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
      return;
    }
    if (frame.type === 'unknown') return;
    if (frame.type === FrameType.WELCOME) {
      this.handleWelcome(frame.epoch, frame.seq, frame.recovered);
    } else if (frame.type === FrameType.TOPIC_MESSAGE) {
      // Held until the topic's welcome, which itself comes after the channel's: no order to check.
      this.topics.message(frame.topic, frame.seq, frame.data);
    } else if (!this.welcomed) {
      // Protocol §2: the welcome comes first on every socket.
      this.transport.fail(CloseCode.PROTOCOL_ERROR, 'Protocol+error.');
    } else if (frame.type === FrameType.MESSAGE) {
      this.handleMessage(frame.seq, frame.data);
    } else if (frame.type === FrameType.TOPIC_WELCOME) {
      this.topics.welcome(frame.topic, frame.epoch, frame.seq, frame.recovered);
    } else {
      this.topics.left(frame.topic);
    }
  }

  /**
   * The first welcome on a socket opens it (or resumes after a reconnect). A later one on the same
   * socket means the channel's history was replaced under it (new epoch): the position moves, and
   * the gap is reported, but the socket does not "open" again.
   */
  private handleWelcome(epoch: string, seq: number, recovered: boolean): void {
    const firstOnSocket = !this.welcomed;
    this.welcomed = true;
    const previousEpoch = this.currentEpoch;
    const previousSeq = this.seq;
    // In the same epoch we already hold everything up to our own seq, whatever the server thinks;
    // in a new epoch the old numbers mean nothing.
    this.seq = epoch === previousEpoch ? Math.max(this.seq, seq) : seq;
    this.currentEpoch = epoch;
    this.ackedSeq = seq;
    if (epoch !== previousEpoch) this.held.clear();
    else for (const held of this.held.keys()) if (held <= this.seq) this.held.delete(held);
    if (firstOnSocket) {
      this.currentState = 'open';
      this.transport.established();
      this.emitter.emit('open', { epoch, seq: this.seq, resumed: previousEpoch !== undefined });
    }
    if (previousEpoch !== undefined && (!recovered || epoch !== previousEpoch)) {
      this.emitter.emit('notrecovered', { epoch, previousEpoch, lastSeq: previousSeq });
    }
    this.deliverHeld(true);
  }

  private handleMessage(seq: number, data: string): void {
    // Protocol §2: a seq already seen in this epoch is a duplicate (e.g. replayed after a resume).
    if (seq <= this.seq) return;
    if (!this.held.has(seq)) this.held.set(seq, data);
    this.deliverHeld(false);
  }

  /** Delivers held channel messages in seq order, as far as none is missing. */
  private deliverHeld(moved: boolean): void {
    const from = this.seq;
    let data: string | undefined;
    while ((data = this.held.get(this.seq + 1)) !== undefined) {
      this.held.delete(++this.seq);
      this.emitter.emit('message', { data, seq: this.seq });
      // A listener may have closed the socket meanwhile.
      if (this.currentState !== 'open') return;
    }
    if (this.seq > this.ackedSeq) this.scheduleAck();
    if (this.held.size > 0) this.gaps.waiting(undefined, moved || this.seq > from);
    else this.gaps.caughtUp(undefined);
  }

  private handleReconnecting(info: ReconnectInfo): void {
    this.cancelAck();
    this.welcomed = false;
    this.held.clear();
    this.gaps.clear();
    this.topics.socketLost();
    this.currentState = 'reconnecting';
    this.emitter.emit('reconnecting', info);
  }

  private handleClosed(info: CloseInfo): void {
    this.cancelAck();
    this.held.clear();
    this.gaps.clear();
    globalThis.removeEventListener?.('pagehide', this.flushAck);
    this.currentState = 'closed';
    const error = info.byClient ? undefined : errorForCloseCode(info.code, info.reason);
    if (error !== undefined) this.emitter.emit('error', error);
    this.emitter.emit('close', info);
  }

  private scheduleAck(): void {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.flushAck();
    }, this.ackIntervalMs);
  }

  private cancelAck(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private readonly flushAck = (): void => {
    this.cancelAck();
    if (!this.welcomed) return;
    const send = (frame: string): boolean => this.transport.send(frame);
    if (this.seq > this.ackedSeq && send(encodeAck(this.seq))) this.ackedSeq = this.seq;
    this.topics.flushAcks(send);
  };
}
