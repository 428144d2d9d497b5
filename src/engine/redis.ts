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
import { describeTarget, openConnection, type RedisTarget } from './redis/connection.js';
import { LocalSockets, type LocalSocket, type Reattached } from './redis/local-sockets.js';
import { NodeLease, type ReapedClient } from './redis/node-lease.js';
import { Partition, type ShardLink } from './redis/partition.js';
import { Partitioner } from './redis/partitioning.js';
import { CursorVectors } from './redis/cursor-vector.js';
import { comparePresenceCursors, isPresenceCursor, newestStreamId, readPresenceSince, readPresenceSnapshot, readStreamSince } from './redis/presence-log.js';
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

/** What a channel of a partition carries, for the channels a node subscribes to by name. */
type ChannelKind = { kind: 'node' | 'presence' | 'deliveries'; partition: number };

/** Runs a script in a partition: normally Partition.run; while a partition boots, as of its new process. */
type Runner = (partition: Partition, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

const REVOCATION_TTL_MS = MAX_DURATION_MINUTES * 60_000;
/** Topics are shared by many clients: their history outlives any one channel's window. */
const MIN_TOPIC_TTL_MS = 24 * 60 * 60_000;
const DEFAULT_CLUSTER_PARTITIONS = 16;
/** A topic step that failed (its shard away) is tried again, this often at most, this many times. */
const STEP_RETRY_FIRST_MS = 200;
const STEP_RETRY_MAX_MS = 5000;
const STEP_RETRIES = 60;

function newEpoch(): Epoch {
  return randomBytes(6).toString('base64url');
}

/** A layout's Redis connections and how its partitions map onto them. */
interface Layout {
  readonly links: readonly ShardLink[];
  /** Per partition: its link, its key prefix and how messages name it. */
  readonly partitions: readonly { link: ShardLink; prefix: string; where: string }[];
}

/**
 * Channel state in Redis, partitioned: a client id's channel (its log, idempotency keys, socket
 * entry, memberships, presence) lives in the partition its id hashes to, a topic's (its log,
 * members and their presence) in the topic's. A plain Redis (or one behind Sentinels) is one
 * partition; independent shards (--redis-shard) are one partition each, over which ids spread by
 * jump consistent hash; a Redis Cluster holds `partitions` hash tags. Every Lua script touches
 * one partition. What spans two partitions is two steps this node takes in order, the second
 * idempotent and retried while its shard is away:
 * - a connect or disconnect is recorded in the client's partition, then passed to each topic it
 *   belongs to with the presence change's id as version (topic-member-presence.lua), so a late
 *   or repeated step changes nothing;
 * - Subscribe reads where the topic stands, records memberships in the clients' partitions, then
 *   lists them in the topic's; Unsubscribe and CloseChannel end them in the clients' partitions
 *   first, then in the topic's;
 * - a topic acknowledgement reads the topic's epoch and last seq, then records the position.
 * Presence and delivery receipts are logged per partition; their cursors list a position per
 * partition (cursor-vector.ts).
 */
export class RedisEngine implements Engine {
  private readonly nodeId = randomBytes(8).toString('base64url');
  private readonly log: Logger;
  private readonly partitioner: Partitioner;
  private readonly vectors: CursorVectors;
  private layout: Layout | undefined;
  private parts: Partition[] = [];
  /** Per link, the channels it carries that the node subscribes to by name (shards share names). */
  private readonly channelKinds = new Map<ShardLink, Map<string, ChannelKind>>();
  private handler: EngineHandler | undefined;
  private readonly topics: TopicFeed;
  private readonly topicPresence: TopicPresenceFeed;
  private readonly local: LocalSockets;
  private leases: NodeLease[] = [];
  private stopped = false;
  /** Follows of the receipt channels (followDeliveries); subscribed while above zero. */
  private deliveryFollows = 0;
  private deliverySubscription: Promise<void> = Promise.resolve();
  private readonly retries = new Set<NodeJS.Timeout>();
  readonly roundTrips = new LatencyHistogram(LATENCY_BOUNDS_SECONDS);

  constructor(
    private readonly options: RedisEngineOptions,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.log = logger.child({ mod: 'engine-redis', node: this.nodeId });
    const shards = options.shards ?? [];
    const count = shards.length > 0 ? shards.length : options.clusterNodes.length > 0 ? (options.partitions ?? DEFAULT_CLUSTER_PARTITIONS) : 1;
    this.partitioner = new Partitioner(count);
    this.vectors = new CursorVectors(count);
    this.local = new LocalSockets((clientId) => this.notify(() => this.handler?.onChannelClosed(clientId)));
    this.topics = new TopicFeed({
      at: (topic) => this.pt(topic),
      emit: (topic, epoch, message) => this.handler?.onTopicMessage(topic, epoch, message),
      log: this.log,
    });
    this.topicPresence = new TopicPresenceFeed({
      at: (topic) => this.pt(topic),
      emit: (change) => this.handler?.onTopicPresence?.(change),
      lost: (topic) => this.handler?.onTopicPresenceGap?.(topic),
      log: this.log,
    });
  }

  async start(handler: EngineHandler): Promise<void> {
    this.handler = handler;
    const layout = await this.connect();
    this.layout = layout;
    this.parts = layout.partitions.map(
      (p, index) =>
        new Partition(index, new RedisKeys(p.prefix), p.link, p.where, {
          roundTrips: this.roundTrips,
          log: this.log,
          onNewProcess: (partition, runId, previous) => this.onNewProcess(partition, runId, previous),
        }),
    );
    for (const link of layout.links) this.watchLink(link);
    try {
      await Promise.all(this.parts.map((p) => p.generation.current()));
      for (const p of this.parts) {
        const kinds = this.channelKinds.get(p.link) ?? new Map<string, ChannelKind>();
        kinds.set(p.keys.nodeChannel(this.nodeId), { kind: 'node', partition: p.index });
        kinds.set(p.keys.presenceChannel(), { kind: 'presence', partition: p.index });
        kinds.set(p.keys.deliveriesChannel(), { kind: 'deliveries', partition: p.index });
        this.channelKinds.set(p.link, kinds);
      }
      await Promise.all(this.parts.map((p) => p.subscribe(p.keys.nodeChannel(this.nodeId), p.keys.presenceChannel())));
      this.leases = this.parts.map(
        (partition) =>
          new NodeLease({
            partition,
            nodeId: this.nodeId,
            leaseMs: this.options.nodeLeaseMs,
            presenceHistorySize: this.options.presenceHistorySize,
            replayWindowMs: this.options.replayWindowMs,
            nowMs: () => this.clock.nowMs(),
            onLapsed: () => this.reattachAll(partition),
            onReaped: (clients) => this.reaped(clients),
            log: this.log,
          }),
      );
      await Promise.all(this.leases.map((lease) => lease.start()));
    } catch (err) {
      this.disconnect();
      throw new Error(`cannot start on redis at ${this.describe()}: ${(err as Error).message}`);
    }
  }

  isUp(): boolean {
    return (this.layout?.links ?? []).some((link) => linkUp(link));
  }

  shards(): readonly { shard: string; up: boolean }[] | undefined {
    const shards = this.options.shards ?? [];
    if (shards.length < 2) return undefined;
    const links = this.layout?.links;
    return shards.map((_, i) => ({ shard: String(i), up: links?.[i] !== undefined && linkUp(links[i]!) }));
  }

  bufferedMessages(): undefined {
    return undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const lease of this.leases) lease.stop();
    for (const p of this.parts) p.generation.stop();
    for (const timer of this.retries) clearTimeout(timer);
    this.handler = undefined;
    await Promise.all(
      this.parts.map(async (p) => {
        try {
          await p.link.command.del(p.keys.nodeLease(this.nodeId));
        } catch {
          // Redis may be gone; the lease then simply expires.
        }
      }),
    );
    this.disconnect();
  }

  async publish(clientId: ClientId, data: string, idempotencyKey?: string): Promise<PublishResult> {
    const p = this.pc(clientId);
    const now = this.clock.nowMs();
    const [, text] = (await p.run(
      'publish',
      [p.keys.channel(clientId), p.keys.channelLog(clientId), p.keys.idempotency(clientId, idempotencyKey ?? '')],
      [
        data,
        now,
        this.options.replayBufferSize,
        newEpoch(),
        idempotencyKey === undefined ? 0 : this.options.replayWindowMs,
        p.keys.nodeChannelPrefix(),
        clientId,
        this.options.replayWindowMs,
      ],
    )) as [number, string];
    const [seq, epoch, connected] = text.split(' ');
    return { seq: Number(seq), epoch: epoch!, connected: connected === '1' };
  }

  async history(clientId: ClientId, since?: StreamPosition): Promise<HistoryResult> {
    const p = this.pc(clientId);
    return this.read(p, p.keys.channel(clientId), p.keys.channelLog(clientId), this.options.replayWindowMs, since, true);
  }

  async acknowledge(clientId: ClientId, position: StreamPosition): Promise<void> {
    const p = this.pc(clientId);
    await p.run(
      'acknowledge',
      [p.keys.channel(clientId), p.keys.deliveries()],
      [position.epoch, position.seq, clientId, this.clock.nowMs(), this.deliveryHistorySize(), p.keys.deliveriesChannel()],
    );
  }

  async attach(clientId: ClientId, socketId: SocketId, tokenIssuedAtMs: number): Promise<AttachResult> {
    const p = this.pc(clientId);
    const reply = (await p.run(
      'attach',
      [...this.socketKeys(p, clientId), p.keys.revocation(clientId)],
      [
        socketId,
        this.nodeId,
        this.clock.nowMs(),
        newEpoch(),
        p.keys.nodeChannelPrefix(),
        clientId,
        this.options.presenceHistorySize,
        p.keys.presenceChannel(),
        ...p.keys.nodeClientsAffixes(),
        tokenIssuedAtMs,
      ],
    )) as (string | number)[];
    if (reply[0] === -1) return { attached: false, reason: 'revoked' };
    this.local.attached(clientId, socketId, tokenIssuedAtMs);
    if (reply[0] === 0) await this.passPresence(clientId, true, String(reply[1]), PresenceReason.SocketOpened, reply.slice(2).map(String));
    return { attached: true };
  }

  async detach(clientId: ClientId, socketId: SocketId, reason: PresenceReason): Promise<boolean> {
    this.local.detached(clientId, socketId);
    const p = this.pc(clientId);
    const reply = (await p.run(
      'detach',
      this.socketKeys(p, clientId),
      [socketId, clientId, reason, this.clock.nowMs(), this.options.presenceHistorySize, p.keys.presenceChannel(), this.options.replayWindowMs, this.nodeId],
    )) as (string | number)[];
    if (reply[0] !== 1) return false;
    await this.passPresence(clientId, false, String(reply[1]), reason, reply.slice(2).map(String));
    return true;
  }

  async retain(clientId: ClientId, untilMs: number): Promise<void> {
    const p = this.pc(clientId);
    await p.run('retain', [p.keys.channel(clientId), p.keys.channelLog(clientId), p.keys.channelTopics(clientId)], [untilMs, this.clock.nowMs(), newEpoch()]);
  }

  async closeChannel(clientId: ClientId, revokedAtMs: number): Promise<boolean> {
    const p = this.pc(clientId);
    const reply = (await p.run(
      'close-channel',
      [p.keys.channel(clientId), p.keys.channelLog(clientId), p.keys.channelTopics(clientId), p.keys.online(), p.keys.presence(), p.keys.revocation(clientId)],
      [
        revokedAtMs,
        REVOCATION_TTL_MS,
        clientId,
        this.clock.nowMs(),
        this.options.presenceHistorySize,
        p.keys.presenceChannel(),
        p.keys.nodeChannelPrefix(),
        ...p.keys.nodeClientsAffixes(),
        this.nodeId,
        this.options.replayWindowMs,
      ],
    )) as (string | number)[];
    // The channel is closed; its topics hear of it each in its own partition.
    const [node, version] = [String(reply[2]), String(reply[3])];
    await Promise.all(
      reply.slice(4).map((topic) => {
        const t = this.pt(String(topic));
        return this.step(t, 'topic-leave', [String(topic), 'channel-closed', this.clock.nowMs(), t.keys.nodeChannelPrefix(), ...this.tpArgs(t), clientId, node, version]);
      }),
    );
    return reply[0] === 1;
  }

  async revokedAt(clientId: ClientId): Promise<number | undefined> {
    const p = this.pc(clientId);
    const value = await p.call((r) => r.get(p.keys.revocation(clientId)));
    return value === null ? undefined : Number(value);
  }

  async holder(clientId: ClientId): Promise<Holder> {
    const p = this.pc(clientId);
    const results = await p.call((r) => r.multi().hget(p.keys.channel(clientId), 's').get(p.keys.revocation(clientId)).exec());
    const [[, socketId], [, revokedAt]] = results as [[Error | null, string | null], [Error | null, string | null]];
    return { socketId: socketId ?? undefined, revokedAtMs: revokedAt === null ? undefined : Number(revokedAt) };
  }

  async presence(clientIds: readonly ClientId[]): Promise<ClientPresence[]> {
    const since = new Map<ClientId, string | null>();
    await Promise.all(
      [...this.byClientPartition(clientIds)].map(async ([p, ids]) => {
        const values = await p.call((r) => r.hmget(p.keys.online(), ...ids));
        ids.forEach((id, i) => since.set(id, values[i] ?? null));
      }),
    );
    return clientIds.map((clientId) => {
      const value = since.get(clientId);
      return value === null || value === undefined ? { clientId, connected: false } : { clientId, connected: true, sinceMs: Number(value) };
    });
  }

  async presenceSnapshot(): Promise<PresenceSnapshot> {
    const snapshots = await Promise.all(this.parts.map((p) => p.call((r) => readPresenceSnapshot(r, p.keys))));
    return { clients: snapshots.flatMap((s) => s.clients), cursor: this.vectors.format(snapshots.map((s) => s.cursor)) };
  }

  async presenceSince(cursor: string): Promise<PresenceChange[] | undefined> {
    return this.since(cursor, (p, id) => p.call((r) => readPresenceSince(r, p.keys, id)), (change, p) => ({ ...change, cursor: this.vectors.event(p.index, change.cursor) }));
  }

  compareCursors(a: string, b: string): number {
    return this.vectors.compare(a, b);
  }

  mergeCursors(cursor: string, next: string): string {
    return this.vectors.merge(cursor, next);
  }

  async subscribe(clientIds: readonly ClientId[], topic: Topic, maxTopicsPerClient: number, info = ''): Promise<number> {
    const t = this.pt(topic);
    const [epoch, last] = (await t.run('topic-position', [t.keys.topic(topic), t.keys.topicLog(topic)], [newEpoch(), this.topicTtlMs()])) as [string, number];
    const groups = [...this.byClientPartition(clientIds)];
    const args = (p: Partition, ids: readonly ClientId[], check: boolean): (string | number)[] => [
      topic,
      epoch,
      last,
      maxTopicsPerClient,
      ...p.keys.channelAffixes(),
      this.options.replayWindowMs,
      check ? 1 : 0,
      ...ids,
    ];
    const overLimit = (reply: (string | number)[]): ChannelError =>
      new ChannelError(
        ErrorCode.FailedPrecondition,
        `client id ${JSON.stringify(String(reply[1]).slice(0, 64))} is already in ${reply[2]} topics; the limit is ${maxTopicsPerClient}`,
      );
    // Across partitions the limit is checked everywhere before anything changes anywhere.
    if (groups.length > 1) {
      const checks = (await Promise.all(groups.map(([p, ids]) => p.run('subscribe-clients', [], args(p, ids, true))))) as (string | number)[][];
      const over = checks.find((reply) => reply[0] === -1);
      if (over !== undefined) throw overLimit(over);
    }
    const replies = (await Promise.all(groups.map(([p, ids]) => p.run('subscribe-clients', [], args(p, ids, false))))) as (string | number)[][];
    const entries: (string | number)[] = [];
    let joined = 0;
    for (const reply of replies) {
      if (reply[0] !== 1) continue;
      for (let i = 1; i < reply.length; i += 8) {
        entries.push(...reply.slice(i, i + 8).map((value, k) => (k === 1 || k === 2 ? Number(value) : String(value))));
        if (reply[i + 1] === 1) joined++;
      }
    }
    // Listed in the topic's partition even when another partition refused (a Subscribe racing this
    // one). The memberships are recorded: if the topic's shard is away the listing is retried in the
    // background (it is idempotent) and the caller hears UNAVAILABLE.
    if (entries.length > 0) {
      const listed = await this.step(t, 'topic-join', [topic, 1, info, this.clock.nowMs(), t.keys.nodeChannelPrefix(), ...this.tpArgs(t), ...entries]);
      if (listed !== undefined) throw listed;
    }
    const over = replies.find((reply) => reply[0] === -1);
    if (over !== undefined) throw overLimit(over);
    return joined;
  }

  async unsubscribe(clientIds: readonly ClientId[], topic: Topic): Promise<number> {
    const replies = await Promise.all(
      [...this.byClientPartition(clientIds)].map(async ([p, ids]) => (await p.run('unsubscribe-clients', [], [topic, ...p.keys.channelAffixes(), ...ids])) as string[]),
    );
    const entries: string[] = [];
    const removed = new Set<ClientId>();
    for (const reply of replies) {
      for (let i = 0; i < reply.length; i += 3) {
        removed.add(reply[i]!);
        entries.push(reply[i]!, reply[i + 1]!, reply[i + 2]!);
      }
    }
    // Client ids their own partition did not name: a listing with nothing else known of it ends too.
    for (const clientId of new Set(clientIds)) if (!removed.has(clientId)) entries.push(clientId, '', '0-0');
    const t = this.pt(topic);
    const unlisted: string[] = [];
    const failed = await this.step(t, 'topic-leave', [topic, 'unsubscribed', this.clock.nowMs(), t.keys.nodeChannelPrefix(), ...this.tpArgs(t), ...entries], undefined, (reply) =>
      unlisted.push(...(reply as string[])),
    );
    if (failed !== undefined) throw failed;
    // A member either side knew of (a step of an earlier change may not have reached the other).
    return new Set([...removed, ...unlisted]).size;
  }

  async memberships(clientId: ClientId): Promise<TopicMembership[]> {
    const p = this.pc(clientId);
    const all = await p.call((r) => r.hgetall(p.keys.channelTopics(clientId)));
    this.local.belongsTo(clientId, Object.keys(all));
    return Object.entries(all).map(([topic, value]) => {
      const [epoch, seq] = value.split(' ');
      return { topic, position: { epoch: epoch!, seq: Number(seq) } };
    });
  }

  async publishTopic(topic: Topic, data: string): Promise<TopicPublishResult> {
    const t = this.pt(topic);
    const [seq, epoch, members] = (await t.run(
      'publish-topic',
      [t.keys.topic(topic), t.keys.topicLog(topic), t.keys.topicMembers(topic), t.keys.legacyTopicMembers(topic)],
      [data, this.clock.nowMs(), this.options.replayBufferSize, newEpoch(), this.topicTtlMs(), t.keys.topicChannel(topic), topic],
    )) as [number, string, number];
    return { topic, seq, epoch, members };
  }

  async topicHistory(topic: Topic, since: StreamPosition): Promise<HistoryResult> {
    const t = this.pt(topic);
    return this.read(t, t.keys.topic(topic), t.keys.topicLog(topic), this.topicTtlMs(), since, false);
  }

  async acknowledgeTopic(clientId: ClientId, topic: Topic, position: StreamPosition): Promise<void> {
    const t = this.pt(topic);
    const state = (await t.run('topic-state', [t.keys.topic(topic)], [])) as [string, number] | [];
    if (state.length === 0) return;
    const p = this.pc(clientId);
    await p.run(
      'acknowledge-topic',
      [p.keys.channelTopics(clientId), p.keys.deliveries()],
      [topic, position.epoch, position.seq, clientId, this.clock.nowMs(), this.deliveryHistorySize(), p.keys.deliveriesChannel(), state[0], state[1]],
    );
  }

  async deliveries(clientIds: readonly ClientId[]): Promise<ClientDelivery[]> {
    const found = new Map<ClientId, ClientDelivery>();
    await Promise.all(
      [...this.byClientPartition(clientIds)].map(async ([p, ids]) => {
        const [runId, rows] = await p.call(async (r) => {
          const batch = r.multi();
          for (const clientId of ids) batch.hmget(p.keys.channel(clientId), 'e', 'l', 'a', 's', 'g');
          return [await p.generation.current(), await batch.exec()] as const;
        });
        ids.forEach((clientId, i) => {
          const [epoch, last, acked, socket, writtenBy] = rows![i]![1] as (string | null)[];
          // Written under another Redis process: its epoch is renewed at its next use (generation.lua).
          if (epoch === null || writtenBy !== runId) found.set(clientId, { clientId, epoch: undefined, ackedSeq: 0, lastSeq: 0, connected: socket !== null });
          else found.set(clientId, { clientId, epoch: epoch!, ackedSeq: Number(acked ?? 0), lastSeq: Number(last ?? 0), connected: socket !== null });
        });
      }),
    );
    return clientIds.map((clientId) => found.get(clientId)!);
  }

  deliveriesSince(cursor: string): Promise<DeliveryReceipt[] | undefined> {
    return this.since(
      cursor,
      (p, id) =>
        p.call((r) =>
          readStreamSince(r, p.keys.deliveries(), id, (at, f): DeliveryReceipt => {
            const receipt = { clientId: f['c']!, epoch: f['e']!, seq: Number(f['s']), timeMs: Number(f['t']), cursor: at };
            return f['tp'] === undefined ? receipt : { ...receipt, topic: f['tp'] };
          }),
        ),
      (receipt, p) => ({ ...receipt, cursor: this.vectors.event(p.index, receipt.cursor) }),
    );
  }

  async deliveryCursor(): Promise<string> {
    const ids = await Promise.all(this.parts.map((p) => p.call((r) => newestStreamId(r, p.keys.deliveries()))));
    return this.vectors.format(ids);
  }

  compareDeliveryCursors(a: string, b: string): number {
    return this.vectors.compare(a, b);
  }

  mergeDeliveryCursors(cursor: string, next: string): string {
    return this.vectors.merge(cursor, next);
  }

  followDeliveries(): Promise<void> {
    if (++this.deliveryFollows === 1) this.deliverySubscription = this.deliverySubscription.then(() => this.subscribeDeliveries(true));
    return this.deliverySubscription;
  }

  unfollowDeliveries(): Promise<void> {
    if (--this.deliveryFollows === 0) this.deliverySubscription = this.deliverySubscription.then(() => this.subscribeDeliveries(false));
    return this.deliverySubscription;
  }

  /** Subscribes to every partition's receipt channel, or leaves them, whichever the follow count says now. */
  private async subscribeDeliveries(wanted: boolean): Promise<void> {
    if (wanted !== this.deliveryFollows > 0) return;
    await Promise.all(
      this.parts.map(async (p) => {
        try {
          if (wanted) await p.subscribe(p.keys.deliveriesChannel());
          else await p.unsubscribe(p.keys.deliveriesChannel());
        } catch (err) {
          if (wanted) throw p.unavailable(err);
          // Leaving failed (Redis away): receipts that still arrive are simply not wanted.
        }
      }),
    );
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
    const t = this.pt(topic);
    const results = await t.call((r) => r.multi().zcard(t.keys.topicMembers(topic)).scard(t.keys.legacyTopicMembers(topic)).exec());
    const [[, zset], [, legacy]] = results as [[Error | null, number], [Error | null, number]];
    return zset + legacy;
  }

  async topicPresenceSnapshot(topic: Topic): Promise<TopicPresenceSnapshot> {
    const { members, cursor } = await this.readMembers(topic, 0, '');
    return { members, cursor };
  }

  topicPresenceSince(topic: Topic, cursor: string): Promise<TopicPresenceChange[] | undefined> {
    if (!isPresenceCursor(cursor)) return Promise.resolve(undefined);
    const t = this.pt(topic);
    return t.call((r) => readTopicPresenceSince(r, t.keys, topic, cursor));
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

  /** Which partition a client id's channel lives in (tests and operators: where a client id is). */
  partitionOfClient(clientId: ClientId): number {
    return this.partitioner.ofClient(clientId);
  }

  /** Which partition a topic lives in. */
  partitionOfTopic(topic: Topic): number {
    return this.partitioner.ofTopic(topic);
  }

  /**
   * A page of members, read at one instant in the topic's partition; members whose channel has
   * expired (their own partition no longer names the topic) are dropped and reported as left.
   */
  private async readMembers(topic: Topic, count: number, after: ClientId): Promise<{ members: TopicMember[]; more: boolean; cursor: string }> {
    const t = this.pt(topic);
    const reply = (await t.run(
      'topic-members',
      [t.keys.topicMembers(topic), t.keys.topicMemberInfo(topic), t.keys.topicMemberConnections(topic), t.keys.topicPresenceLog(topic)],
      [topic, after, count, ...this.tpArgs(t)],
    )) as (string | number)[];
    const listed: { clientId: ClientId; connected: number; info: string; joined: string }[] = [];
    for (let i = 2; i < reply.length; i += 4) {
      listed.push({ clientId: String(reply[i]), connected: Number(reply[i + 1]), info: String(reply[i + 2]), joined: String(reply[i + 3]) });
    }
    const member = new Map<ClientId, boolean>();
    const online = new Map<ClientId, boolean>();
    await Promise.all(
      [...this.byClientPartition(listed.map((m) => m.clientId))].map(async ([p, ids]) => {
        const results = await p.call((r) => {
          const batch = r.multi();
          for (const id of ids) batch.hexists(p.keys.channelTopics(id), topic).hexists(p.keys.online(), id);
          return batch.exec();
        });
        ids.forEach((id, i) => {
          member.set(id, results![2 * i]![1] === 1);
          online.set(id, results![2 * i + 1]![1] === 1);
        });
      }),
    );
    const expired = listed.filter((m) => member.get(m.clientId) !== true);
    if (expired.length > 0) {
      await t.run('topic-expire', [], [topic, this.clock.nowMs(), ...this.tpArgs(t), ...expired.flatMap((m) => [m.clientId, m.joined])]);
    }
    const members = listed
      .filter((m) => member.get(m.clientId) === true)
      // 2: listed before the topic's partition kept connections; the client's partition knows.
      .map((m) => ({ clientId: m.clientId, connected: m.connected === 2 ? online.get(m.clientId) === true : m.connected === 1, info: m.info }));
    return { members, more: reply[1] === 1, cursor: String(reply[0]) };
  }

  /** Connections to every shard, connected, and how partitions map onto them. */
  private async connect(): Promise<Layout> {
    const { options } = this;
    const shards = options.shards ?? [];
    const opened: ShardLink[] = [];
    const open = async (target: RedisTarget, name: string, cluster: boolean): Promise<ShardLink> => {
      const command = openConnection(target, 'command', `channeld-${this.nodeId}-command${name}`);
      command.on('error', (err: Error) => this.log.warn({ err: err.message, shard: name }, 'redis connection error'));
      try {
        await command.connect();
      } catch (err) {
        command.disconnect();
        throw new Error(`cannot connect to redis at ${describeTarget(target)}: ${(err as Error).message}`);
      }
      // Sharded pub/sub came with Redis 7; an older Cluster publishes over its bus as before.
      const shardedPubSub = cluster && (await redisMajor(command)) >= 7;
      const subscriber = openConnection(target, 'subscriber', `channeld-${this.nodeId}-subscriber${name}`, shardedPubSub);
      subscriber.on('error', (err: Error) => this.log.warn({ err: err.message, shard: name }, 'redis connection error'));
      const link: ShardLink = { command, subscriber, scripts: new Scripts({ shardedPubSub }), shardedPubSub };
      opened.push(link);
      try {
        await subscriber.connect();
      } catch (err) {
        throw new Error(`cannot connect to redis at ${describeTarget(target)}: ${(err as Error).message}`);
      }
      return link;
    };
    try {
      if (shards.length > 0) {
        const links = await Promise.all(
          shards.map((url, i) => open({ redisUrl: url, sentinels: [], sentinelName: options.sentinelName, clusterNodes: [] }, `-shard${i}`, false)),
        );
        return {
          links,
          partitions: links.map((link, i) => ({
            link,
            prefix: options.prefix,
            where: `redis shard ${i} (${describeTarget({ redisUrl: shards[i]!, sentinels: [], sentinelName: '', clusterNodes: [] })})`,
          })),
        };
      }
      const cluster = options.clusterNodes.length > 0;
      const link = await open(options, '', cluster);
      const count = this.partitioner.count;
      return {
        links: [link],
        partitions: Array.from({ length: count }, (_, i) => ({
          link,
          // One tag per partition, so partitions spread over the slots; with one, "{P}" as before partitions.
          prefix: cluster ? (count === 1 ? `{${options.prefix}}` : `{${options.prefix}:${i}}`) : options.prefix,
          where: cluster && count > 1 ? `redis (cluster partition ${i})` : 'redis',
        })),
      };
    } catch (err) {
      for (const link of opened) {
        link.command.disconnect();
        link.subscriber.disconnect();
      }
      throw err;
    }
  }

  /** Boots again after a reconnect, catches up after the feed was down, and hears the link's channels. */
  private watchLink(link: ShardLink): void {
    const partitions = this.parts.filter((p) => p.link === link);
    // A new connection may reach another Redis process: boot against it before anything else.
    const invalidate = (): void => {
      for (const p of partitions) p.generation.invalidate();
    };
    if (link.command instanceof Cluster) link.command.on('+node', (node: Redis) => node.on('close', invalidate));
    else link.command.on('close', invalidate);
    const onMessage = (channel: string, text: string): void => this.onPubSub(link, channel, text);
    link.subscriber.on('message', onMessage);
    link.subscriber.on('smessage', onMessage);
    let readyOnce = false;
    link.subscriber.on('ready', () => {
      if (!readyOnce) {
        readyOnce = true;
        return;
      }
      const resync = (): void => {
        this.log.info('redis feed is back: catching local sockets up from history');
        this.resync(partitions);
      };
      // The catch-up reads through the command connection, which may come back a moment later.
      if (link.command.status === 'ready') resync();
      else link.command.once('ready', resync);
    });
    if (link.subscriber.status === 'ready') readyOnce = true;
  }

  private disconnect(): void {
    for (const link of this.layout?.links ?? []) {
      link.subscriber.disconnect();
      link.command.disconnect();
    }
  }

  private describe(): string {
    const shards = this.options.shards ?? [];
    if (shards.length > 0) return `shards ${shards.map((url) => describeTarget({ redisUrl: url, sentinels: [], sentinelName: '', clusterNodes: [] })).join(', ')}`;
    return describeTarget(this.options);
  }

  private pc(clientId: ClientId): Partition {
    return this.parts[this.partitioner.ofClient(clientId)]!;
  }

  private pt(topic: Topic): Partition {
    return this.parts[this.partitioner.ofTopic(topic)]!;
  }

  /** Client ids by the partition they live in, each once, in the order given. */
  private byClientPartition(clientIds: readonly ClientId[]): Map<Partition, ClientId[]> {
    const groups = new Map<Partition, ClientId[]>();
    for (const clientId of new Set(clientIds)) {
      const p = this.pc(clientId);
      const ids = groups.get(p);
      if (ids === undefined) groups.set(p, [clientId]);
      else ids.push(clientId);
    }
    return groups;
  }

  /** What presence.lua's topic helpers take (topic_presence_args), for a partition's topics. */
  private tpArgs(p: Partition): (string | number)[] {
    return [...p.keys.topicPresenceAffixes(), this.options.topicPresenceHistorySize ?? 1000, this.topicTtlMs()];
  }

  /**
   * Passes a client's connect or disconnect, recorded in its partition as `version`, on to the
   * topics it belongs to, in each topic's partition.
   */
  private async passPresence(clientId: ClientId, connected: boolean, version: string, reason: string, topics: readonly Topic[], runner?: Runner): Promise<void> {
    const byPartition = new Map<Partition, (string | number)[]>();
    for (const topic of topics) {
      const t = this.pt(topic);
      const entries = byPartition.get(t) ?? [];
      entries.push(topic, clientId, connected ? 1 : 0, version);
      byPartition.set(t, entries);
    }
    await Promise.all(
      [...byPartition].map(([t, entries]) => this.step(t, 'topic-member-presence', [reason, this.clock.nowMs(), ...this.tpArgs(t), ...entries], runner)),
    );
  }

  /**
   * The second step of an operation that spans two partitions: once the first is done it must
   * happen, so a failure (its shard away) is logged and tried again until it succeeds. Each such
   * step is idempotent (see topic-member-presence.lua).
   */
  private async step(
    t: Partition,
    name: ScriptName,
    args: readonly (string | number)[],
    runner?: Runner,
    done?: (reply: unknown) => void,
    attempt = 0,
  ): Promise<ChannelError | undefined> {
    try {
      const reply = runner === undefined ? await t.run(name, [], args) : await runner(t, name, [], args);
      done?.(reply);
      return undefined;
    } catch (err) {
      const failure = t.unavailable(err);
      if (this.stopped) return failure;
      if (attempt >= STEP_RETRIES) {
        this.log.error({ err: (err as Error).message, step: name, partition: t.index }, 'gave up passing a change on to a topic: its members or presence may be stale until the next change');
        return failure;
      }
      if (attempt === 0) this.log.warn({ err: (err as Error).message, step: name, partition: t.index }, 'cannot pass a change on to a topic yet; retrying');
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        void this.step(t, name, args, undefined, undefined, attempt + 1);
      }, Math.min(STEP_RETRY_FIRST_MS * 2 ** attempt, STEP_RETRY_MAX_MS));
      timer.unref();
      this.retries.add(timer);
      return failure;
    }
  }

  /** Clients of a dead node were reported gone in their partition: their topics hear of it. */
  private async reaped(clients: readonly ReapedClient[]): Promise<void> {
    await Promise.all(clients.map((c) => this.passPresence(c.clientId, false, c.version, PresenceReason.NodeLost, c.topics)));
  }

  /**
   * Registers one of this node's sockets again in its partition (reattach.lua): first where each
   * of its topics stands (to start a membership Redis lost from), then the socket, then the topics'
   * side of what changed.
   */
  private async reattachOne(p: Partition, clientId: ClientId, socket: LocalSocket, withTopics: boolean, runner: Runner): Promise<Reattached> {
    const positions = withTopics
      ? await Promise.all(
          [...socket.topics].map(async (topic) => {
            const t = this.pt(topic);
            try {
              const [epoch, last] = (await runner(t, 'topic-position', [t.keys.topic(topic), t.keys.topicLog(topic)], [newEpoch(), this.topicTtlMs()])) as [string, number];
              return [topic, epoch, last];
            } catch (err) {
              // The topic's shard is away too: the socket is registered again without that membership (the log says so).
              this.log.warn({ err: (err as Error).message, topic, partition: t.index }, 'cannot read where a topic stands: a membership Redis lost is not added again');
              return [];
            }
          }),
        )
      : [];
    const reply = (await runner(
      p,
      'reattach',
      [p.keys.channel(clientId), p.keys.online(), p.keys.nodeClients(this.nodeId), p.keys.presence(), p.keys.revocation(clientId), p.keys.channelTopics(clientId)],
      [
        socket.socketId,
        this.nodeId,
        this.clock.nowMs(),
        clientId,
        this.options.presenceHistorySize,
        p.keys.presenceChannel(),
        p.keys.nodeChannelPrefix(),
        socket.tokenIssuedAtMs,
        newEpoch(),
        ...positions.flat(),
      ],
    )) as (string | number)[];
    const outcome = Number(reply[0]);
    if (outcome < 0) return { outcome, added: 0 };
    const connected = Number(reply[1]);
    const version = String(reply[2]);
    const membership = String(reply[3]);
    const split = reply.indexOf('', 4);
    const added = reply.slice(4, split).map(String);
    const all = reply.slice(split + 1).map(String);
    const starts = new Map(positions.filter((p) => p.length > 0).map(([topic, epoch, last]) => [String(topic), [String(epoch), Number(last)] as const]));
    await Promise.all(
      added.map((topic) => {
        const t = this.pt(topic);
        const [epoch, last] = starts.get(topic) ?? ['', 0];
        // No node told: this one holds the socket and knows the membership already.
        const entry = [clientId, 1, connected, version, '', membership, epoch, last];
        return this.step(t, 'topic-join', [topic, 0, '', this.clock.nowMs(), t.keys.nodeChannelPrefix(), ...this.tpArgs(t), ...entry], runner);
      }),
    );
    if (outcome === 1) await this.passPresence(clientId, true, version, PresenceReason.SocketOpened, all, runner);
    return { outcome, added: added.length };
  }

  /**
   * The lease lapsed in a partition while this node was cut off, so other nodes may have reported
   * its clients there gone: register those sockets again (they are CONNECTED anew) and catch them up.
   */
  private async reattachAll(p: Partition): Promise<void> {
    const mine = (clientId: ClientId): boolean => this.pc(clientId) === p;
    if (this.local.size === 0) return;
    this.log.warn({ partition: p.index }, 'node lease had lapsed: registering this node\'s sockets again');
    await this.local.registerAgain(mine, (clientId, socket) => this.reattachOne(p, clientId, socket, false, (t, name, keys, args) => t.run(name, keys, args)));
    this.resync([p]);
  }

  /** The feed of some partitions may have missed messages: the node catches its sockets up, the topic feeds their topics. */
  private resync(partitions: readonly Partition[]): void {
    const set = new Set(partitions);
    this.notify(() => this.handler?.onResync());
    this.topics.catchUp((topic) => set.has(this.pt(topic)));
    this.topicPresence.catchUp((topic) => set.has(this.pt(topic)));
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
   * A partition's Redis is served by another process than before (a restart or fail-over):
   * whatever it holds may be older than what clients have, or gone. Epochs start anew as channels
   * and topics are used (generation.lua), so clients resume as "not recovered" rather than skip
   * messages. This node registers again its sockets of the partition, and lists again in the
   * partition's topics the members it holds sockets of.
   */
  private async onNewProcess(p: Partition, runId: string, previous: string): Promise<void> {
    // Until the boot is over, the partition's scripts run as of its new process.
    const runner: Runner = (t, name, keys, args) => (t === p ? t.runAs(runId, name, keys, args) : t.run(name, keys, args));
    const again = await this.local.registerAgain(
      (clientId) => this.pc(clientId) === p,
      (clientId, socket) => this.reattachOne(p, clientId, socket, true, runner),
    );
    const listed = await this.listAgain(p, runner);
    this.log.warn(
      { runId, previous, partition: p.index, where: p.where, ...again, listedAgain: listed },
      'redis is served by another process (restart or fail-over), its data may be older or gone: this node registered its sockets and their topic memberships again where missing; channels and topics get new epochs as they are used, so clients resume as not recovered',
    );
    // Once commands flow again: tell live sockets at once rather than at their next message.
    setImmediate(() => this.resync([p]));
  }

  /** Lists again, in the topics of partition `p`, the members this node holds sockets of whose own partition is another. */
  private async listAgain(p: Partition, runner: Runner): Promise<number> {
    const byTopic = new Map<Topic, ClientId[]>();
    for (const [clientId, socket] of this.local.entries()) {
      if (this.pc(clientId) === p) continue;
      for (const topic of socket.topics) {
        if (this.pt(topic) !== p) continue;
        const ids = byTopic.get(topic) ?? [];
        ids.push(clientId);
        byTopic.set(topic, ids);
      }
    }
    await Promise.all(
      // Connected as of version 0-0: the member's next real change supersedes it.
      [...byTopic].map(([topic, ids]) =>
        this.step(p, 'topic-join', [topic, 0, '', this.clock.nowMs(), p.keys.nodeChannelPrefix(), ...this.tpArgs(p), ...ids.flatMap((id) => [id, 0, 1, '0-0', '', '0-0', '', 0])], runner),
      ),
    );
    return byTopic.size;
  }

  private onPubSub(link: ShardLink, channel: string, text: string): void {
    const handler = this.handler;
    if (handler === undefined) return;
    try {
      const named = this.channelKinds.get(link)?.get(channel);
      if (named?.kind === 'presence') {
        const p = JSON.parse(text) as PresenceWire;
        const cursor = this.vectors.event(named.partition, p.id);
        handler.onPresence({ clientId: p.c, state: p.s, reason: p.r, timeMs: p.t, cursor, local: p.o === this.nodeId });
        return;
      }
      if (named?.kind === 'deliveries') {
        const d = JSON.parse(text) as DeliveryWire;
        const receipt = { clientId: d.c, epoch: d.e, seq: d.s, timeMs: d.t, cursor: this.vectors.event(named.partition, d.id) };
        handler.onDelivery(d.tp === undefined ? receipt : { ...receipt, topic: d.tp });
        return;
      }
      if (named === undefined) {
        // A topic's channel: its message names the topic, whose partition names the channel.
        const wire = JSON.parse(text) as TopicWire | TopicPresenceWire;
        const t = this.pt(wire.tp);
        if (channel === t.keys.topicChannel(wire.tp)) this.topics.receive(wire as TopicWire);
        else if (channel === t.keys.topicPresenceChannel(wire.tp)) this.topicPresence.receive(wire as TopicPresenceWire);
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

  /** A per-partition log read after each partition's part of `cursor`; undefined when any part is no longer all kept. */
  private async since<T extends { timeMs: number }>(
    cursor: string,
    read: (p: Partition, id: string) => Promise<T[] | undefined>,
    stamp: (event: T, p: Partition) => T,
  ): Promise<T[] | undefined> {
    const ids = this.vectors.parse(cursor);
    if (ids === undefined) return undefined;
    const parts = await Promise.all(this.parts.map(async (p) => (await read(p, ids[p.index]!))?.map((event) => stamp(event, p))));
    if (parts.some((events) => events === undefined)) return undefined;
    // Each partition's events stay in order; across partitions, by time.
    return (parts as T[][]).flat().sort((a, b) => a.timeMs - b.timeMs);
  }

  private async read(p: Partition, hashKey: string, logKey: string, ttlMs: number, since: StreamPosition | undefined, channel: boolean): Promise<HistoryResult> {
    const [epoch, last, acked, , entries] = (await p.run(
      'read',
      [hashKey, logKey],
      [newEpoch(), ttlMs, since === undefined ? -1 : since.seq, since === undefined ? '' : since.epoch],
    )) as [string, number, number, string, unknown];
    const cutoff = this.clock.nowMs() - this.options.replayWindowMs;
    const kept = parseEntries(entries).filter((m) => m.timeMs >= cutoff);
    return recover({ epoch, lastSeq: Number(last), kept }, since, channel ? Number(acked) : 0);
  }

  /** The keys the attach and detach scripts touch, in their KEYS order. */
  private socketKeys(p: Partition, clientId: ClientId): string[] {
    return [
      p.keys.channel(clientId),
      p.keys.channelLog(clientId),
      p.keys.channelTopics(clientId),
      p.keys.online(),
      p.keys.nodeClients(this.nodeId),
      p.keys.presence(),
    ];
  }

  private topicTtlMs(): number {
    return Math.max(MIN_TOPIC_TTL_MS, this.options.replayWindowMs);
  }

  private deliveryHistorySize(): number {
    return this.options.deliveryHistorySize ?? DEFAULT_DELIVERY_HISTORY_SIZE;
  }
}

function linkUp(link: ShardLink): boolean {
  return link.command.status === 'ready' && link.subscriber.status === 'ready';
}

/** The major version of the Redis behind a connection (of one of a Cluster's masters). */
async function redisMajor(connection: Connection): Promise<number> {
  const node = connection instanceof Cluster ? connection.nodes('master')[0] : connection;
  if (node === undefined) return 0;
  const info = await node.info('server');
  return Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
}
