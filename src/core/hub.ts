import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Engine, EngineHandler, PublishResult, TopicPublishResult } from '../engine/engine.js';
import type { Clock } from './clock.js';
import { ChannelError, ErrorCode, invalidArgument, toChannelError } from './errors.js';
import {
  MAX_BATCH_ITEMS,
  MAX_BROADCAST_CLIENT_IDS,
  MAX_BROADCAST_TOPICS,
  MAX_PRESENCE_QUERY_IDS,
  MAX_SUBSCRIBE_CLIENT_IDS,
  MAX_TOPICS_PER_CLIENT,
} from './limits.js';
import {
  matches,
  PresenceWatcher,
  snapshotItems,
  type PresenceFilter,
  type PresenceItem,
  type PresenceSink,
} from './presence-feed.js';
import { Session, SessionEnd, type SessionSink, type TopicInterest } from './session.js';
import type { TokenAuthority, TokenCheck, TokenClaims } from './tokens.js';
import {
  PresenceReason,
  type ChannelMessage,
  type ClientId,
  type ClientPresence,
  type Epoch,
  type PresenceChange,
  type SocketId,
  type StreamPosition,
  type Topic,
} from './types.js';
import {
  validateClientId,
  validateCount,
  validateDuration,
  validateIdempotencyKey,
  validateMessage,
  validateTopic,
} from './validation.js';

export interface HubOptions {
  readonly engine: Engine;
  readonly tokens: TokenAuthority;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Presence events a watcher may fall behind before it is cut off. */
  readonly presenceWatcherQueue: number;
}

export type MessageTarget = { readonly clientId: string } | { readonly token: string };

export interface SendRequest {
  readonly target: MessageTarget | undefined;
  readonly message: string;
  readonly idempotencyKey: string;
}

export interface CreatedChannel {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly durationMinutes: number;
}

/** How a transport publishes a topic message to every local socket subscribed to it. */
export type TopicPublisher = (topic: Topic, epoch: Epoch, message: ChannelMessage) => void;

export interface BroadcastRequest {
  readonly message: string;
  readonly clientIds: readonly string[];
  readonly topics: readonly string[];
}

export interface BroadcastResult {
  readonly clients: number;
  readonly clientsConnected: number;
  readonly topics: readonly TopicPublishResult[];
}

/** Where a reconnecting client stands in its topics; resolves when the transport knows. */
export type TopicResume = Promise<ReadonlyMap<Topic, StreamPosition>>;

export interface WatchRequest {
  readonly filter: PresenceFilter;
  readonly snapshot: boolean;
  readonly cursor: string;
}

/** Tries to read history for a gap (about 6 s in all) before closing the socket so it resumes. */
const GAP_FILL_ATTEMPTS = 6;

/** Tries to detach a closed socket from the engine (about 2 minutes in all) before giving up. */
const DETACH_ATTEMPTS = 30;

const SESSION_END_PRESENCE: Record<SessionEnd, PresenceReason> = {
  [SessionEnd.Replaced]: PresenceReason.SocketClosed,
  [SessionEnd.TokenExpired]: PresenceReason.TokenExpired,
  [SessionEnd.ChannelClosed]: PresenceReason.ChannelClosed,
  [SessionEnd.SlowConsumer]: PresenceReason.SlowConsumer,
  [SessionEnd.Shutdown]: PresenceReason.Shutdown,
  [SessionEnd.Revoked]: PresenceReason.ChannelClosed,
};

/**
 * The core of one node: validates what backends ask, drives the engine, and keeps the sockets this
 * node holds. Transports (gRPC, gateway) call it; it knows neither.
 */
