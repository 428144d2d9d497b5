import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.js';
import { ReplayBuffer } from '../core/replay-buffer.js';
import { recover } from './recovery.js';
import { MemoryTopicPresence } from './memory-topic-presence.js';
import { TopicLeaveReason, type TopicMembersPage, type TopicPresenceChange, type TopicPresenceSnapshot } from '../core/topic-presence.js';
import { CursorLog } from './cursor-log.js';
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
import { ChannelError, ErrorCode } from '../core/errors.js';
import { MAX_DURATION_MINUTES } from '../core/limits.js';
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

interface ChannelState {
  epoch: Epoch;
  buffer: ReplayBuffer;
  ackedSeq: number;
  socketId: SocketId | undefined;
  connectedSinceMs: number | undefined;
  retainUntilMs: number;
  /** Made by the first message with a key: most channels never see one. */
  idempotency: Map<string, { result: PublishResult; timeMs: number }> | undefined;
  /** Topic memberships and the position a fresh open starts each from; made by the first Subscribe. */
  topics: Map<Topic, StreamPosition> | undefined;
}

interface TopicState {
  epoch: Epoch;
  buffer: ReplayBuffer;
  members: Set<ClientId>;
}

const SWEEP_INTERVAL_MS = 30_000;
const REVOCATION_TTL_MS = MAX_DURATION_MINUTES * 60_000;

function newEpoch(): Epoch {
  return randomBytes(6).toString('base64url');
}

export class MemoryEngine implements Engine {
  readonly roundTrips = undefined;
  private handler: EngineHandler | undefined;
  private readonly channels = new Map<ClientId, ChannelState>();
  private readonly topics = new Map<Topic, TopicState>();
  private readonly revocations = new Map<ClientId, number>();
  private readonly presenceLog: CursorLog<PresenceChange>;
  private readonly deliveryLog: CursorLog<DeliveryReceipt>;
  private sweepTimer: TimerHandle | undefined;
  private readonly roster: MemoryTopicPresence;

  constructor(
    private readonly options: EngineOptions,
    private readonly clock: Clock,
  ) {
    this.roster = new MemoryTopicPresence({
      historySize: options.topicPresenceHistorySize ?? 1000,
      isConnected: (clientId) => this.channels.get(clientId)?.socketId !== undefined,
      emit: (change) => this.handler?.onTopicPresence?.(change),
    });
    this.presenceLog = new CursorLog(newEpoch(), options.presenceHistorySize);
    this.deliveryLog = new CursorLog(newEpoch(), options.deliveryHistorySize ?? DEFAULT_DELIVERY_HISTORY_SIZE);
  }

  async start(handler: EngineHandler): Promise<void> {
    this.handler = handler;
    this.scheduleSweep();
  }

  isUp(): boolean {
    return true;
  }

  bufferedMessages(): number {
    let total = 0;
    for (const channel of this.channels.values()) total += channel.buffer.length;
    for (const topic of this.topics.values()) total += topic.buffer.length;
    return total;
  }

  async stop(): Promise<void> {
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    this.handler = undefined;
    this.channels.clear();
  }

  async publish(clientId: ClientId, data: string, idempotencyKey?: string): Promise<PublishResult> {
    const now = this.clock.nowMs();
    const channel = this.channel(clientId, now);
    if (idempotencyKey !== undefined) {
      const seen = channel.idempotency?.get(idempotencyKey);
      if (seen !== undefined && seen.timeMs >= now - this.options.replayWindowMs) return seen.result;
    }
    const message = channel.buffer.append(data, now);
    channel.retainUntilMs = Math.max(channel.retainUntilMs, now + this.options.replayWindowMs);
    const result: PublishResult = { seq: message.seq, epoch: channel.epoch, connected: channel.socketId !== undefined };
    if (idempotencyKey !== undefined) {
      const keys = (channel.idempotency ??= new Map());
      keys.set(idempotencyKey, { result, timeMs: now });
      // Bounded like the replay window itself: a key older than the window's messages is moot.
      if (keys.size > this.options.replayBufferSize) keys.delete(keys.keys().next().value!);
    }
    this.handler?.onMessage(clientId, channel.epoch, message);
    return result;
  }

  async history(clientId: ClientId, since?: StreamPosition): Promise<HistoryResult> {
    const channel = this.channel(clientId, this.clock.nowMs());
    channel.buffer.trimOlderThan(this.clock.nowMs() - this.options.replayWindowMs);
    return recover({ epoch: channel.epoch, lastSeq: channel.buffer.lastSeq, kept: channel.buffer.after(0).messages }, since, channel.ackedSeq);
  }

