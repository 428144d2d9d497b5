import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageLog, SocketDirectory, TopicStore } from '../engine/engine.js';
import { SessionCounters } from '../metrics/counters.js';
import type { Clock } from './clock.js';
import { Session, SessionEnd, type SessionSink, type TopicResume } from './session.js';
import type { AckCoalescer } from './ack-coalescer.js';
import type { TopicInterest } from './topic-interest.js';
import type { TokenAuthority, TokenCheck, TokenClaims } from './tokens.js';
import { PresenceReason, type ChannelMessage, type ClientId, type Epoch, type SocketId, type StreamPosition, type Topic } from './types.js';

export interface SessionRegistryOptions {
  readonly engine: MessageLog & SocketDirectory & TopicStore;
  readonly interest: TopicInterest;
  readonly tokens: TokenAuthority;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A socket opened afresh starts after the channel's last message (App Engine's behaviour). */
  readonly dropWhenDisconnected: boolean;
  /** Where the sockets' acknowledgements go (they become delivery receipts). */
  readonly acks: AckCoalescer;
}

/** Tries to detach a closed socket from the engine (about 2 minutes in all) before giving up. */
const DETACH_ATTEMPTS = 30;
/** How long a displaced socket waits to see whether the newer one stays (see displaced()). */
export const DISPLACED_GRACE_MS = 1000;
/** Sessions that read history at once after the engine's feed came back, so a resync is no burst. */
const RESYNC_CONCURRENCY = 32;

const SESSION_END_PRESENCE: Record<SessionEnd, PresenceReason> = {
  [SessionEnd.Replaced]: PresenceReason.SocketClosed,
  [SessionEnd.TokenExpired]: PresenceReason.TokenExpired,
  [SessionEnd.ChannelClosed]: PresenceReason.ChannelClosed,
  [SessionEnd.SlowConsumer]: PresenceReason.SlowConsumer,
  [SessionEnd.Shutdown]: PresenceReason.Shutdown,
  [SessionEnd.Revoked]: PresenceReason.ChannelClosed,
};

/**
 * The sockets this node holds, by client id, and the engine events that reach them. Owns the
 * one-socket rule on this node: a newer socket takes the client id only when the engine attaches
 * it, so until then (and if its attach fails) the older socket keeps receiving.
 */
export class SessionRegistry {
  private readonly nodeId = randomBytes(6).toString('base64url');
  private socketCounter = 0;
  private draining = false;
  private stopping = false;
  /** The newest session per client id; older ones still open hang off it (`older`). */
  private readonly byClient = new Map<ClientId, Session>();
  /** Every open session, displaced ones still closing included. */
  private readonly bySocket = new Map<SocketId, Session>();
  /** Settles when a closed session's first detach try is done; drain waits for these. */
  private readonly detaching = new Set<Promise<void>>();
  private readonly log: Logger;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  /** Read by the metrics at scrape time. */
  readonly counters = new SessionCounters();

  constructor(private readonly options: SessionRegistryOptions) {
    this.log = options.logger.child({ mod: 'sessions' });
  }

  /** The token check a socket gets before its upgrade: signature and expiry, no engine round trip. */
  checkToken(token: string): TokenCheck {
    return this.options.tokens.check(token, this.options.clock.nowMs());
  }

  /**
   * Opens a session for a socket with a valid token. The engine decides (atomically with the
   * revocation check) whether it becomes the client id's socket; then it is welcomed with history
   * from `resume` (or from the last acknowledged seq) and its topics start.
   */
  open(claims: TokenClaims, sink: SessionSink, resume?: StreamPosition, topicResume?: TopicResume): Session {
    const socketId = `${this.nodeId}:${++this.socketCounter}`;
    const { engine, interest, clock, logger, acks } = this.options;
    const session = new Session(socketId, claims, sink, {
      engine,
      interest,
      acks,
      log: logger,
      counters: this.counters,
      dropWhenDisconnected: this.options.dropWhenDisconnected,
    });
    const clientId = claims.clientId;
    if (this.draining) {
      // Never registered: the transport may report this close before it even has the session.
      session.end(SessionEnd.Shutdown);
      return session;
    }
    this.bySocket.set(socketId, session);
    session.older = this.byClient.get(clientId);
    this.byClient.set(clientId, session);
    session.expiryTimer = clock.setTimer(claims.expiresAtMs - clock.nowMs(), () => session.end(SessionEnd.TokenExpired));
    void session.open(resume, topicResume);
    return session;
  }