export class Hub implements EngineHandler {
  private readonly engine: Engine;
  private readonly tokens: TokenAuthority;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly nodeId = randomBytes(6).toString('base64url');
  private socketCounter = 0;
  private stopping = false;
  /** The current session per client id on this node. */
  private readonly sessions = new Map<ClientId, Session>();
  /** Every open session on this node, including displaced ones still closing. */
  private readonly sockets = new Map<SocketId, Session>();
  private readonly watchers = new Set<PresenceWatcher>();
  private readonly presenceListeners = new Set<(change: PresenceChange) => void>();
  private topicPublisher: TopicPublisher | undefined;
  /** Local sockets per topic, and the engine's follow of it, kept while the count is above zero. */
  private readonly topicRefs = new Map<Topic, { count: number; following: Promise<void> }>();
  private readonly interest: TopicInterest = {
    follow: (topic) => {
      const ref = this.topicRefs.get(topic);
      if (ref !== undefined) {
        ref.count++;
        return ref.following;
      }
      const following = this.engine.followTopic(topic).catch((err: unknown) => {
        this.log.error({ err, topic }, 'cannot follow topic; its sockets catch up when they resume');
      });
      this.topicRefs.set(topic, { count: 1, following });
      return following;
    },
    unfollow: (topic) => {
      const ref = this.topicRefs.get(topic);
      if (ref === undefined) return;
      if (--ref.count > 0) return;
      this.topicRefs.delete(topic);
      this.engine.unfollowTopic(topic).catch((err: unknown) => this.log.warn({ err, topic }, 'cannot unfollow topic'));
    },
  };
  private readonly fillGap = (session: Session, after: StreamPosition, attempt = 1): void => {
    this.engine.history(session.clientId, after).then(
      (history) => session.fill(history.epoch, history.fromSeq, history.recovered, history.messages),
      (err: unknown) => {
        if (session.isClosed) return;
        if (attempt < GAP_FILL_ATTEMPTS) {
          const retry = setTimeout(() => this.fillGap(session, after, attempt + 1), 100 * 2 ** attempt);
          retry.unref();
          return;
        }
        this.log.warn({ err, clientId: session.clientId }, 'cannot read history to fill a gap; closing the socket so it resumes');
        session.end(SessionEnd.Shutdown);
      },
    );
  };

  constructor(private readonly options: HubOptions) {
    this.engine = options.engine;
    this.tokens = options.tokens;
    this.clock = options.clock;
    this.log = options.logger.child({ mod: 'hub' });
  }

  async start(): Promise<void> {
    await this.engine.start(this);
  }

  /** Closes every socket (they reconnect elsewhere) and ends every presence stream. */
  async drain(): Promise<void> {
    const sessions = [...this.sockets.values()];
    for (const session of sessions) session.end(SessionEnd.Shutdown);
    await Promise.all(sessions.map((s) => s.attached));
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.drain();
    await this.engine.stop();
  }

  // ---- backend API -------------------------------------------------------------------------

  async createChannel(clientId: string, durationMinutes: number): Promise<CreatedChannel> {
    validateClientId(clientId);
    const minutes = validateDuration(durationMinutes);
    const now = this.clock.nowMs();
    // A token minted in the same millisecond as a CloseChannel must not count as revoked.
    const revokedAt = await this.engine.revokedAt(clientId);
    const issuedAt = revokedAt !== undefined && revokedAt >= now ? revokedAt + 1 : now;
    const expiresAtMs = now + minutes * 60_000;
    const token = this.tokens.mint(clientId, issuedAt, expiresAtMs);
    await this.engine.retain(clientId, expiresAtMs);
    return { token, expiresAtMs, durationMinutes: minutes };
  }

  async sendMessage(request: SendRequest): Promise<PublishResult> {
    const send = await this.prepareSend(request);
    return this.engine.publish(send.clientId, send.message, send.key);
  }

  /**
   * One result per item, in order; a bad item yields its error (naming its index) and does not
   * stop the others. At most MAX_BATCH_ITEMS items.
   */
  async sendMessages(requests: readonly SendRequest[]): Promise<(PublishResult | ChannelError)[]> {
    validateCount('requests', requests.length, 1, MAX_BATCH_ITEMS);
    const results = await this.sendEach(requests);
    return results.map((r, i) => (r instanceof ChannelError ? new ChannelError(r.code, `requests[${i}]: ${r.message}`) : r));
  }

  /**
   * Sends items that are answered one by one (a stream): each error is worded as a single
   * SendMessage would word it. Items are checked first (a token check may wait on the engine) and
   * then published in the order given, so items for one channel get their seqs in that order.
   */
  async sendEach(requests: readonly SendRequest[]): Promise<(PublishResult | ChannelError)[]> {
    const prepared = await Promise.all(requests.map((request) => this.prepareSend(request).catch(toChannelError)));
    return Promise.all(
      prepared.map((send) =>
        send instanceof ChannelError ? send : this.engine.publish(send.clientId, send.message, send.key).catch(toChannelError),
      ),
    );
  }

