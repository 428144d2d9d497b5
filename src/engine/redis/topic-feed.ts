import type { Logger } from 'pino';
import type { ChannelMessage, Epoch, Topic } from '../../core/types.js';
import type { RedisKeys } from './keys.js';
import { parseEntries, type Connection } from './streams.js';

/** A topic message as publish-topic.lua sends it on the topic's pub/sub channel. */
export interface TopicWire {
  tp: Topic;
  e: Epoch;
  s: number;
  t: number;
  d: string;
}

/** What this node last passed on for a followed topic, to drop repeats and fill gaps. */
interface FollowedTopic {
  epoch: Epoch | undefined;
  last: number;
  /** Serialises gap fills so messages leave in seq order. */
  chain: Promise<void>;
}

export interface TopicFeedDeps {
  readonly keys: RedisKeys;
  readonly subscriber: () => Connection;
  readonly call: <T>(fn: (redis: Connection) => Promise<T>) => Promise<T>;
  /** Where each topic message goes, once and in seq order. */
  readonly emit: (topic: Topic, epoch: Epoch, message: ChannelMessage) => void;
  readonly log: Logger;
}

/**
 * The topics this node follows over Redis pub/sub. Pub/sub is at most once, so every message is
 * checked against the last seq passed on: repeats are dropped and gaps filled from the topic's log.
 */
export class TopicFeed {
  private readonly followed = new Map<Topic, FollowedTopic>();

  constructor(private readonly deps: TopicFeedDeps) {}

  async follow(topic: Topic): Promise<void> {
    if (this.followed.has(topic)) return;
    const state: FollowedTopic = { epoch: undefined, last: 0, chain: Promise.resolve() };
    this.followed.set(topic, state);
    await this.deps.subscriber().subscribe(this.deps.keys.topicChannel(topic));
    // Messages published before the subscription took effect are the sockets' catch-up, not ours.
    const [epoch, last] = await this.deps.call((r) => r.hmget(this.deps.keys.topic(topic), 'e', 'l'));
    if (state.epoch === undefined) {
      state.epoch = epoch ?? undefined;
      state.last = Number(last ?? 0);
    }
  }

  async unfollow(topic: Topic): Promise<void> {
    if (!this.followed.delete(topic)) return;
    await this.deps.subscriber().unsubscribe(this.deps.keys.topicChannel(topic));
  }

  /** Passes a topic message on once, in order, filling any gap from the topic's history first. */
  receive(wire: TopicWire): void {
    const state = this.followed.get(wire.tp);
    if (state === undefined) return;
    state.chain = state.chain.then(async () => {
      if (state.epoch === wire.e && wire.s <= state.last) return;
      if (state.epoch === wire.e && wire.s > state.last + 1) await this.fillTopic(wire.tp, state, wire.s - 1);
      state.epoch = wire.e;
      state.last = wire.s;
      this.deps.emit(wire.tp, wire.e, { seq: wire.s, data: wire.d, timeMs: wire.t });
    });
  }

  private catchUpTopic(topic: Topic): void {
    const state = this.followed.get(topic);
    if (state === undefined) return;
    state.chain = state.chain.then(async () => {
      const last = Number((await this.deps.call((r) => r.hget(this.deps.keys.topic(topic), 'l'))) ?? 0);
      if (last > state.last) await this.fillTopic(topic, state, last);
    });
  }

  private async fillTopic(topic: Topic, state: FollowedTopic, upTo: number): Promise<void> {
    try {
      const entries = await this.deps.call((r) => r.xrange(this.deps.keys.topicLog(topic), `(0-${state.last}`, `0-${upTo}`));
      for (const message of parseEntries(entries)) {
        state.last = message.seq;
        if (state.epoch !== undefined) this.deps.emit(topic, state.epoch, message);
      }
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, topic }, 'cannot fill a topic gap; sockets resume it on reconnect');
    }
  }

  /** After the feed was down: pass on whatever each followed topic gained meanwhile. */
  catchUp(): void {
    for (const topic of this.followed.keys()) this.catchUpTopic(topic);
  }
}
