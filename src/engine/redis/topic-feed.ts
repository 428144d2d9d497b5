import type { Logger } from 'pino';
import type { ChannelMessage, Epoch, Topic } from '../../core/types.js';
import type { PartitionAccess } from './partition.js';
import { parseEntries } from './streams.js';

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
  /** Serialises reads of the log so messages leave in seq order; never left rejected. */
  chain: Promise<void>;
  /** A read of the topic's log failed: the feed owes a catch-up, retried until one succeeds. */
  behind: boolean;
  retries: number;
  retry: NodeJS.Timeout | undefined;
}

export interface TopicFeedDeps {
  /** The partition holding a topic. */
  readonly at: (topic: Topic) => PartitionAccess;
  /** Where each topic message goes, once and in seq order. */
  readonly emit: (topic: Topic, epoch: Epoch, message: ChannelMessage) => void;
  readonly log: Logger;
}

const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 5000;

/**
 * The topics this node follows over Redis pub/sub. Pub/sub is at most once, so every message is
 * checked against the last seq passed on: repeats are dropped and gaps filled from the topic's log.
 * A failed read of the log never stops a topic: it is retried (and tried again on every message
 * and every catch-up) until the feed has passed on everything the log holds.
 */
export class TopicFeed {
  private readonly followed = new Map<Topic, FollowedTopic>();

  constructor(private readonly deps: TopicFeedDeps) {}

  async follow(topic: Topic): Promise<void> {
    if (this.followed.has(topic)) return;
    const state: FollowedTopic = { epoch: undefined, last: 0, chain: Promise.resolve(), behind: false, retries: 0, retry: undefined };
    this.followed.set(topic, state);
    const partition = this.deps.at(topic);
    await partition.subscribe(partition.keys.topicChannel(topic));
    // Messages published before the subscription took effect are the sockets' catch-up, not ours.
    try {
      const [epoch, last] = await partition.call((r) => r.hmget(partition.keys.topic(topic), 'e', 'l'));
      if (state.epoch === undefined && epoch !== null) {
        state.epoch = epoch;
        state.last = Number(last ?? 0);
      }
    } catch (err) {
      // The first message (or the next catch-up) tells where the topic stands.
      this.deps.log.warn({ err: (err as Error).message, topic }, 'cannot read where a followed topic stands; its next message tells');
    }
  }

  async unfollow(topic: Topic): Promise<void> {
    const state = this.followed.get(topic);
    if (state === undefined) return;
    this.followed.delete(topic);
    clearTimeout(state.retry);
    const partition = this.deps.at(topic);
    await partition.unsubscribe(partition.keys.topicChannel(topic));
  }

  /** Passes a topic message on once, in order, filling any gap from the topic's log first. */
  receive(wire: TopicWire): void {
    const state = this.followed.get(wire.tp);
    if (state === undefined) return;
    this.enqueue(wire.tp, state, async () => {
      if (state.epoch === undefined) {
        state.epoch = wire.e;
        state.last = wire.s;
        this.pass(wire.tp, wire.e, { seq: wire.s, data: wire.d, timeMs: wire.t });
        return;
      }
      if (!state.behind && state.epoch === wire.e) {
        if (wire.s <= state.last) return;
        if (wire.s === state.last + 1) {
          state.last = wire.s;
          this.pass(wire.tp, wire.e, { seq: wire.s, data: wire.d, timeMs: wire.t });
          return;
        }
      }
      // A gap, a new epoch or a catch-up owed: the log holds this message and every one before it
      // (publish-topic.lua appends before it publishes).
      await this.sync(wire.tp, state);
    });
  }

  /** After the feed was down (of the partitions `which` picks): pass on whatever each followed topic gained meanwhile. */
  catchUp(which: (topic: Topic) => boolean = () => true): void {
    for (const [topic, state] of this.followed) if (which(topic)) this.enqueue(topic, state, () => this.sync(topic, state));
  }

  private enqueue(topic: Topic, state: FollowedTopic, step: () => Promise<void>): void {
    state.chain = state.chain.then(step).catch((err: unknown) => {
      this.deps.log.error({ err, topic }, 'topic feed step failed');
    });
  }

  /** Reads the log past what was passed on and passes it on; on failure, owes it and retries. */
  private async sync(topic: Topic, state: FollowedTopic): Promise<void> {
    if (this.followed.get(topic) !== state) return;
    try {
      let log = await this.readLog(topic, state.last);
      if (log.epoch === undefined) {
        // The topic is gone (expired, or Redis lost it): its next message starts a new epoch.
        this.caughtUp(state);
        return;
      }
      if (state.epoch === undefined) {
        // Where this node started following is unknown: the sockets caught up on their own.
        state.epoch = log.epoch;
        state.last = log.last;
      } else if (log.epoch !== state.epoch) {
        // A new history (Redis came back with other data): pass on all of it that is kept.
        if (state.last !== 0) log = await this.readLog(topic, 0);
        state.epoch = log.epoch ?? state.epoch;
        state.last = 0;
      }
      for (const message of log.messages) {
        if (message.seq <= state.last) continue;
        state.last = message.seq;
        this.pass(topic, state.epoch, message);
      }
      this.caughtUp(state);
    } catch (err) {
      state.behind = true;
      this.deps.log.warn({ err: (err as Error).message, topic, retries: state.retries }, 'cannot read a topic\'s log; retrying');
      this.scheduleRetry(topic, state);
    }
  }

  /** The topic's epoch, last seq and the messages after `after`, read in one transaction. */
  private async readLog(topic: Topic, after: number): Promise<{ epoch: Epoch | undefined; last: number; messages: ChannelMessage[] }> {
    const partition = this.deps.at(topic);
    const results = await partition.call((r) =>
      r.multi().hmget(partition.keys.topic(topic), 'e', 'l').xrange(partition.keys.topicLog(topic), `(0-${after}`, '+').exec(),
    );
    if (results === null) throw new Error('the read of a topic log was aborted');
    const [[headErr, head], [logErr, entries]] = results as [[Error | null, (string | null)[]], [Error | null, unknown]];
    if (headErr !== null) throw headErr;
    if (logErr !== null) throw logErr;
    return { epoch: head[0] ?? undefined, last: Number(head[1] ?? 0), messages: parseEntries(entries) };
  }

  private caughtUp(state: FollowedTopic): void {
    state.behind = false;
    state.retries = 0;
    clearTimeout(state.retry);
    state.retry = undefined;
  }

  private scheduleRetry(topic: Topic, state: FollowedTopic): void {
    if (state.retry !== undefined) return;
    const delay = Math.min(RETRY_FIRST_MS * 2 ** state.retries, RETRY_MAX_MS);
    state.retries++;
    state.retry = setTimeout(() => {
      state.retry = undefined;
      if (this.followed.get(topic) === state && state.behind) this.enqueue(topic, state, () => this.sync(topic, state));
    }, delay);
    state.retry.unref();
  }

  private pass(topic: Topic, epoch: Epoch, message: ChannelMessage): void {
    try {
      this.deps.emit(topic, epoch, message);
    } catch (err) {
      this.deps.log.error({ err, topic, seq: message.seq }, 'passing a topic message on failed');
    }
  }
}
