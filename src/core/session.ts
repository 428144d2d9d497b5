import type { TimerHandle } from './clock.js';
import type { TokenClaims } from './tokens.js';
import type { ChannelMessage, ClientId, Epoch, SocketId, StreamPosition, Topic } from './types.js';

/** Why the core ends a socket. Each transport maps these to its own codes. */
export const SessionEnd = {
  Replaced: 'replaced',
  TokenExpired: 'token-expired',
  ChannelClosed: 'channel-closed',
  SlowConsumer: 'slow-consumer',
  Shutdown: 'shutdown',
  /** The token was revoked by a CloseChannel before the socket could attach. */
  Revoked: 'revoked',
} as const;
export type SessionEnd = (typeof SessionEnd)[keyof typeof SessionEnd];

/** The transport side of one socket, as the core drives it. */
export interface SessionSink {
  /** The first thing a socket is told: where its history stands. */
  welcome(epoch: Epoch, seq: number, recovered: boolean): void;
  /** Returns false when the socket is over its outgoing-bytes cap; the core then ends it as slow. */
  message(message: ChannelMessage): boolean;
  /**
   * Closes the socket for `reason`. The transport reports the close back through
   * Hub.socketClosed, as for any other close.
   */
  close(reason: SessionEnd): void;
  /** Starts passing the topic's published messages to this socket. */
  subscribe(topic: Topic): void;
  /** Stops them and tells the client it left the topic. */
  unsubscribe(topic: Topic): void;
  /** Where the socket's history of a topic stands; its catch-up messages follow. */
  topicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): void;
  /** One catch-up message of a topic. Returns false when over the outgoing cap. */
  topicMessage(topic: Topic, message: ChannelMessage): boolean;
}

/** Told when a session starts or stops receiving a topic, so the node follows only what it needs. */
export interface TopicInterest {
  /** Resolves once the node receives the topic's live messages. */
  follow(topic: Topic): Promise<void>;
  unfollow(topic: Topic): void;
}

/** Asked to read history after `seq` when live messages skipped some (a feed can lose messages). */
export type GapFiller = (session: Session, after: StreamPosition) => void;

/**
 * One open socket of one client id on this node. Messages that arrive while its history is still
 * being read are held and merged by seq, so the socket sees every message once and in order.
 */
export class Session {
  private state: 'opening' | 'live' | 'filling' | 'closed' = 'opening';
  private pending: { epoch: Epoch; message: ChannelMessage }[] = [];
  private epoch: Epoch | undefined;
  private lastSeq = 0;
  private ended: SessionEnd | undefined;
  /** Topics this socket receives, with the epoch it was welcomed into (for acks). */
  private readonly topics = new Map<Topic, Epoch>();
  /** Topics the socket is subscribed to in the transport (and followed by the node). */
  private readonly early = new Set<Topic>();
  /** Memberships that began while the socket was opening. */
  private joinedWhileOpening = new Map<Topic, StreamPosition>();
  /** Settles when the engine has made this socket the client's socket. */
  attached: Promise<unknown> = Promise.resolve();
  expiryTimer: TimerHandle | undefined;

  constructor(
    readonly socketId: SocketId,
    readonly claims: TokenClaims,
    private readonly sink: SessionSink,
    private readonly interest: TopicInterest,
    private readonly fillGap: GapFiller,
  ) {}

