import type { Engine, PublishResult, TopicPublishResult } from '../engine/engine.js';
import type { Clock } from './clock.js';
import { ChannelError, ErrorCode, invalidArgument, toChannelError } from './errors.js';
import {
  MAX_BATCH_ITEMS,
  MAX_BROADCAST_CLIENT_IDS,
  MAX_BROADCAST_TOPICS,
  MAX_DELIVERY_QUERY_IDS,
  MAX_PRESENCE_QUERY_IDS,
  MAX_SUBSCRIBE_CLIENT_IDS,
  MAX_TOPICS_PER_CLIENT,
} from './limits.js';
import type { DeliveryBus, DeliverySink, DeliveryWatcher, DeliveryWatchRequest, WaitOutcome } from './delivery-bus.js';
import type { PresenceBus, WatchRequest } from './presence-bus.js';
import type { PresenceSink, PresenceWatcher } from './presence-feed.js';
import type { TokenAuthority } from './tokens.js';
import type { ClientDelivery, ClientId, ClientPresence } from './types.js';
import {
  validateClientId,
  validateClientIdPrefix,
  validateCount,
  validateDeliveryTimeout,
  validateDuration,
  validateIdempotencyKey,
  validateMessage,
  validatePresenceCursor,
  validateToken,
  validateTopic,
  validateWatchClientIds,
} from './validation.js';

import { TopicPresenceApi, validateMemberInfo, type TopicMembersRequest, type TopicMembersResult } from './topic-presence-api.js';
import type { TopicPresenceBus, TopicPresenceSink, TopicPresenceWatcher, TopicWatchRequest } from './topic-presence-bus.js';

export type { WatchRequest } from './presence-bus.js';
export type { TopicMembersRequest, TopicMembersResult } from './topic-presence-api.js';
export type { TopicWatchRequest } from './topic-presence-bus.js';
export type { DeliveryWatchRequest } from './delivery-bus.js';

export type MessageTarget = { readonly clientId: string } | { readonly token: string };

export interface SendRequest {
  readonly target: MessageTarget | undefined;
  readonly message: string;
  readonly idempotencyKey: string;
  /** Answer only once the browser acknowledged the message (SendMessage only). */
  readonly waitForDelivery?: boolean;
  /** How long to wait for that, in ms; undefined: DEFAULT_DELIVERY_TIMEOUT_MS. */
  readonly deliveryTimeoutMs?: number;
}

/** What SendMessage answers. */
export interface SentMessage extends PublishResult {
  /** The browser acknowledged the message (only ever true when the call waited for it). */
  readonly delivered: boolean;
}

/** What the transport knows of the call a SendMessage arrived in. */
export interface CallContext {
  /** Aborts when the caller goes away: a wait for delivery ends with it. */
  readonly signal?: AbortSignal;
  /** The call's own deadline (ms since the epoch): a wait ends in time to answer before it. */
  readonly deadlineMs?: number;
}

/** Time kept back from a call's deadline so that the answer still reaches the caller: a tenth of it, 50 ms to 1 s. */
function deadlineMargin(remainingMs: number): number {
  return Math.min(1000, Math.max(50, remainingMs / 10));
}

export interface CreatedChannel {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly durationMinutes: number;
}

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

export interface ChannelApiOptions {
  readonly engine: Engine;
  readonly tokens: TokenAuthority;
  readonly clock: Clock;
  readonly presence: PresenceBus;
  readonly topicPresence: TopicPresenceBus;
  readonly deliveries: DeliveryBus;
}

/**
 * What backends ask of channeld, whatever transport carries it (gRPC today): every request is
 * validated here, with errors that name the field and the limit, then handed to the engine.
 */
export class ChannelApi {
  private readonly engine: Engine;
  private readonly tokens: TokenAuthority;
  private readonly clock: Clock;
  private readonly topicPresence: TopicPresenceApi;

  constructor(private readonly options: ChannelApiOptions) {
    this.engine = options.engine;
    this.tokens = options.tokens;
    this.clock = options.clock;
    this.topicPresence = new TopicPresenceApi(options.engine, options.topicPresence);
  }

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