  /** The transport saw the socket close, for whatever reason. */
  closed(session: Session): void {
    if (session.isClosed) return;
    session.markClosed();
    this.bySocket.delete(session.socketId);
    this.unlink(session);
    // What the socket acknowledged last is recorded now, not at the end of its receipt interval.
    this.options.acks.flush(session.clientId);
    const reason = session.endReason === undefined ? PresenceReason.SocketClosed : SESSION_END_PRESENCE[session.endReason];
    // After the steps in flight: an attach still running must land before its detach.
    const detached = session.settled.then(() => (session.isAttached ? this.detach(session, reason, 1) : undefined));
    this.detaching.add(detached);
    void detached.finally(() => this.detaching.delete(detached));
  }

  /** Closes every socket (they reconnect elsewhere) and waits until each is detached once. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const session of [...this.bySocket.values()]) session.end(SessionEnd.Shutdown);
    // The transport reports each close back; a session it never reported is detached here.
    await new Promise((resolve) => setImmediate(resolve));
    for (const session of [...this.bySocket.values()]) this.closed(session);
    await Promise.all([...this.detaching]);
  }

  /** Sockets open on this node, displaced ones still closing included. */
  get size(): number {
    return this.bySocket.size;
  }

  /** No more detach retries: the node is going away. */
  stop(): void {
    this.stopping = true;
  }

  // ---- engine events -------------------------------------------------------------------------

  message(clientId: ClientId, epoch: Epoch, message: ChannelMessage): void {
    const newest = this.byClient.get(clientId);
    if (newest === undefined) return;
    if (newest.older === undefined) newest.deliver(epoch, message);
    else for (const s of this.sessionsOf(newest)) s.deliver(epoch, message);
  }

  /**
   * A newer socket took the client id. The older one waits a moment before it is told it was
   * replaced (a terminal close): a newer socket that closes at once gives the client id back.
   */
  displaced(socketId: SocketId): void {
    const session = this.bySocket.get(socketId);
    if (session === undefined) return;
    // Real time, not the injected clock: this waits on other sockets, not on token or window age.
    setTimeout(() => void session.takeBack(), DISPLACED_GRACE_MS).unref();
  }

  channelClosed(clientId: ClientId): void {
    for (const s of this.sessionsOf(this.byClient.get(clientId))) s.end(SessionEnd.ChannelClosed);
  }

  subscribed(clientId: ClientId, topic: Topic, position: StreamPosition): void {
    for (const s of this.sessionsOf(this.byClient.get(clientId))) s.join(topic, position);
  }

  unsubscribed(clientId: ClientId, topic: Topic): void {
    for (const s of this.sessionsOf(this.byClient.get(clientId))) s.leave(topic);
  }

  /** Catches every local socket up from history, a few at a time; a resync during one runs after it. */
  resync(): void {
    if (this.resyncing !== undefined) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = this.runResync().finally(() => {
      this.resyncing = undefined;
      if (this.resyncAgain) {
        this.resyncAgain = false;
        this.resync();
      }
    });
  }

  private async runResync(): Promise<void> {
    const sessions = [...this.bySocket.values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < sessions.length) await sessions[next++]!.resync();
    };
    await Promise.all(Array.from({ length: Math.min(RESYNC_CONCURRENCY, sessions.length) }, worker));
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * The sessions of one client id, newest first, as a copy: ending one closes its socket at once
   * (the transport reports the close synchronously), which unlinks it from the chain.
   */
  private sessionsOf(newest: Session | undefined): Session[] {
    const sessions: Session[] = [];
    for (let s = newest; s !== undefined; s = s.older) sessions.push(s);
    return sessions;
  }

  private unlink(session: Session): void {
    const clientId = session.clientId;
    const newest = this.byClient.get(clientId);
    if (newest === session) {
      if (session.older === undefined) this.byClient.delete(clientId);
      else this.byClient.set(clientId, session.older);
    } else {
      for (let s = newest; s !== undefined; s = s.older) {
        if (s.older === session) {
          s.older = session.older;
          break;
        }
      }
    }
    session.older = undefined;
  }

  /**
   * Detaches with retries: while the engine is unreachable (Redis away) the client must not stay
   * "connected" for good. Shutdown does not wait for retries after the first failure.
   */
  private async detach(session: Session, reason: PresenceReason, attempt: number): Promise<void> {
    try {
      await this.options.engine.detach(session.clientId, session.socketId, reason);
    } catch (err) {
      if (attempt >= DETACH_ATTEMPTS || this.stopping || this.draining) {
        this.log.error({ err, clientId: session.clientId, attempt }, 'detach failed; giving up');
        return;
      }
      this.log.warn({ err, clientId: session.clientId, attempt }, 'detach failed; retrying');
      const retry = setTimeout(() => void this.detach(session, reason, attempt + 1), Math.min(250 * 2 ** attempt, 5000));
      retry.unref();
    }
  }
}