  get clientId(): ClientId {
    return this.claims.clientId;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Why the core ended it; undefined when the socket went away by itself. */
  get endReason(): SessionEnd | undefined {
    return this.ended;
  }

  /** Where the client stands, for acknowledgements. */
  get position(): { epoch: Epoch; seq: number } | undefined {
    return this.epoch === undefined ? undefined : { epoch: this.epoch, seq: this.lastSeq };
  }

  /** Sends the welcome and the recovered history, then whatever arrived meanwhile. */
  begin(epoch: Epoch, fromSeq: number, recovered: boolean, history: readonly ChannelMessage[]): void {
    if (this.state !== 'opening') return;
    this.epoch = epoch;
    this.lastSeq = fromSeq;
    this.sink.welcome(epoch, fromSeq, recovered);
    this.state = 'live';
    for (const message of history) this.deliver(epoch, message);
    const pending = this.pending;
    this.pending = [];
    for (const item of pending) this.deliver(item.epoch, item.message);
  }

  deliver(epoch: Epoch, message: ChannelMessage): void {
    if (this.state === 'closed') return;
    if (this.state === 'opening' || this.state === 'filling') {
      this.pending.push({ epoch, message });
      return;
    }
    if (epoch === this.epoch && message.seq > this.lastSeq + 1) {
      // Live delivery skipped messages: read them from history first, hold this one meanwhile.
      this.state = 'filling';
      this.pending.push({ epoch, message });
      this.fillGap(this, { epoch, seq: this.lastSeq });
      return;
    }
    if (epoch !== this.epoch) {
      // The channel's history was replaced under a live socket: say so rather than leave a gap.
      this.epoch = epoch;
      this.lastSeq = message.seq - 1;
      this.sink.welcome(epoch, this.lastSeq, false);
    }
    if (message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    if (!this.sink.message(message)) this.end(SessionEnd.SlowConsumer);
  }

  /** Catches up from history (after a gap or a resync), then delivers what arrived meanwhile. */
  fill(epoch: Epoch, fromSeq: number, recovered: boolean, history: readonly ChannelMessage[]): void {
    if (this.state === 'closed' || this.state === 'opening') return;
    this.state = 'live';
    if (!recovered) {
      // The missed messages are gone from the window: say so rather than leave a silent gap.
      this.epoch = epoch;
      this.lastSeq = fromSeq;
      this.sink.welcome(epoch, fromSeq, false);
    }
    for (const message of history) this.deliver(epoch, message);
    const pending = this.pending;
    this.pending = [];
    for (const item of pending) this.deliver(item.epoch, item.message);
  }

  /** Starts a catch-up from history as if a gap had been seen (the engine's feed reconnected). */
  resync(): void {
    if (this.state !== 'live' || this.epoch === undefined) return;
    this.state = 'filling';
    this.fillGap(this, { epoch: this.epoch, seq: this.lastSeq });
  }

  /** Ends the socket for a core reason; the transport's close event follows. */
  end(reason: SessionEnd): void {
    if (this.state === 'closed' || this.ended !== undefined) return;
    this.ended = reason;
    this.sink.close(reason);
  }

  /** The epoch this socket was welcomed into for `topic`, if it receives the topic. */
  topicEpoch(topic: Topic): Epoch | undefined {
    return this.topics.get(topic);
  }

  /** Sends a topic's welcome and catch-up; live messages already flow (the client orders them). */
  beginTopic(topic: Topic, epoch: Epoch, fromSeq: number, recovered: boolean, history: readonly ChannelMessage[]): void {
    if (this.state === 'closed') return;
    if (!this.early.has(topic)) void this.subscribeEarly(topic);
    this.topics.set(topic, epoch);
    this.sink.topicWelcome(topic, epoch, fromSeq, recovered);
    for (const message of history) {
      if (!this.sink.topicMessage(topic, message)) {
        this.end(SessionEnd.SlowConsumer);
        return;
      }
    }
  }

  /**
   * Subscribes the socket, and has the node follow the topic, before its topic history is read:
   * resolves when live messages flow, so none can slip between history and live.
   */
  subscribeEarly(topic: Topic): Promise<void> {
    if (this.state === 'closed' || this.early.has(topic)) return Promise.resolve();
    this.early.add(topic);
    this.sink.subscribe(topic);
    return this.interest.follow(topic);
  }

  /** A join (Subscribe) that arrives while the socket is opening waits for the opening to finish. */
  holdJoin(topic: Topic, position: StreamPosition): boolean {
    if (this.state !== 'opening') return false;
    this.joinedWhileOpening.set(topic, position);
    return true;
  }

  /** Joins made during opening that the opening's own membership read did not cover. */
  takeJoinedWhileOpening(): Map<Topic, StreamPosition> {
    const joined = this.joinedWhileOpening;
    this.joinedWhileOpening = new Map();
    return joined;
  }

  left(topic: Topic): void {
    if (this.state === 'closed') return;
    this.topics.delete(topic);
    if (this.early.delete(topic)) this.interest.unfollow(topic);
    // Also for topics the client resumed but no longer belongs to: it forgets them.
    this.sink.unsubscribe(topic);
  }

  /** The transport saw the socket close. */
  markClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pending = [];
    this.expiryTimer?.cancel();
    for (const topic of this.early) this.interest.unfollow(topic);
    this.early.clear();
  }
}