  async acknowledge(clientId: ClientId, position: StreamPosition): Promise<void> {
    const channel = this.channels.get(clientId);
    if (channel === undefined || channel.epoch !== position.epoch) return;
    if (position.seq <= channel.ackedSeq || position.seq > channel.buffer.lastSeq) return;
    channel.ackedSeq = position.seq;
    this.emitDelivery(clientId, position);
  }

  async attach(clientId: ClientId, socketId: SocketId, tokenIssuedAtMs: number): Promise<AttachResult> {
    const revokedAt = this.revocations.get(clientId);
    if (revokedAt !== undefined && tokenIssuedAtMs <= revokedAt) return { attached: false, reason: 'revoked' };
    const now = this.clock.nowMs();
    const channel = this.channel(clientId, now);
    const previous = channel.socketId;
    channel.socketId = socketId;
    if (previous !== undefined) {
      this.handler?.onDisplaced(clientId, previous);
      return { attached: true };
    }
    channel.connectedSinceMs = now;
    this.emitPresence(clientId, PresenceState.Connected, PresenceReason.SocketOpened, now);
    return { attached: true };
  }

  async detach(clientId: ClientId, socketId: SocketId, reason: PresenceReason): Promise<boolean> {
    const channel = this.channels.get(clientId);
    if (channel === undefined || channel.socketId !== socketId) return false;
    const now = this.clock.nowMs();
    channel.socketId = undefined;
    channel.connectedSinceMs = undefined;
    this.emitPresence(clientId, PresenceState.Disconnected, reason, now);
    return true;
  }

  async retain(clientId: ClientId, untilMs: number): Promise<void> {
    const channel = this.channel(clientId, this.clock.nowMs());
    channel.retainUntilMs = Math.max(channel.retainUntilMs, untilMs);
  }

  async closeChannel(clientId: ClientId, revokedAtMs: number): Promise<boolean> {
    this.revocations.set(clientId, revokedAtMs);
    const channel = this.channels.get(clientId);
    const wasConnected = channel?.socketId !== undefined;
    this.handler?.onChannelClosed(clientId);
    // The gateway's close of the socket detaches it (with presence) before we drop the state.
    const left = this.channels.get(clientId);
    if (left !== undefined && left.socketId !== undefined) {
      this.emitPresence(clientId, PresenceState.Disconnected, PresenceReason.ChannelClosed, this.clock.nowMs());
    }
    if (left !== undefined) this.forget(clientId, left, TopicLeaveReason.ChannelClosed);
    return wasConnected;
  }

  async revokedAt(clientId: ClientId): Promise<number | undefined> {
    return this.revocations.get(clientId);
  }

  async holder(clientId: ClientId): Promise<Holder> {
    return { socketId: this.channels.get(clientId)?.socketId, revokedAtMs: this.revocations.get(clientId) };
  }

  async presence(clientIds: readonly ClientId[]): Promise<ClientPresence[]> {
    return clientIds.map((clientId) => this.presenceOf(clientId));
  }

  async presenceSnapshot(): Promise<PresenceSnapshot> {
    const clients: ClientPresence[] = [];
    for (const clientId of this.channels.keys()) {
      const presence = this.presenceOf(clientId);
      if (presence.connected) clients.push(presence);
    }
    return { clients, cursor: this.presenceLog.newest() };
  }

  async presenceSince(cursor: string): Promise<PresenceChange[] | undefined> {
    return this.presenceLog.since(cursor);
  }

  // One log, whose events reach a watcher in order: the newest event's cursor says it all.
  mergeCursors(_cursor: string, next: string): string {
    return next;
  }

  mergeDeliveryCursors(_cursor: string, next: string): string {
    return next;
  }

  compareCursors(a: string, b: string): number {
    return this.presenceLog.compare(a, b);
  }

  async deliveries(clientIds: readonly ClientId[]): Promise<ClientDelivery[]> {
    return clientIds.map((clientId) => {
      const channel = this.channels.get(clientId);
      if (channel === undefined) return { clientId, epoch: undefined, ackedSeq: 0, lastSeq: 0, connected: false };
      return { clientId, epoch: channel.epoch, ackedSeq: channel.ackedSeq, lastSeq: channel.buffer.lastSeq, connected: channel.socketId !== undefined };
    });
  }

