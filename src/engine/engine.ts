import type {
  ChannelMessage,
  ClientDelivery,
  ClientId,
  ClientPresence,
  DeliveryReceipt,
  Epoch,
  PresenceChange,
  PresenceReason,
  SocketId,
  StreamPosition,
  Topic,
} from '../core/types.js';
import type { LatencyHistogram } from '../metrics/counters.js';
import type { TopicMembersPage, TopicPresenceChange, TopicPresenceSnapshot } from '../core/topic-presence.js';

/**
 * What an engine tells the node it runs in. The memory engine calls these synchronously from
 * inside the engine method that caused them (before its promise settles); the Redis engine calls
 * them when the news arrives from Redis. Either way, calls for one client id come in order.
 */
export interface EngineHandler {
  /** A message was appended to `clientId`'s channel; deliver it if this node holds its socket. */
  onMessage(clientId: ClientId, epoch: Epoch, message: ChannelMessage): void;
  /** `socketId` on this node lost its client id to a newer socket (perhaps on another node). */
  onDisplaced(clientId: ClientId, socketId: SocketId): void;
  /** The backend closed `clientId`'s channel; close its socket if this node holds it. */
  onChannelClosed(clientId: ClientId): void;
  /** A real presence change, once per change, in order per client id. */
  onPresence(change: PresenceChange): void;
  /** A message was appended to `topic`; publish it to the topic's sockets on this node. */
  onTopicMessage(topic: Topic, epoch: Epoch, message: ChannelMessage): void;
  /** `clientId` joined `topic` at `position`; a socket of it on this node starts receiving the topic. */
  onSubscribed(clientId: ClientId, topic: Topic, position: StreamPosition): void;
  /** `clientId` left `topic`. */
  onUnsubscribed(clientId: ClientId, topic: Topic): void;
  /**
   * The engine's feed may have missed messages (it reconnected): catch every local socket up from
   * history. Never called by the memory engine.
   */
  onResync(): void;
  /**
   * A change of a topic's members (see TopicPresenceStore). The memory engine reports every
   * topic's; the Redis engine those of topics followed with followTopicPresence.
   */
  onTopicPresence?(change: TopicPresenceChange): void;
  /**
   * The engine's feed of `topic`'s presence lost changes it cannot read back (trimmed, or the log
   * expired): whoever watches the topic must start again from a snapshot.
   */
  onTopicPresenceGap?(topic: Topic): void;
  /**
   * A client's acknowledged position advanced (acknowledge or acknowledgeTopic), on whichever
   * node: reported while this node follows deliveries (followDeliveries), in order per client id.
   */
  onDelivery(receipt: DeliveryReceipt): void;
}

export interface TopicPublishResult {
  readonly topic: Topic;
  readonly seq: number;
  readonly epoch: Epoch;
  /** Member client ids when the message was appended. */
  readonly members: number;
}

/** A client id's membership of a topic and where it stands in the topic's history. */
export interface TopicMembership {
  readonly topic: Topic;
  readonly position: StreamPosition;
}

export interface PublishResult {
  readonly seq: number;
  readonly epoch: Epoch;
  /** Whether a socket held the client id when the message was appended. */
  readonly connected: boolean;
}

export interface HistoryResult {
  readonly epoch: Epoch;
  /** The position the messages below follow on from. */
  readonly fromSeq: number;
  readonly messages: readonly ChannelMessage[];
  /** False when the asked-for position could not be honoured (other epoch, or out of the window). */
  readonly recovered: boolean;
}

export interface PresenceSnapshot {
  readonly clients: readonly ClientPresence[];
  /** Position of the last change the snapshot includes. */
  readonly cursor: string;
}

/**
 * What attach decided. A token issued at or before a CloseChannel's revocation never attaches:
 * the check and the takeover are one engine step, so no socket can open across a CloseChannel.
 */
export type AttachResult = { readonly attached: true } | { readonly attached: false; readonly reason: 'revoked' };

/** Who holds a client id, as the socket directory records it. */
export interface Holder {
  /** The socket the client id is attached to, on whichever node; undefined when none is. */
  readonly socketId: SocketId | undefined;
  /** The revocation time recorded by CloseChannel, if any is still relevant. */
  readonly revokedAtMs: number | undefined;
}

/**
 * A channel's ordered messages: appends, history reads and acknowledgements. Both engines apply
 * one recovery rule (see HistoryResult): a position from another epoch, out of the window, or
 * beyond the last seq, is answered with every kept message and `recovered: false`, never with a
 * silent gap. A stored position that may have gone backwards (the Redis engine's Redis came back
 * with older data or none: a restart, a fail-over) gets a new epoch before it is used again, so a
 * seq is never handed out twice within one epoch; the same holds for topics.
 */
