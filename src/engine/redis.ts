import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { ChannelError, ErrorCode } from '../core/errors.js';
import { MAX_DURATION_MINUTES } from '../core/limits.js';
import {
  PresenceReason,
  PresenceState,
  type ClientDelivery,
  type ClientId,
  type ClientPresence,
  type DeliveryReceipt,
  type Epoch,
  type PresenceChange,
  type SocketId,
  type StreamPosition,
  type Topic,
} from '../core/types.js';
import type {
  AttachResult,
  Engine,
  EngineHandler,
  EngineOptions,
  HistoryResult,
  Holder,
  PresenceSnapshot,
  PublishResult,
  TopicMembership,
  TopicPublishResult,
} from './engine.js';
import { DEFAULT_DELIVERY_HISTORY_SIZE } from './engine.js';
import { LATENCY_BOUNDS_SECONDS, LatencyHistogram } from '../metrics/counters.js';
import { RedisKeys } from './redis/keys.js';
import { Scripts, type ScriptName } from './redis/scripts.js';
import { parseEntries, type Connection } from './redis/streams.js';
import { recover } from './recovery.js';
import { describeTarget, openConnection } from './redis/connection.js';
import { DataGeneration } from './redis/generation.js';
import { LocalSockets } from './redis/local-sockets.js';
import { NodeLease } from './redis/node-lease.js';
import {
  comparePresenceCursors,
  isPresenceCursor,
  newestStreamId,
  readPresenceSince,
  readPresenceSnapshot,
  readStreamSince,
} from './redis/presence-log.js';
import { TopicFeed, type TopicWire } from './redis/topic-feed.js';
import { readTopicPresenceSince, TopicPresenceFeed, type TopicPresenceWire } from './redis/topic-presence-feed.js';
import type { TopicMember, TopicMembersPage, TopicPresenceChange, TopicPresenceSnapshot } from '../core/topic-presence.js';

export interface RedisEngineOptions extends EngineOptions {
  /** redis://[user:password@]host:port[/db]; with sentinels, only its credentials and db are used. */
  readonly redisUrl: string;
  /** Prefix of every key and channel. @default 'channeld' */
  readonly prefix: string;
  /** A node whose lease is older than this is dead: its clients become DISCONNECTED. */
  readonly nodeLeaseMs: number;
  /** host:port of Sentinels; empty for a plain Redis. */
  readonly sentinels: readonly string[];
  /** The master name the Sentinels watch. */
  readonly sentinelName: string;
  /** host:port of Redis Cluster nodes to start from; empty when not a Redis Cluster. */
  readonly clusterNodes: readonly string[];
  /** Independent Redis instances (redis:// URLs) state is sharded over; empty: redisUrl alone. */
  readonly shards?: readonly string[];
  /** On a Redis Cluster, how many hash tags state is spread over. @default 16 */
  readonly partitions?: number;
}


type NodeMessage =
  | { k: 'm'; c: ClientId; e: Epoch; s: number; t: number; d: string }
  | { k: 'x'; c: ClientId; s: SocketId }
  | { k: 'c'; c: ClientId }
  | { k: 'j'; c: ClientId; tp: Topic; e: Epoch; s: number }
  | { k: 'l'; c: ClientId; tp: Topic };

interface DeliveryWire {
  c: ClientId;
  e: Epoch;
  s: number;
  tp?: Topic;
  t: number;
  id: string;
}

interface PresenceWire {
  c: ClientId;
  s: PresenceState;
  r: PresenceReason;
  t: number;
  id: string;
  o: string;
}

const REVOCATION_TTL_MS = MAX_DURATION_MINUTES * 60_000;
/** How generation.lua refuses a script from a node that has not booted against this Redis process. */
const STALE = 'CHANNELD_STALE';
/** Topics are shared by many clients: their history outlives any one channel's window. */
const MIN_TOPIC_TTL_MS = 24 * 60 * 60_000;

function newEpoch(): Epoch {
  return randomBytes(6).toString('base64url');
}