  async deliveriesSince(cursor: string): Promise<DeliveryReceipt[] | undefined> {
    return this.deliveryLog.since(cursor);
  }

  async deliveryCursor(): Promise<string> {
    return this.deliveryLog.newest();
  }

  compareDeliveryCursors(a: string, b: string): number {
    return this.deliveryLog.compare(a, b);
  }

  // One process: every receipt already reaches onDelivery.
  async followDeliveries(): Promise<void> {}

  async unfollowDeliveries(): Promise<void> {}

  async subscribe(clientIds: readonly ClientId[], topic: Topic, maxTopicsPerClient: number, info = ''): Promise<number> {
    const now = this.clock.nowMs();
    const state = this.topic(topic);
    const unique = [...new Set(clientIds)];
    const joining = unique.filter((id) => !state.members.has(id));
    for (const clientId of joining) {
      const count = this.channels.get(clientId)?.topics?.size ?? 0;
      if (count >= maxTopicsPerClient) {
        throw new ChannelError(
          ErrorCode.FailedPrecondition,
          `client id ${JSON.stringify(clientId.slice(0, 64))} is already in ${count} topics; the limit is ${maxTopicsPerClient}`,
        );
      }
    }
    const position: StreamPosition = { epoch: state.epoch, seq: state.buffer.lastSeq };
    for (const clientId of joining) {
      const channel = this.channel(clientId, now);
      (channel.topics ??= new Map()).set(topic, position);
      state.members.add(clientId);
      this.roster.subscribed(topic, clientId, info, true, now);
      this.handler?.onSubscribed(clientId, topic, position);
    }
    if (joining.length < unique.length) {
      const joined = new Set(joining);
      for (const clientId of unique) if (!joined.has(clientId)) this.roster.subscribed(topic, clientId, info, false, now);
    }
    return joining.length;
  }

  async unsubscribe(clientIds: readonly ClientId[], topic: Topic): Promise<number> {
    const state = this.topics.get(topic);
    if (state === undefined) return 0;
    let removed = 0;
    for (const clientId of new Set(clientIds)) {
      if (!state.members.delete(clientId)) continue;
      this.channels.get(clientId)?.topics?.delete(topic);
      removed++;
      this.roster.left(topic, clientId, TopicLeaveReason.Unsubscribed, this.clock.nowMs());
      this.handler?.onUnsubscribed(clientId, topic);
    }
    return removed;
  }

  async memberships(clientId: ClientId): Promise<TopicMembership[]> {
    const channel = this.channels.get(clientId);
    if (channel?.topics === undefined) return [];
    return [...channel.topics].map(([topic, position]) => ({ topic, position }));
  }

  async publishTopic(topic: Topic, data: string): Promise<TopicPublishResult> {
    const state = this.topic(topic);
    const message = state.buffer.append(data, this.clock.nowMs());
    this.handler?.onTopicMessage(topic, state.epoch, message);
    return { topic, seq: message.seq, epoch: state.epoch, members: state.members.size };
  }

  async topicHistory(topic: Topic, since: StreamPosition): Promise<HistoryResult> {
    const state = this.topic(topic);
    state.buffer.trimOlderThan(this.clock.nowMs() - this.options.replayWindowMs);
    return recover({ epoch: state.epoch, lastSeq: state.buffer.lastSeq, kept: state.buffer.after(0).messages }, since);
  }

  async acknowledgeTopic(clientId: ClientId, topic: Topic, position: StreamPosition): Promise<void> {
    const membership = this.channels.get(clientId)?.topics;
    const current = membership?.get(topic);
    const state = this.topics.get(topic);
    if (current === undefined || state === undefined || position.epoch !== state.epoch) return;
    if (current.epoch === position.epoch && position.seq <= current.seq) return;
    if (position.seq > state.buffer.lastSeq) return;
    membership!.set(topic, position);
    this.emitDelivery(clientId, position, topic);
  }

  // One process: every topic message already reaches onTopicMessage.
  async followTopic(): Promise<void> {}

  async unfollowTopic(): Promise<void> {}

  async topicMembers(topic: Topic, pageSize: number, after: ClientId): Promise<TopicMembersPage> {
    return this.roster.page(topic, this.topics.get(topic)?.members ?? new Set(), pageSize, after);
  }

  async countTopicMembers(topic: Topic): Promise<number> {
    return this.topics.get(topic)?.members.size ?? 0;
  }