  async getPresence(clientIds: readonly string[]): Promise<ClientPresence[]> {
    validateCount('client_ids', clientIds.length, 1, MAX_PRESENCE_QUERY_IDS);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    return this.engine.presence(clientIds);
  }

  async closeChannel(clientId: string): Promise<boolean> {
    validateClientId(clientId);
    const now = this.clock.nowMs();
    // A token minted in the same millisecond as an earlier close was issued at revokedAt + 1
    // (see createChannel); this close must revoke it too, so it never records an earlier time.
    const previous = await this.engine.revokedAt(clientId);
    const revokedAt = previous !== undefined && previous >= now ? previous + 1 : now;
    return this.engine.closeChannel(clientId, revokedAt);
  }

  /**
   * One message to many client ids (each in its own channel, with its own seq) and topics (each
   * once, with the topic's seq). Everything is validated before anything is sent.
   */
  async broadcast(request: BroadcastRequest): Promise<BroadcastResult> {
    const message = validateMessage(request.message);
    validateCount('client_ids', request.clientIds.length, 0, MAX_BROADCAST_CLIENT_IDS);
    validateCount('topics', request.topics.length, 0, MAX_BROADCAST_TOPICS);
    if (request.clientIds.length + request.topics.length === 0) {
      throw invalidArgument('client_ids and topics are both empty; name at least one recipient');
    }
    request.clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    request.topics.forEach((topic, i) => validateTopic(topic, `topics[${i}]`));
    const clientIds = [...new Set(request.clientIds)];
    // All started at once: each goes to a different channel, and a remote engine pipelines them
    // instead of paying one round trip per recipient.
    const [sent, topics] = await Promise.all([
      Promise.all(clientIds.map((clientId) => this.engine.publish(clientId, message))),
      Promise.all(request.topics.map((topic) => this.engine.publishTopic(topic, message))),
    ]);
    return { clients: clientIds.length, clientsConnected: sent.filter((r) => r.connected).length, topics };
  }

  async subscribe(clientIds: readonly string[], topic: string): Promise<number> {
    validateTopic(topic);
    validateCount('client_ids', clientIds.length, 1, MAX_SUBSCRIBE_CLIENT_IDS);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    return this.engine.subscribe(clientIds, topic, MAX_TOPICS_PER_CLIENT);
  }

  async unsubscribe(clientIds: readonly string[], topic: string): Promise<number> {
    validateTopic(topic);
    validateCount('client_ids', clientIds.length, 1, MAX_SUBSCRIBE_CLIENT_IDS);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    return this.engine.unsubscribe(clientIds, topic);
  }

  /** The transport that publishes topic messages to its sockets (the gateway). */
  setTopicPublisher(publisher: TopicPublisher): void {
    this.topicPublisher = publisher;
  }

  /** Starts a presence stream: snapshot or replay first, then live changes. */
  async watchPresence(request: WatchRequest, sink: PresenceSink): Promise<PresenceWatcher> {
    [...request.filter.clientIds].forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    const watcher = new PresenceWatcher(
      request.filter,
      sink,
      this.options.presenceWatcherQueue,
      (cursor, than) => this.engine.compareCursors(cursor, than) > 0,
    );
    // Registered first so nothing emitted while the start is read goes missing.
    this.watchers.add(watcher);
    try {
      const replay = request.cursor === '' ? undefined : await this.engine.presenceSince(request.cursor);
      if (replay !== undefined) {
        // Replayed changes pass the same filter as live ones.
        const items: PresenceItem[] = replay
          .filter((change) => matches(request.filter, change.clientId))
          .map((change) => ({ kind: 'change', change }));
        watcher.begin(items, request.cursor);
      } else if (request.snapshot || request.cursor !== '') {
        const snapshot = await this.engine.presenceSnapshot();
        const items = snapshotItems(snapshot.clients, request.filter, snapshot.cursor);
        items.push({ kind: 'snapshot-complete', cursor: snapshot.cursor, resumeFailed: request.cursor !== '' });
        watcher.begin(items, snapshot.cursor);
      } else {
        watcher.begin([], (await this.engine.presenceSnapshot()).cursor);
      }
    } catch (err) {
      this.watchers.delete(watcher);
      throw err;
    }
    return watcher;
  }

