import type { Logger } from 'pino';
import type { TopicPresenceChange, TopicPresenceKind, TopicPresenceReason } from '../../core/topic-presence.js';
import type { Topic } from '../../core/types.js';
import type { RedisKeys } from './keys.js';
import type { PartitionAccess } from './partition.js';
import { comparePresenceCursors } from './presence-log.js';
import type { Connection } from './streams.js';

/** A topic presence change as presence.lua publishes it on the topic's presence channel. */
export interface TopicPresenceWire {
  tp: Topic;
  c: string;
  k: TopicPresenceKind;
  r: TopicPresenceReason;
  i: string;
  t: number;
  id: string;
  /** The id of the stream entry before this one ('0-0' when none). */
  p: string;
}

type Entries = [string, string[]][];

export interface TopicPresenceFeedDeps {
  /** The partition holding a topic. */
  readonly at: (topic: Topic) => PartitionAccess;
  /** Where each change goes, once and in order. */
  readonly emit: (change: TopicPresenceChange) => void;
  /** Changes of `topic` were missed and cannot be read back. */
  readonly lost: (topic: Topic) => void;
  readonly log: Logger;
}

interface FollowedTopic {
  /** The cursor of the last change passed on; undefined until known. */
  last: string | undefined;
  /** Serialises the steps of one topic so changes leave in order; never left rejected. */
  chain: Promise<void>;
}

function toChange(topic: Topic, id: string, fields: string[]): TopicPresenceChange {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  return {
    topic,
    clientId: f['c']!,
    kind: f['k'] as TopicPresenceKind,
    reason: (f['r'] ?? '') as TopicPresenceReason,
    info: f['i'] ?? '',
    timeMs: Number(f['t']),
    cursor: id,
  };
}

/** A topic's presence changes after `cursor`; undefined when they are no longer all kept. */
export async function readTopicPresenceSince(redis: Connection, keys: RedisKeys, topic: Topic, cursor: string): Promise<TopicPresenceChange[] | undefined> {
  const stream = keys.topicPresenceLog(topic);
  const results = await redis
    .multi()
    .xrange(stream, '-', '+', 'COUNT', 1)
    .xrevrange(stream, '+', '-', 'COUNT', 1)
    .xrange(stream, `(${cursor}`, '+')
    .exec();
  if (results === null) throw new Error('the read of a topic presence log was aborted');
  const [[, first], [, last], [, entries]] = results as [[Error | null, Entries], [Error | null, Entries], [Error | null, Entries]];
  const oldest = first[0]?.[0] ?? '0-0';
  const newest = last[0]?.[0] ?? '0-0';
  // The cursor's own change must still be kept (or nothing was ever written), and not be from the future.
  if (comparePresenceCursors(cursor, newest) > 0) return undefined;
  if (cursor !== '0-0' && comparePresenceCursors(cursor, oldest) < 0) return undefined;
  if (cursor === '0-0' && oldest !== '0-0' && entries.length > 0 && entries[0]![0] !== oldest) return undefined;
  return entries.map(([id, fields]) => toChange(topic, id, fields));
}

/**
 * The topics whose presence this node follows over Redis pub/sub (only while it has watchers of
 * them). Pub/sub is at most once, so each change names the one before it: a change that does not
 * follow the last one passed on makes the feed read the gap from the topic's stream, and a gap the
 * stream no longer holds is reported (lost) rather than passed over.
 */
export class TopicPresenceFeed {
  private readonly followed = new Map<Topic, FollowedTopic>();

  constructor(private readonly deps: TopicPresenceFeedDeps) {}

  async follow(topic: Topic): Promise<void> {
    if (this.followed.has(topic)) return;
    const state: FollowedTopic = { last: undefined, chain: Promise.resolve() };
    this.followed.set(topic, state);
    const partition = this.deps.at(topic);
    await partition.subscribe(partition.keys.topicPresenceChannel(topic));
    // Changes from here on arrive over pub/sub; where the stream stands is where to go on from.
    const latest = await partition.call((r) => r.xrevrange(partition.keys.topicPresenceLog(topic), '+', '-', 'COUNT', 1));
    if (state.last === undefined) state.last = latest[0]?.[0] ?? '0-0';
  }

  async unfollow(topic: Topic): Promise<void> {
    if (!this.followed.delete(topic)) return;
    const partition = this.deps.at(topic);
    await partition.unsubscribe(partition.keys.topicPresenceChannel(topic));
  }

  receive(wire: TopicPresenceWire): void {
    const state = this.followed.get(wire.tp);
    if (state === undefined) return;
    this.enqueue(wire.tp, state, async () => {
      if (state.last === undefined) {
        state.last = wire.id;
        this.pass({ topic: wire.tp, clientId: wire.c, kind: wire.k, reason: wire.r, info: wire.i, timeMs: wire.t, cursor: wire.id });
        return;
      }
      if (comparePresenceCursors(wire.id, state.last) <= 0) return;
      if (wire.p === state.last) {
        state.last = wire.id;
        this.pass({ topic: wire.tp, clientId: wire.c, kind: wire.k, reason: wire.r, info: wire.i, timeMs: wire.t, cursor: wire.id });
        return;
      }
      await this.sync(wire.tp, state);
    });
  }

  /** After the feed was down (of the partitions `which` picks): pass on whatever each followed topic gained meanwhile. */
  catchUp(which: (topic: Topic) => boolean = () => true): void {
    for (const [topic, state] of this.followed) if (which(topic)) this.enqueue(topic, state, () => this.sync(topic, state));
  }

  private enqueue(topic: Topic, state: FollowedTopic, step: () => Promise<void>): void {
    state.chain = state.chain.then(step).catch((err: unknown) => {
      this.deps.log.warn({ err: (err as Error).message, topic }, 'cannot read a topic\'s presence log: its watchers start again');
      this.lose(topic, state);
    });
  }

  private async sync(topic: Topic, state: FollowedTopic): Promise<void> {
    if (this.followed.get(topic) !== state || state.last === undefined) return;
    const partition = this.deps.at(topic);
    const changes = await partition.call((r) => readTopicPresenceSince(r, partition.keys, topic, state.last!));
    if (changes === undefined) {
      this.lose(topic, state);
      return;
    }
    for (const change of changes) {
      if (this.followed.get(topic) !== state) return;
      state.last = change.cursor;
      this.pass(change);
    }
  }

  /** The watchers are told; the feed goes on from wherever the next change says. */
  private lose(topic: Topic, state: FollowedTopic): void {
    if (this.followed.get(topic) !== state) return;
    state.last = undefined;
    try {
      this.deps.lost(topic);
    } catch (err) {
      this.deps.log.error({ err, topic }, 'telling topic presence watchers of a gap failed');
    }
  }

  private pass(change: TopicPresenceChange): void {
    try {
      this.deps.emit(change);
    } catch (err) {
      this.deps.log.error({ err, topic: change.topic }, 'passing a topic presence change on failed');
    }
  }
}