  async sendMessage(request: SendRequest, call: CallContext = {}): Promise<SentMessage> {
    const send = await this.prepareSend(request, true);
    if (send.waitMs === undefined) return { ...(await this.engine.publish(send.clientId, send.message, send.key)), delivered: false };
    const deliveries = this.options.deliveries;
    await deliveries.admit();
    let sent: PublishResult;
    try {
      sent = await this.engine.publish(send.clientId, send.message, send.key);
    } catch (err) {
      deliveries.cancelAdmit();
      throw err;
    }
    const remaining = call.deadlineMs === undefined ? Infinity : call.deadlineMs - this.clock.nowMs();
    const untilDeadline = remaining - deadlineMargin(remaining);
    const waitMs = Math.max(0, Math.min(send.waitMs, untilDeadline));
    const outcome = await deliveries.waitFor(send.clientId, sent, waitMs, call.signal);
    if (outcome.delivered) return { ...sent, delivered: true };
    throw notDelivered(sent, waitMs, outcome);
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
    const prepared = await Promise.all(requests.map((request) => this.prepareSend(request, false).catch(toChannelError)));
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
    const wasConnected = await this.engine.closeChannel(clientId, revokedAt);
    // Calls here waiting for its delivery learn that its epoch is gone, wherever its socket was.
    this.options.deliveries.channelClosed(clientId);
    return wasConnected;
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

  /** `info` (optional member data) applies to every client id of the call, replacing what was set. */
  async subscribe(clientIds: readonly string[], topic: string, info?: string): Promise<number> {
    validateTopic(topic);
    validateCount('client_ids', clientIds.length, 1, MAX_SUBSCRIBE_CLIENT_IDS);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    return this.engine.subscribe(clientIds, topic, MAX_TOPICS_PER_CLIENT, validateMemberInfo(info));
  }

  async unsubscribe(clientIds: readonly string[], topic: string): Promise<number> {
    validateTopic(topic);
    validateCount('client_ids', clientIds.length, 1, MAX_SUBSCRIBE_CLIENT_IDS);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    return this.engine.unsubscribe(clientIds, topic);
  }

  /** Starts a presence stream: snapshot or replay first, then live changes. */
  async watchPresence(request: WatchRequest, sink: PresenceSink): Promise<PresenceWatcher> {
    const clientIds = [...request.filter.clientIds];
    validateWatchClientIds(clientIds);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    validateClientIdPrefix(request.filter.prefix);
    validatePresenceCursor(request.cursor);
    return this.options.presence.watch(request, sink);
  }

  unwatchPresence(watcher: PresenceWatcher): void {
    this.options.presence.unwatch(watcher);
  }

  // ---- Who is in a topic (topic-presence-api.ts) ----------------------------------------------

  /** A page of a topic's members, ordered by client id; pass nextPageToken back for the next. */
  getTopicMembers(request: TopicMembersRequest): Promise<TopicMembersResult> {
    return this.topicPresence.members(request);
  }

  countTopicMembers(topic: string): Promise<number> {
    return this.topicPresence.count(topic);
  }

  /** Starts a topic presence stream: snapshot or replay first, then live changes. */
  watchTopicPresence(request: TopicWatchRequest, sink: TopicPresenceSink): Promise<TopicPresenceWatcher> {
    return this.topicPresence.watch(request, sink);
  }

  unwatchTopicPresence(watcher: TopicPresenceWatcher): void {
    this.topicPresence.unwatch(watcher);
  }

  /** Where each client id's channel stands: its last seq, and the last its browser acknowledged. */
  async getDelivery(clientIds: readonly string[]): Promise<ClientDelivery[]> {
    validateCount('client_ids', clientIds.length, 1, MAX_DELIVERY_QUERY_IDS);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    return this.engine.deliveries(clientIds);
  }

  /** Starts a receipt stream: where it starts, the receipts after the cursor if asked, then live ones. */
  async watchDeliveries(request: DeliveryWatchRequest, sink: DeliverySink): Promise<DeliveryWatcher> {
    const clientIds = [...request.filter.clientIds];
    validateWatchClientIds(clientIds);
    clientIds.forEach((id, i) => validateClientId(id, `client_ids[${i}]`));
    validateClientIdPrefix(request.filter.prefix);
    validatePresenceCursor(request.cursor);
    return this.options.deliveries.watch(request, sink);
  }

  unwatchDeliveries(watcher: DeliveryWatcher): void {
    this.options.deliveries.unwatch(watcher);
  }

  private async prepareSend(
    request: SendRequest,
    single: boolean,
  ): Promise<{ clientId: ClientId; message: string; key: string | undefined; waitMs: number | undefined }> {
    const clientId = await this.resolveTarget(request.target);
    const message = validateMessage(request.message);
    const key = validateIdempotencyKey(request.idempotencyKey);
    if (request.waitForDelivery !== true) {
      if (request.deliveryTimeoutMs !== undefined) throw invalidArgument('delivery_timeout is set without wait_for_delivery');
      return { clientId, message, key, waitMs: undefined };
    }
    if (!single) throw invalidArgument('wait_for_delivery is for SendMessage only; a batch or stream item cannot wait');
    return { clientId, message, key, waitMs: validateDeliveryTimeout(request.deliveryTimeoutMs) };
  }

  private async resolveTarget(target: MessageTarget | undefined): Promise<ClientId> {
    if (target === undefined) throw invalidArgument('target is missing: set client_id or token');
    if ('clientId' in target) return validateClientId(target.clientId);
    validateToken(target.token);
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

/** Why a SendMessage that waited answers without a delivery, with what is known. */
function notDelivered(sent: PublishResult, waitMs: number, outcome: Exclude<WaitOutcome, { delivered: true }>): ChannelError {
  const which = `seq ${sent.seq} of epoch "${sent.epoch}"`;
  if (outcome.why === 'new-epoch') {
    return new ChannelError(
      ErrorCode.Aborted,
      `the channel started a new epoch before ${which} was acknowledged (CloseChannel, or the engine lost its data); whether the browser got it is unknown`,
    );
  }
  if (outcome.why === 'cancelled') {
    return new ChannelError(ErrorCode.Unavailable, `stopped waiting for the acknowledgement of ${which}: the call was cancelled or the server is shutting down`);
  }
  const state = outcome.state;
  const known =
    state === undefined
      ? 'where the client stands could not be read'
      : `the client is ${state.connected ? 'connected' : 'not connected'} and has acknowledged up to seq ${state.epoch === sent.epoch ? state.ackedSeq : 0}`;
  return new ChannelError(ErrorCode.DeadlineExceeded, `${which} was not acknowledged within ${waitMs} ms; ${known}`);
}