  unwatchPresence(watcher: PresenceWatcher): void {
    this.watchers.delete(watcher);
  }

  /** For in-process listeners (the demo page, webhooks): every presence change, in order. */
  onPresenceChange(listener: (change: PresenceChange) => void): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  // ---- socket API (the gateway) -------------------------------------------------------------

  /** Checks a token a socket presents, including revocation by CloseChannel. */
  async authenticate(token: string): Promise<TokenCheck> {
    const check = this.tokens.check(token, this.clock.nowMs());
    if (!check.ok) return check;
    const revokedAt = await this.engine.revokedAt(check.claims.clientId);
    if (revokedAt !== undefined && check.claims.issuedAtMs <= revokedAt) return { ok: false, reason: 'invalid' };
    return check;
  }

  /**
   * Opens a session for an authenticated socket: takes over the client id (displacing any older
   * socket), then sends the welcome and history from `resume` (or from the last acknowledged seq).
   */
  openSession(claims: TokenClaims, sink: SessionSink, resume?: StreamPosition, topicResume?: TopicResume): Session {
    const socketId = `${this.nodeId}:${++this.socketCounter}`;
    const session = new Session(socketId, claims, sink, this.interest, this.fillGap);
    const clientId = claims.clientId;
    this.sockets.set(socketId, session);
    this.sessions.set(clientId, session);
    session.expiryTimer = this.clock.setTimer(claims.expiresAtMs - this.clock.nowMs(), () =>
      session.end(SessionEnd.TokenExpired),
    );
    session.attached = this.engine
      .attach(clientId, socketId, claims.issuedAtMs)
      .then(async (attach) => {
        if (session.isClosed) return;
        if (!attach.attached) {
          session.end(SessionEnd.Revoked);
          return;
        }
        // Topic sockets subscribe before any history is read: a message published meanwhile
        // arrives live (the client orders it), never falls between history and live.
        const memberships = await this.engine.memberships(clientId);
        await Promise.all(memberships.map((m) => session.subscribeEarly(m.topic)));
        const history = await this.engine.history(clientId, resume);
        session.begin(history.epoch, history.fromSeq, history.recovered, history.messages);
        const positions = topicResume === undefined ? new Map<Topic, StreamPosition>() : await topicResume;
        for (const m of memberships) {
          if (session.isClosed) return;
          if (session.topicEpoch(m.topic) !== undefined) continue;
          const topicHistory = await this.engine.topicHistory(m.topic, positions.get(m.topic) ?? m.position);
          session.beginTopic(m.topic, topicHistory.epoch, topicHistory.fromSeq, topicHistory.recovered, topicHistory.messages);
        }
        const members = new Set(memberships.map((m) => m.topic));
        for (const topic of positions.keys()) if (!members.has(topic)) session.left(topic);
        for (const [topic, position] of session.takeJoinedWhileOpening()) await this.joinTopic(session, topic, position);
      })
      .catch((err: unknown) => {
        this.log.error({ err, clientId, socketId }, 'could not open session');
        session.end(SessionEnd.Shutdown);
      });
    return session;
  }

  acknowledge(session: Session, seq: number): void {
    const position = session.position;
    if (position === undefined || seq > position.seq) return;
    this.engine
      .acknowledge(session.clientId, { epoch: position.epoch, seq })
      .catch((err: unknown) => this.log.warn({ err, clientId: session.clientId }, 'acknowledge failed'));
  }

  acknowledgeTopic(session: Session, topic: Topic, seq: number): void {
    const epoch = session.topicEpoch(topic);
    if (epoch === undefined) return;
    this.engine
      .acknowledgeTopic(session.clientId, topic, { epoch, seq })
      .catch((err: unknown) => this.log.warn({ err, clientId: session.clientId, topic }, 'topic acknowledge failed'));
  }

  /** The transport saw the socket close, for whatever reason. */
  socketClosed(session: Session): void {
    if (session.isClosed) return;
    session.markClosed();
    this.sockets.delete(session.socketId);
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    const reason = session.endReason === undefined ? PresenceReason.SocketClosed : SESSION_END_PRESENCE[session.endReason];
    session.attached = session.attached.then(() => this.detach(session, reason, 1));
  }

