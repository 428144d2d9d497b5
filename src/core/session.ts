import type { TimerHandle } from './clock.js';
import type { TokenClaims } from './tokens.js';
import type { ChannelMessage, ClientId, Epoch, SocketId } from './types.js';

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

  /** The transport saw the socket close. */
  markClosed(): void {
    this.state = 'closed';
    this.pending = [];
    this.expiryTimer?.cancel();
  }
}
