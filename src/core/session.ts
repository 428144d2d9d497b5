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

/**
 * One open socket of one client id on this node. Messages that arrive while its history is still
 * being read are held and merged by seq, so the socket sees every message once and in order.
 */
export class Session {
  private state: 'opening' | 'live' | 'closed' = 'opening';
  private pending: { epoch: Epoch; message: ChannelMessage }[] = [];
  private epoch: Epoch | undefined;
  private lastSeq = 0;
  private ended: SessionEnd | undefined;
  /** Topics this socket receives, with the epoch it was welcomed into (for acks). */
  private readonly topics = new Map<Topic, Epoch>();
  /** Memberships that began while the socket was opening. */
  private joinedWhileOpening = new Map<Topic, StreamPosition>();
  /** Settles when the engine has made this socket the client's socket. */
  attached: Promise<unknown> = Promise.resolve();
  expiryTimer: TimerHandle | undefined;

  constructor(
    readonly socketId: SocketId,
    readonly claims: TokenClaims,
    private readonly sink: SessionSink,
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
    if (this.state === 'opening') {
      this.pending.push({ epoch, message });
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
    if (!this.topics.has(topic)) this.sink.subscribe(topic);
    this.topics.set(topic, epoch);
    this.sink.topicWelcome(topic, epoch, fromSeq, recovered);
    for (const message of history) {
      if (!this.sink.topicMessage(topic, message)) {
        this.end(SessionEnd.SlowConsumer);
        return;
      }
    }
  }

  /** Subscribes the socket before its topic history is read, so no live message slips between. */
  subscribeEarly(topic: Topic): void {
    if (this.state === 'closed' || this.topics.has(topic)) return;
    this.sink.subscribe(topic);
  }

  /** The client id joined a topic (Subscribe) while this socket exists. */
  joined(topic: Topic, position: StreamPosition): void {
    if (this.state === 'closed') return;
    if (this.state === 'opening') {
      this.joinedWhileOpening.set(topic, position);
      return;
    }
    this.beginTopic(topic, position.epoch, position.seq, true, []);
  }

  /** Joins made during opening that the opening's own membership read did not cover. */
  takeJoinedWhileOpening(): Map<Topic, StreamPosition> {
    const joined = this.joinedWhileOpening;
    this.joinedWhileOpening = new Map();
    return joined;
  }

  left(topic: Topic): void {
    if (this.state === 'closed' || !this.topics.delete(topic)) return;
    this.sink.unsubscribe(topic);
  }

  /** The transport saw the socket close. */
  markClosed(): void {
    this.state = 'closed';
    this.pending = [];
    this.expiryTimer?.cancel();
  }
}