  async topicPresenceSnapshot(topic: Topic): Promise<TopicPresenceSnapshot> {
    return this.roster.snapshot(topic, this.topics.get(topic)?.members ?? new Set());
  }

  async topicPresenceSince(topic: Topic, cursor: string): Promise<TopicPresenceChange[] | undefined> {
    return this.roster.since(topic, cursor);
  }

  compareTopicPresenceCursors(a: string, b: string): number {
    return this.roster.compare(a, b);
  }

  // One process: every change already reaches onTopicPresence.
  async followTopicPresence(): Promise<void> {}

  async unfollowTopicPresence(): Promise<void> {}

  private topic(name: Topic): TopicState {
    let state = this.topics.get(name);
    if (state === undefined) {
      state = { epoch: newEpoch(), buffer: new ReplayBuffer(this.options.replayBufferSize), members: new Set() };
      this.topics.set(name, state);
    }
    return state;
  }

  /** Drops a channel and its topic memberships. */
  private forget(clientId: ClientId, channel: ChannelState, why: TopicLeaveReason): void {
    const now = this.clock.nowMs();
    for (const topic of channel.topics?.keys() ?? []) {
      if (this.topics.get(topic)?.members.delete(clientId)) this.roster.left(topic, clientId, why, now);
    }
    this.channels.delete(clientId);
  }

  private presenceOf(clientId: ClientId): ClientPresence {
    const channel = this.channels.get(clientId);
    if (channel?.socketId === undefined) return { clientId, connected: false };
    return { clientId, connected: true, sinceMs: channel.connectedSinceMs };
  }

  private channel(clientId: ClientId, now: number): ChannelState {
    let channel = this.channels.get(clientId);
    if (channel === undefined) {
      channel = {
        epoch: newEpoch(),
        buffer: new ReplayBuffer(this.options.replayBufferSize),
        ackedSeq: 0,
        socketId: undefined,
        connectedSinceMs: undefined,
        retainUntilMs: now + this.options.replayWindowMs,
        idempotency: undefined,
        topics: undefined,
      };
      this.channels.set(clientId, channel);
    }
    return channel;
  }

  private emitPresence(clientId: ClientId, state: PresenceState, reason: PresenceReason, timeMs: number): void {
    const change = this.presenceLog.append((cursor) => ({ clientId, state, reason, timeMs, cursor }));
    const topics = this.channels.get(clientId)?.topics;
    if (topics !== undefined && topics.size > 0) {
      this.roster.presence(topics.keys(), clientId, state === PresenceState.Connected, reason, timeMs);
    }
    this.handler?.onPresence(change);
  }

  private emitDelivery(clientId: ClientId, position: StreamPosition, topic?: Topic): void {
    const timeMs = this.clock.nowMs();
    const receipt = this.deliveryLog.append((cursor): DeliveryReceipt =>
      topic === undefined
        ? { clientId, epoch: position.epoch, seq: position.seq, timeMs, cursor }
        : { clientId, epoch: position.epoch, seq: position.seq, topic, timeMs, cursor },
    );
    this.handler?.onDelivery(receipt);
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimer(Math.min(SWEEP_INTERVAL_MS, this.options.replayWindowMs), () => {
      this.sweep();
      if (this.handler !== undefined) this.scheduleSweep();
    });
  }

  /** Trims windows by age and forgets channels nobody can reach any more. */
  sweep(): void {
    const now = this.clock.nowMs();
    const cutoff = now - this.options.replayWindowMs;
    for (const [clientId, channel] of this.channels) {
      channel.buffer.trimOlderThan(cutoff);
      const keys = channel.idempotency;
      if (keys !== undefined) {
        for (const [key, seen] of keys) {
          if (seen.timeMs >= cutoff) break;
          keys.delete(key);
        }
        if (keys.size === 0) channel.idempotency = undefined;
      }
      if (channel.socketId === undefined && channel.retainUntilMs <= now) this.forget(clientId, channel, TopicLeaveReason.ChannelExpired);
    }
    for (const [name, topic] of this.topics) {
      topic.buffer.trimOlderThan(cutoff);
      if (topic.members.size === 0 && topic.buffer.length === 0) this.topics.delete(name);
    }
    this.roster.sweep((topic) => (this.topics.get(topic)?.members.size ?? 0) > 0, cutoff);
    for (const [clientId, atMs] of this.revocations) {
      if (atMs + REVOCATION_TTL_MS <= now) this.revocations.delete(clientId);
    }
  }
}