function unavailable(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  // A ReplyError is Redis answering (a script bug), not Redis being away, nor changing hands.
  if (err instanceof Error && err.name === 'ReplyError' && !err.message.startsWith('LOADING') && !err.message.startsWith(STALE)) {
    return new ChannelError(ErrorCode.Internal, `redis refused a command: ${err.message}`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new ChannelError(ErrorCode.Unavailable, `redis is unavailable (${detail}); retry shortly`, { cause: err });
}

export class RedisEngine implements Engine {
  private readonly keys: RedisKeys;
  private readonly scripts = new Scripts();
  private readonly nodeId = randomBytes(8).toString('base64url');
  private readonly log: Logger;
  private command: Connection | undefined;
  private subscriber: Connection | undefined;
  private handler: EngineHandler | undefined;
  private readonly topics: TopicFeed;
  private readonly topicPresence: TopicPresenceFeed;
  /** What presence.lua's topic helpers take (topic_presence_args). */
  private readonly topicPresenceArgs: readonly (string | number)[];
  private readonly local: LocalSockets;
  private readonly lease: NodeLease;
  private readonly generation: DataGeneration;
  private subscriberReadyOnce = false;
  /** Follows of the receipt channel (followDeliveries); subscribed while above zero. */
  private deliveryFollows = 0;
  private deliverySubscription: Promise<void> = Promise.resolve();
  readonly roundTrips = new LatencyHistogram(LATENCY_BOUNDS_SECONDS);

  constructor(
    private readonly options: RedisEngineOptions,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    // In a Redis Cluster every key carries the prefix as its hash tag: the scripts touch keys of
    // many client ids at once, which a cluster allows only within one slot.
    this.keys = new RedisKeys(options.clusterNodes.length > 0 ? `{${options.prefix}}` : options.prefix);
    this.log = logger.child({ mod: 'engine-redis', node: this.nodeId });
    this.topicPresenceArgs = [...this.keys.topicPresenceAffixes(), options.topicPresenceHistorySize ?? 1000, this.topicTtlMs()];
    this.lease = new NodeLease({
      keys: this.keys,
      nodeId: this.nodeId,
      leaseMs: options.nodeLeaseMs,
      presenceHistorySize: options.presenceHistorySize,
      replayWindowMs: options.replayWindowMs,
      command: () => this.command!,
      run: (name, keys, args) => this.run(name, keys, args),
      nowMs: () => this.clock.nowMs(),
      onLapsed: () => this.reattachAll(),
      topicPresenceArgs: this.topicPresenceArgs,
      log: this.log,
    });
    this.local = new LocalSockets({
      keys: this.keys,
      nodeId: this.nodeId,
      presenceHistorySize: options.presenceHistorySize,
      topicTtlMs: this.topicTtlMs(),
      topicPresenceArgs: this.topicPresenceArgs,
      nowMs: () => this.clock.nowMs(),
      newEpoch,
      onRevoked: (clientId) => this.notify(() => this.handler?.onChannelClosed(clientId)),
    });
    this.generation = new DataGeneration({
      boot: async () => (await this.scripts.run(this.command!, 'boot', [this.keys.runId()], [])) as [string, string | null],
      onNewProcess: (runId, previous) => this.onNewProcess(runId, previous),
      log: this.log,
    });
    this.topics = new TopicFeed({
      keys: this.keys,
      subscriber: () => this.subscriber!,
      call: (fn) => this.call(fn),
      emit: (topic, epoch, message) => this.handler?.onTopicMessage(topic, epoch, message),
      log: this.log,
    });
    this.topicPresence = new TopicPresenceFeed({
      keys: this.keys,
      subscriber: () => this.subscriber!,
      call: (fn) => this.call(fn),
      emit: (change) => this.handler?.onTopicPresence?.(change),
      lost: (topic) => this.handler?.onTopicPresenceGap?.(topic),
      log: this.log,
    });
  }

  async start(handler: EngineHandler): Promise<void> {
    this.handler = handler;
    this.command = openConnection(this.options, 'command', `channeld-${this.nodeId}-command`);
    this.subscriber = openConnection(this.options, 'subscriber', `channeld-${this.nodeId}-subscriber`);
    for (const redis of [this.command, this.subscriber]) {
      redis.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis connection error'));
    }
    // A new connection may reach another Redis process: boot against it before anything else.
    const invalidate = (): void => this.generation.invalidate();
    if (this.command instanceof Cluster) this.command.on('+node', (node: Redis) => node.on('close', invalidate));
    else this.command.on('close', invalidate);
    try {
      await Promise.all([this.command.connect(), this.subscriber.connect()]);
      await this.generation.current();
    } catch (err) {
      this.command.disconnect();
      this.subscriber.disconnect();
      throw new Error(`cannot connect to redis at ${describeTarget(this.options)}: ${(err as Error).message}`);
    }
    this.subscriber.on('message', (channel: string, text: string) => this.onPubSub(channel, text));
    this.subscriber.on('ready', () => {
      if (!this.subscriberReadyOnce) {
        this.subscriberReadyOnce = true;
        return;
      }
      const resync = (): void => {
        this.log.info('redis feed is back: catching local sockets up from history');
        this.resync();
      };
      // The catch-up reads through the command connection, which may come back a moment later.
      if (this.command?.status === 'ready') resync();
      else this.command?.once('ready', resync);
    });
    await this.subscriber.subscribe(this.keys.nodeChannel(this.nodeId), this.keys.presenceChannel());
    this.subscriberReadyOnce = true;
    await this.lease.start();
  }

  isUp(): boolean {
    return this.command?.status === 'ready' && this.subscriber?.status === 'ready';
  }

  bufferedMessages(): undefined {
    return undefined;
  }

  async stop(): Promise<void> {
    this.lease.stop();
    this.generation.stop();
    this.handler = undefined;
    try {
      await this.command?.del(this.keys.nodeLease(this.nodeId));
    } catch {
      // Redis may be gone; the lease then simply expires.
    }
    this.subscriber?.disconnect();
    this.command?.disconnect();
  }

  async publish(clientId: ClientId, data: string, idempotencyKey?: string): Promise<PublishResult> {
    const now = this.clock.nowMs();
    const [, text] = (await this.run(
      'publish',
      [this.keys.channel(clientId), this.keys.channelLog(clientId), this.keys.idempotency(clientId, idempotencyKey ?? '')],
      [
        data,
        now,
        this.options.replayBufferSize,
        newEpoch(),
        idempotencyKey === undefined ? 0 : this.options.replayWindowMs,
        this.keys.nodeChannelPrefix(),
        clientId,
        this.options.replayWindowMs,
      ],
    )) as [number, string];
    const [seq, epoch, connected] = text.split(' ');
    return { seq: Number(seq), epoch: epoch!, connected: connected === '1' };
  }

  async history(clientId: ClientId, since?: StreamPosition): Promise<HistoryResult> {
    return this.read(this.keys.channel(clientId), this.keys.channelLog(clientId), this.options.replayWindowMs, since, true);
  }

  async acknowledge(clientId: ClientId, position: StreamPosition): Promise<void> {
    await this.run(
      'acknowledge',
      [this.keys.channel(clientId), this.keys.deliveries()],
      [position.epoch, position.seq, clientId, this.clock.nowMs(), this.options.deliveryHistorySize ?? DEFAULT_DELIVERY_HISTORY_SIZE, this.keys.deliveriesChannel()],
    );
  }

  async attach(clientId: ClientId, socketId: SocketId, tokenIssuedAtMs: number): Promise<AttachResult> {
    const outcome = await this.run(
      'attach',
      [...this.socketKeys(clientId), this.keys.revocation(clientId)],
      [
        socketId,
        this.nodeId,
        this.clock.nowMs(),
        newEpoch(),
        this.keys.nodeChannelPrefix(),
        clientId,
        this.options.presenceHistorySize,
        this.keys.presenceChannel(),
        ...this.keys.nodeClientsAffixes(),
        tokenIssuedAtMs,
        ...this.topicPresenceArgs,
      ],
    );
    if (outcome === -1) return { attached: false, reason: 'revoked' };
    this.local.attached(clientId, socketId, tokenIssuedAtMs);
    return { attached: true };
  }

  async detach(clientId: ClientId, socketId: SocketId, reason: PresenceReason): Promise<boolean> {
    this.local.detached(clientId, socketId);
    const changed = await this.run(
      'detach',
      this.socketKeys(clientId),
      [
        socketId,
        clientId,
        reason,
        this.clock.nowMs(),
        this.options.presenceHistorySize,
        this.keys.presenceChannel(),
        this.options.replayWindowMs,
        this.nodeId,
        ...this.topicPresenceArgs,
      ],
    );
    return changed === 1;
  }

  async retain(clientId: ClientId, untilMs: number): Promise<void> {
    await this.run(
      'retain',
      [this.keys.channel(clientId), this.keys.channelLog(clientId), this.keys.channelTopics(clientId)],
      [untilMs, this.clock.nowMs(), newEpoch()],
    );
  }

  async closeChannel(clientId: ClientId, revokedAtMs: number): Promise<boolean> {
    const attached = await this.run(
      'close-channel',
      [
        this.keys.channel(clientId),
        this.keys.channelLog(clientId),
        this.keys.channelTopics(clientId),
        this.keys.online(),
        this.keys.presence(),
        this.keys.revocation(clientId),
      ],
      [
        revokedAtMs,
        REVOCATION_TTL_MS,
        clientId,
        this.clock.nowMs(),
        this.options.presenceHistorySize,
        this.keys.presenceChannel(),
        this.keys.nodeChannelPrefix(),
        ...this.keys.nodeClientsAffixes(),
        this.nodeId,
        ...this.topicPresenceArgs,
      ],
    );
    return attached === 1;
  }

  async revokedAt(clientId: ClientId): Promise<number | undefined> {
    const value = await this.call((r) => r.get(this.keys.revocation(clientId)));
    return value === null ? undefined : Number(value);
  }

  async holder(clientId: ClientId): Promise<Holder> {
    const results = await this.call((r) => r.multi().hget(this.keys.channel(clientId), 's').get(this.keys.revocation(clientId)).exec());
    const [[, socketId], [, revokedAt]] = results as [[Error | null, string | null], [Error | null, string | null]];
    return { socketId: socketId ?? undefined, revokedAtMs: revokedAt === null ? undefined : Number(revokedAt) };
  }

  async presence(clientIds: readonly ClientId[]): Promise<ClientPresence[]> {
    const since = await this.call((r) => r.hmget(this.keys.online(), ...clientIds));
    return clientIds.map((clientId, i) =>
      since[i] === null || since[i] === undefined ? { clientId, connected: false } : { clientId, connected: true, sinceMs: Number(since[i]) },
    );
  }

  presenceSnapshot(): Promise<PresenceSnapshot> {
    return this.call((r) => readPresenceSnapshot(r, this.keys));
  }

  presenceSince(cursor: string): Promise<PresenceChange[] | undefined> {
    if (!isPresenceCursor(cursor)) return Promise.resolve(undefined);
    return this.call((r) => readPresenceSince(r, this.keys, cursor));
  }

  compareCursors(a: string, b: string): number {
    return comparePresenceCursors(a, b);
  }

  async subscribe(clientIds: readonly ClientId[], topic: Topic, maxTopicsPerClient: number, info = ''): Promise<number> {
    const result = (await this.run(
      'subscribe',
      [this.keys.topic(topic), this.keys.topicLog(topic), this.keys.topicMembers(topic), this.keys.topicMemberInfo(topic)],
      [
        topic,
        newEpoch(),
        this.topicTtlMs(),
        maxTopicsPerClient,
        ...this.keys.channelAffixes(),
        this.keys.nodeChannelPrefix(),
        this.options.replayWindowMs,
        info,
        this.clock.nowMs(),
        ...this.topicPresenceArgs,
        ...clientIds,
      ],
    )) as [number, string?, number?];
    if (result[0] === -1) {
      throw new ChannelError(
        ErrorCode.FailedPrecondition,
        `client id ${JSON.stringify(String(result[1]).slice(0, 64))} is already in ${result[2]} topics; the limit is ${maxTopicsPerClient}`,
      );
    }
    return result[0];
  }

  async unsubscribe(clientIds: readonly ClientId[], topic: Topic): Promise<number> {
    return (await this.run(
      'unsubscribe',
      [this.keys.topicMembers(topic), this.keys.topicMemberInfo(topic)],
      [topic, ...this.keys.channelAffixes(), this.keys.nodeChannelPrefix(), this.clock.nowMs(), ...this.topicPresenceArgs, ...clientIds],
    )) as number;
  }

  async memberships(clientId: ClientId): Promise<TopicMembership[]> {
    const all = await this.call((r) => r.hgetall(this.keys.channelTopics(clientId)));
    this.local.belongsTo(clientId, Object.keys(all));
    return Object.entries(all).map(([topic, value]) => {
      const [epoch, seq] = value.split(' ');
      return { topic, position: { epoch: epoch!, seq: Number(seq) } };
    });
  }

  async publishTopic(topic: Topic, data: string): Promise<TopicPublishResult> {
    const [seq, epoch, members] = (await this.run(
      'publish-topic',
      [this.keys.topic(topic), this.keys.topicLog(topic), this.keys.topicMembers(topic), this.keys.legacyTopicMembers(topic)],
      [data, this.clock.nowMs(), this.options.replayBufferSize, newEpoch(), this.topicTtlMs(), this.keys.topicChannel(topic), topic],
    )) as [number, string, number];
    return { topic, seq, epoch, members };
  }

  async topicHistory(topic: Topic, since: StreamPosition): Promise<HistoryResult> {
    return this.read(this.keys.topic(topic), this.keys.topicLog(topic), this.topicTtlMs(), since, false);
  }

  async acknowledgeTopic(clientId: ClientId, topic: Topic, position: StreamPosition): Promise<void> {
    await this.run(
      'acknowledge-topic',
      [this.keys.channelTopics(clientId), this.keys.topic(topic), this.keys.deliveries()],
      [topic, position.epoch, position.seq, clientId, this.clock.nowMs(), this.options.deliveryHistorySize ?? DEFAULT_DELIVERY_HISTORY_SIZE, this.keys.deliveriesChannel()],
    );
  }

  async deliveries(clientIds: readonly ClientId[]): Promise<ClientDelivery[]> {
    const [runId, rows] = await this.call(async (r) => {
      const batch = r.multi();
      for (const clientId of clientIds) batch.hmget(this.keys.channel(clientId), 'e', 'l', 'a', 's', 'g');
      return [await this.generation.current(), await batch.exec()] as const;
    });
    return clientIds.map((clientId, i) => {
      const [epoch, last, acked, socket, writtenBy] = rows![i]![1] as (string | null)[];
      // Written under another Redis process: its epoch is renewed at its next use (generation.lua).
      if (epoch === null || writtenBy !== runId) return { clientId, epoch: undefined, ackedSeq: 0, lastSeq: 0, connected: socket !== null };
      return { clientId, epoch: epoch!, ackedSeq: Number(acked ?? 0), lastSeq: Number(last ?? 0), connected: socket !== null };
    });
  }

  deliveriesSince(cursor: string): Promise<DeliveryReceipt[] | undefined> {
    if (!isPresenceCursor(cursor)) return Promise.resolve(undefined);
    return this.call((r) =>
      readStreamSince(r, this.keys.deliveries(), cursor, (id, f): DeliveryReceipt => {
        const receipt = { clientId: f['c']!, epoch: f['e']!, seq: Number(f['s']), timeMs: Number(f['t']), cursor: id };
        return f['tp'] === undefined ? receipt : { ...receipt, topic: f['tp'] };
      }),
    );
  }

  deliveryCursor(): Promise<string> {
    return this.call((r) => newestStreamId(r, this.keys.deliveries()));
  }

  compareDeliveryCursors(a: string, b: string): number {
    return comparePresenceCursors(a, b);
  }

  followDeliveries(): Promise<void> {
    if (++this.deliveryFollows === 1) this.deliverySubscription = this.deliverySubscription.then(() => this.subscribeDeliveries(true));
    return this.deliverySubscription;
  }

  unfollowDeliveries(): Promise<void> {
    if (--this.deliveryFollows === 0) this.deliverySubscription = this.deliverySubscription.then(() => this.subscribeDeliveries(false));
    return this.deliverySubscription;
  }

  /** Subscribes to the receipt channel, or leaves it, whichever the follow count says now. */
  private async subscribeDeliveries(wanted: boolean): Promise<void> {
    if (wanted !== this.deliveryFollows > 0) return;
    try {
      if (wanted) await this.subscriber!.subscribe(this.keys.deliveriesChannel());
      else await this.subscriber!.unsubscribe(this.keys.deliveriesChannel());
    } catch (err) {
      if (wanted) throw unavailable(err);
      // Leaving failed (Redis away): receipts that still arrive are simply not wanted.
    }
  }

  followTopic(topic: Topic): Promise<void> {
    return this.topics.follow(topic);
  }

  unfollowTopic(topic: Topic): Promise<void> {
    return this.topics.unfollow(topic);
  }

  async topicMembers(topic: Topic, pageSize: number, after: ClientId): Promise<TopicMembersPage> {
    const { members, more } = await this.readMembers(topic, pageSize, after);
    return { members, more };
  }

  async countTopicMembers(topic: Topic): Promise<number> {
    const results = await this.call((r) => r.multi().zcard(this.keys.topicMembers(topic)).scard(this.keys.legacyTopicMembers(topic)).exec());
    const [[, zset], [, legacy]] = results as [[Error | null, number], [Error | null, number]];
    return zset + legacy;
  }

  async topicPresenceSnapshot(topic: Topic): Promise<TopicPresenceSnapshot> {
    const { members, cursor } = await this.readMembers(topic, 0, '');
    return { members, cursor };
  }

  topicPresenceSince(topic: Topic, cursor: string): Promise<TopicPresenceChange[] | undefined> {
    if (!isPresenceCursor(cursor)) return Promise.resolve(undefined);
    return this.call((r) => readTopicPresenceSince(r, this.keys, topic, cursor));
  }

  compareTopicPresenceCursors(a: string, b: string): number {
    return comparePresenceCursors(a, b);
  }

  followTopicPresence(topic: Topic): Promise<void> {
    return this.topicPresence.follow(topic);
  }

  unfollowTopicPresence(topic: Topic): Promise<void> {
    return this.topicPresence.unfollow(topic);
  }

  private async readMembers(topic: Topic, count: number, after: ClientId): Promise<{ members: TopicMember[]; more: boolean; cursor: string }> {
    const reply = (await this.run(
      'topic-members',
      [this.keys.topicMembers(topic), this.keys.topicMemberInfo(topic), this.keys.online(), this.keys.topicPresenceLog(topic)],
      [topic, after, count, ...this.keys.channelAffixes(), this.clock.nowMs(), ...this.topicPresenceArgs],
    )) as (string | number)[];
    const members: TopicMember[] = [];
    for (let i = 2; i < reply.length; i += 3) {
      members.push({ clientId: String(reply[i]), connected: reply[i + 1] === 1, info: String(reply[i + 2]) });
    }
    return { members, more: reply[1] === 1, cursor: String(reply[0]) };
  }

  /**
   * The lease lapsed while this node was cut off, so other nodes may have reported its clients
   * gone: register its sockets again (they are CONNECTED anew) and catch them up from history.
   */
  private async reattachAll(): Promise<void> {
    if (this.local.size === 0) return;
    this.log.warn({ sockets: this.local.size }, 'node lease had lapsed: registering this node\'s sockets again');
    await this.local.registerAgain((name, keys, args) => this.run(name, keys, args), false);
    this.resync();
  }

  /** The feed may have missed messages: the node catches its sockets up, the topic feed its topics. */
  private resync(): void {
    this.notify(() => this.handler?.onResync());
    this.topics.catchUp();
    this.topicPresence.catchUp();
  }

  /** Tells the node something; a failure there must not break the engine's own bookkeeping. */
  private notify(tell: () => void): void {
    try {
      tell();
    } catch (err) {
      this.log.error({ err }, 'the node failed to handle an engine event');
    }
  }

  /**
   * Redis is served by another process than before (a restart or fail-over): whatever it holds
   * may be older than what clients have, or gone. Epochs start anew as channels and topics are
   * used (generation.lua), so clients resume as "not recovered" rather than skip messages.
   */
  private async onNewProcess(runId: string, previous: string): Promise<void> {
    // Before any other command: Redis may have forgotten this node's sockets and memberships.
    const again = await this.local.registerAgain((name, keys, args) => this.runAs(runId, name, keys, args), true);
    this.log.warn(
      { runId, previous, ...again },
      'redis is served by another process (restart or fail-over), its data may be older or gone: this node registered its sockets and their topic memberships again where missing; channels and topics get new epochs as they are used, so clients resume as not recovered',
    );
    // Once commands flow again: tell live sockets at once rather than at their next message.
    setImmediate(() => this.resync());
  }

  private onPubSub(channel: string, text: string): void {
    const handler = this.handler;
    if (handler === undefined) return;
    try {
      if (channel === this.keys.presenceChannel()) {
        const p = JSON.parse(text) as PresenceWire;
        handler.onPresence({ clientId: p.c, state: p.s, reason: p.r, timeMs: p.t, cursor: p.id, local: p.o === this.nodeId });
        return;
      }
      if (channel.startsWith(this.keys.topicPresenceChannelPrefix())) {
        this.topicPresence.receive(JSON.parse(text) as TopicPresenceWire);
        return;
      }
      if (channel === this.keys.deliveriesChannel()) {
        const d = JSON.parse(text) as DeliveryWire;
        const receipt = { clientId: d.c, epoch: d.e, seq: d.s, timeMs: d.t, cursor: d.id };
        handler.onDelivery(d.tp === undefined ? receipt : { ...receipt, topic: d.tp });
        return;
      }
      if (channel.startsWith(this.keys.topicChannelPrefix())) {
        this.topics.receive(JSON.parse(text) as TopicWire);
        return;
      }
      const m = JSON.parse(text) as NodeMessage;
      switch (m.k) {
        case 'm':
          handler.onMessage(m.c, m.e, { seq: m.s, data: m.d, timeMs: m.t });
          break;
        case 'x':
          handler.onDisplaced(m.c, m.s);
          break;
        case 'c':
          this.local.channelClosed(m.c);
          handler.onChannelClosed(m.c);
          break;
        case 'j':
          this.local.joined(m.c, m.tp);
          handler.onSubscribed(m.c, m.tp, { epoch: m.e, seq: m.s });
          break;
        case 'l':
          this.local.left(m.c, m.tp);
          handler.onUnsubscribed(m.c, m.tp);
          break;
      }
    } catch (err) {
      this.log.error({ err, channel }, 'bad message on a channeld redis channel');
    }
  }

  private async read(hashKey: string, logKey: string, ttlMs: number, since: StreamPosition | undefined, channel: boolean): Promise<HistoryResult> {
    const [epoch, last, acked, , entries] = (await this.run(
      'read',
      [hashKey, logKey],
      [newEpoch(), ttlMs, since === undefined ? -1 : since.seq, since === undefined ? '' : since.epoch],
    )) as [string, number, number, string, unknown];
    const cutoff = this.clock.nowMs() - this.options.replayWindowMs;
    const kept = parseEntries(entries).filter((m) => m.timeMs >= cutoff);
    return recover({ epoch, lastSeq: Number(last), kept }, since, channel ? Number(acked) : 0);
  }

  /** The keys the attach and detach scripts touch, in their KEYS order. */
  private socketKeys(clientId: ClientId): string[] {
    return [
      this.keys.channel(clientId),
      this.keys.channelLog(clientId),
      this.keys.channelTopics(clientId),
      this.keys.online(),
      this.keys.nodeClients(this.nodeId),
      this.keys.presence(),
    ];
  }

  private topicTtlMs(): number {
    return Math.max(MIN_TOPIC_TTL_MS, this.options.replayWindowMs);
  }

  private async run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      for (let attempt = 1; ; attempt++) {
        const runId = await this.generation.current();
        try {
          return await this.runAs(runId, name, keys, args);
        } catch (err) {
          // Another node booted against a Redis process this one has not seen yet.
          if (attempt > 1 || !(err instanceof Error) || !err.message.startsWith(STALE)) throw err;
          this.generation.invalidate();
        }
      }
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Runs a script for a node booted against the Redis process `runId` (see DataGeneration). */
  private async runAs(runId: string, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const started = performance.now();
    try {
      return await this.scripts.run(this.command!, name, [this.keys.runId(), ...keys], [runId, ...args]);
    } finally {
      this.roundTrips.observe((performance.now() - started) / 1000);
    }
  }

  private async call<T>(fn: (redis: Connection) => Promise<T>): Promise<T> {
    try {
      await this.generation.current();
      const started = performance.now();
      try {
        return await fn(this.command!);
      } finally {
        this.roundTrips.observe((performance.now() - started) / 1000);
      }
    } catch (err) {
      throw unavailable(err);
    }
  }
}