export interface MessageLog {
  /**
   * Appends `data` to the channel's replay buffer and delivers it (onMessage) as one step: no
   * reader of history can see it without it also being delivered, and seqs never repeat within
   * an epoch. With an idempotency key seen before for this client id in the channel's current
   * epoch (inside the replay window), returns the first result and appends nothing. A key is
   * remembered only within that epoch: after CloseChannel, or any other new epoch, the same key
   * sends a new message. Keys of different client ids never meet, whatever bytes either holds.
   */
  publish(clientId: ClientId, data: string, idempotencyKey?: string): Promise<PublishResult>;

  /**
   * Messages after `since`; without `since`, after the last seq the client acknowledged (so a
   * fresh open does not see messages again). A different epoch or a position out of the window
   * gives every kept message and `recovered: false`.
   */
  history(clientId: ClientId, since?: StreamPosition): Promise<HistoryResult>;

  /**
   * Records that the client has every message up to `position`. Ignores stale positions and
   * positions past the channel's last seq; an advance is appended to the delivery log and
   * reported through onDelivery.
   */
  acknowledge(clientId: ClientId, position: StreamPosition): Promise<void>;

  /** Keeps the channel (and its history) alive at least until `untilMs`: a token lives that long. */
  retain(clientId: ClientId, untilMs: number): Promise<void>;
}

/** Which socket holds each client id, across the cluster, and the revocations that end channels. */
export interface SocketDirectory {
  /**
   * Makes `socketId` the one socket of `clientId` (newest wins), unless a CloseChannel revoked
   * tokens issued at or after `tokenIssuedAtMs` (then nothing changes). A displaced socket is
   * reported through onDisplaced; a client that had no socket becomes CONNECTED (onPresence).
   */
  attach(clientId: ClientId, socketId: SocketId, tokenIssuedAtMs: number): Promise<AttachResult>;

  /**
   * Forgets `socketId`. If it was still the client's socket the client becomes DISCONNECTED with
   * `reason` and this returns true; a displaced socket's detach changes nothing.
   */
  detach(clientId: ClientId, socketId: SocketId, reason: PresenceReason): Promise<boolean>;

  /**
   * Ends the channel: tokens issued at or before `revokedAtMs` stop working, history, idempotency
   * keys and topic memberships are dropped (the next message starts a new epoch), and
   * onChannelClosed reaches every node. Returns whether a socket was attached.
   */
  closeChannel(clientId: ClientId, revokedAtMs: number): Promise<boolean>;

  /** The revocation time recorded by closeChannel, if any is still relevant. */
  revokedAt(clientId: ClientId): Promise<number | undefined>;

  /**
   * Which socket holds `clientId` now, and its revocation: what a node reads again when its feed
   * of engine events may have lost some (a displacement or a CloseChannel among them).
   */
  holder(clientId: ClientId): Promise<Holder>;
}

/** Who is connected, as point queries, a snapshot, and a resumable log of changes. */
export interface PresenceStore {
  presence(clientIds: readonly ClientId[]): Promise<ClientPresence[]>;
  presenceSnapshot(): Promise<PresenceSnapshot>;
  /** Changes after `cursor`, oldest first; undefined when they are no longer all kept. */
  presenceSince(cursor: string): Promise<PresenceChange[] | undefined>;
  /**
   * Orders two cursors made by this engine: positive when `a` (an event's) comes after what `b`
   * includes, negative when it comes before, 0 when they are the same.
   */
  compareCursors(a: string, b: string): number;
  /** The cursor of a watcher at `cursor` that has also seen the change at `next` (see CursorOrder). */
  mergeCursors(cursor: string, next: string): string;
}

/** Topics: server-side membership, a per-topic message log, and the node's following of topics. */
export interface TopicStore {
  /**
   * Makes client ids members of `topic` (up to the per-client limit; over it, throws before
   * changing anything). Each new member starts after the topic's current last seq and is
   * reported through onSubscribed. Returns how many were not members before.
   */
  subscribe(clientIds: readonly ClientId[], topic: Topic, maxTopicsPerClient: number, info?: string): Promise<number>;
  /** Ends memberships (onUnsubscribed for each); returns how many there were. */
  unsubscribe(clientIds: readonly ClientId[], topic: Topic): Promise<number>;
  /** The topics a client id belongs to, with the position a fresh open starts from. */
  memberships(clientId: ClientId): Promise<TopicMembership[]>;
  /** Appends to the topic's history and publishes it (onTopicMessage) as one step. */
  publishTopic(topic: Topic, data: string): Promise<TopicPublishResult>;
  /** Like history(), for a topic; `since` is required (memberships() gives a fresh open's). */
  topicHistory(topic: Topic, since: StreamPosition): Promise<HistoryResult>;
  /** Records the client's position in a topic it belongs to. Ignores stale positions; an advance is a receipt (see acknowledge). */
  acknowledgeTopic(clientId: ClientId, topic: Topic, position: StreamPosition): Promise<void>;
  /**
   * This node now holds (or no longer holds) sockets that receive `topic`: start (stop) passing
   * its messages to onTopicMessage. Messages are reported once each, in seq order, from the
   * moment following starts.
   */
  followTopic(topic: Topic): Promise<void>;
  unfollowTopic(topic: Topic): Promise<void>;
}