  /**
   * Detaches with retries: while the engine is unreachable (Redis away) the client must not stay
   * "connected" for good. Shutdown does not wait for retries after the first failure.
   */
  private async detach(session: Session, reason: PresenceReason, attempt: number): Promise<void> {
    try {
      await this.engine.detach(session.clientId, session.socketId, reason);
    } catch (err) {
      if (attempt >= DETACH_ATTEMPTS || this.stopping) {
        this.log.error({ err, clientId: session.clientId, attempt }, 'detach failed; giving up');
        return;
      }
      this.log.warn({ err, clientId: session.clientId, attempt }, 'detach failed; retrying');
      const retry = setTimeout(() => void this.detach(session, reason, attempt + 1), Math.min(250 * 2 ** attempt, 5000));
      retry.unref();
    }
  }

  // ---- EngineHandler -------------------------------------------------------------------------

  onMessage(clientId: ClientId, epoch: Epoch, message: ChannelMessage): void {
    this.sessions.get(clientId)?.deliver(epoch, message);
  }

  onDisplaced(_clientId: ClientId, socketId: SocketId): void {
    this.sockets.get(socketId)?.end(SessionEnd.Replaced);
  }

  onChannelClosed(clientId: ClientId): void {
    this.sessions.get(clientId)?.end(SessionEnd.ChannelClosed);
  }

  onTopicMessage(topic: Topic, epoch: Epoch, message: ChannelMessage): void {
    this.topicPublisher?.(topic, epoch, message);
  }

  onSubscribed(clientId: ClientId, topic: Topic, position: StreamPosition): void {
    const session = this.sessions.get(clientId);
    if (session === undefined || session.holdJoin(topic, position)) return;
    this.joinTopic(session, topic, position).catch((err: unknown) => {
      this.log.warn({ err, clientId, topic }, 'cannot start a topic on a live socket; closing it so it resumes');
      session.end(SessionEnd.Shutdown);
    });
  }

  /** Starts a topic on a live socket: follow first, then catch up from where the membership began. */
  private async joinTopic(session: Session, topic: Topic, position: StreamPosition): Promise<void> {
    if (session.isClosed || session.topicEpoch(topic) !== undefined) return;
    await session.subscribeEarly(topic);
    const history = await this.engine.topicHistory(topic, position);
    session.beginTopic(topic, history.epoch, history.fromSeq, history.recovered, history.messages);
  }

  onUnsubscribed(clientId: ClientId, topic: Topic): void {
    this.sessions.get(clientId)?.left(topic);
  }

  onResync(): void {
    for (const session of this.sessions.values()) session.resync();
  }

  onPresence(change: PresenceChange): void {
    for (const watcher of this.watchers) {
      if (watcher.isEnded) this.watchers.delete(watcher);
      else watcher.push(change);
    }
    for (const listener of this.presenceListeners) listener(change);
  }

  // ---- helpers -------------------------------------------------------------------------------

  private async prepareSend(request: SendRequest): Promise<{ clientId: ClientId; message: string; key: string | undefined }> {
    const clientId = await this.resolveTarget(request.target);
    const message = validateMessage(request.message);
    const key = validateIdempotencyKey(request.idempotencyKey);
    return { clientId, message, key };
  }

  private async resolveTarget(target: MessageTarget | undefined): Promise<ClientId> {
    if (target === undefined) throw invalidArgument('target is missing: set client_id or token');
    if ('clientId' in target) return validateClientId(target.clientId);
    if (target.token === '') throw invalidArgument('token is empty');
    const check = this.tokens.check(target.token, this.clock.nowMs());
    if (!check.ok && check.reason === 'invalid') throw invalidArgument('token is not a valid channel token');
    if (!check.ok) {
      throw new ChannelError(
        ErrorCode.FailedPrecondition,
        `token expired at ${new Date(check.claims?.expiresAtMs ?? 0).toISOString()}`,
      );
    }
    const revokedAt = await this.engine.revokedAt(check.claims.clientId);
    if (revokedAt !== undefined && check.claims.issuedAtMs <= revokedAt) {
      throw new ChannelError(
        ErrorCode.FailedPrecondition,
        `token was revoked by CloseChannel at ${new Date(revokedAt).toISOString()}`,
      );
    }
    return check.claims.clientId;
  }
}