/** Delivery receipts: where each channel stands, and a resumable log of acknowledgements. */
export interface DeliveryLog {
  /** Point query, one answer per client id in order. */
  deliveries(clientIds: readonly ClientId[]): Promise<ClientDelivery[]>;
  /** Receipts after `cursor`, oldest first; undefined when they are no longer all kept. */
  deliveriesSince(cursor: string): Promise<DeliveryReceipt[] | undefined>;
  /** The cursor of the newest receipt kept: a watch without a cursor starts after it. */
  deliveryCursor(): Promise<string>;
  /** Orders two cursors made by this engine, as compareCursors does. */
  compareDeliveryCursors(a: string, b: string): number;
  /** The cursor of a watcher at `cursor` that has also seen the receipt at `next`. */
  mergeDeliveryCursors(cursor: string, next: string): string;
  /**
   * While followed, onDelivery reports every receipt of the cluster on this node (the memory
   * engine always reports them). Counted: each follow needs its unfollow.
   */
  followDeliveries(): Promise<void>;
  unfollowDeliveries(): Promise<void>;
}

/**
 * Where channel state lives and how it reaches the node holding a socket. One implementation per
 * file beside this one; both pass test/helpers/engine-contract.ts.
 */
export interface Engine extends MessageLog, SocketDirectory, PresenceStore, TopicStore, TopicPresenceStore, DeliveryLog, EngineStatus {
  start(handler: EngineHandler): Promise<void>;
  /** Stops timers and connections; channel state of the memory engine is gone afterwards. */
  stop(): Promise<void>;
}

/** What an operator sees of an engine (metrics, readiness): read when asked, never on a hot path. */
export interface EngineStatus {
  /**
   * Whether the engine reaches its store now; the memory engine always does. A sharded store is
   * up while any shard is: calls that need a shard that is away fail, the others go on.
   */
  isUp(): boolean;
  /** Each shard of a sharded store and whether it is reached now; undefined for one store. */
  shards?(): readonly { readonly shard: string; readonly up: boolean }[] | undefined;
  /** Messages held in this node's replay buffers (channels and topics); undefined when they live elsewhere (Redis). */
  bufferedMessages(): number | undefined;
  /** Round trips to the store, for engines that have one. */
  readonly roundTrips: LatencyHistogram | undefined;
}

/** Settings every engine honours. */
export interface EngineOptions {
  /** Messages kept per channel. */
  readonly replayBufferSize: number;
  /** Age after which a message leaves the replay window. */
  readonly replayWindowMs: number;
  /** Presence changes kept for WatchPresence resume. */
  readonly presenceHistorySize: number;
  /** Changes kept per topic for WatchTopicPresence resume. @default 1000 */
  readonly topicPresenceHistorySize?: number;
  /** Delivery receipts kept for WatchDeliveries resume. @default DEFAULT_DELIVERY_HISTORY_SIZE */
  readonly deliveryHistorySize?: number;
}

/**
 * Who is in a topic: members (with the info their Subscribe set) and a per-topic resumable log of
 * joins, leaves, info updates, and connects and disconnects of members. subscribe() records the
 * info (replacing what an earlier Subscribe set; '' clears it). Only real changes are logged: a
 * join of a member, a connect of a connected client, a displacement log nothing.
 */
export interface TopicPresenceStore {
  /** Members after `after` (all when ''), ordered by client id, at most `pageSize`. */
  topicMembers(topic: Topic, pageSize: number, after: ClientId): Promise<TopicMembersPage>;
  /** How many members; constant time. */
  countTopicMembers(topic: Topic): Promise<number>;
  /** Every member and the cursor of the last change included, read at one instant. */
  topicPresenceSnapshot(topic: Topic): Promise<TopicPresenceSnapshot>;
  /** Changes after `cursor`, oldest first; undefined when they are no longer all kept. */
  topicPresenceSince(topic: Topic, cursor: string): Promise<TopicPresenceChange[] | undefined>;
  /** Orders two cursors of one topic: negative when `a` is earlier. */
  compareTopicPresenceCursors(a: string, b: string): number;
  /**
   * This node has (or no longer has) watchers of `topic`: start (stop) passing its changes to
   * onTopicPresence. Once the promise settles, every later change is passed on.
   */
  followTopicPresence(topic: Topic): Promise<void>;
  unfollowTopicPresence(topic: Topic): Promise<void>;
}

export const DEFAULT_DELIVERY_HISTORY_SIZE = 10_000;
