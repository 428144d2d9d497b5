import type { Logger } from 'pino';
import type { TopicPresenceStore } from '../engine/engine.js';
import { ChannelError, ErrorCode } from './errors.js';
import { TopicPresenceKind, type TopicPresenceChange } from './topic-presence.js';
import { PresenceReason, type Topic } from './types.js';
import { StreamWatcher, totalOrder, type StreamSink } from './stream-watcher.js';

export type TopicPresenceItem =
  | { readonly kind: 'change'; readonly change: TopicPresenceChange }
  | { readonly kind: 'snapshot-complete'; readonly cursor: string; readonly resumeFailed: boolean };

/** A stream to one watcher of a topic (a gRPC server stream). */
export type TopicPresenceSink = StreamSink<TopicPresenceItem>;

export interface TopicWatchRequest {
  readonly topic: Topic;
  readonly snapshot: boolean;
  readonly cursor: string;
}

/** One watcher of one topic (see StreamWatcher for the bounded queue and the cut-off). */
export class TopicPresenceWatcher extends StreamWatcher<TopicPresenceItem> {
  constructor(
    readonly topic: Topic,
    sink: TopicPresenceSink,
    maxQueued: number,
    compare: (a: string, b: string) => number,
  ) {
    super(sink, maxQueued, {
      accepts: (item) => item.kind === 'change',
      cursorOf: (item) => (item.kind === 'change' ? item.change.cursor : item.cursor),
      withCursor: (item, cursor) => (item.kind === 'change' ? { kind: 'change', change: { ...item.change, cursor } } : { ...item, cursor }),
      // One log per topic, in one partition: its cursors are totally ordered.
      order: totalOrder(compare),
      name: 'topic presence watcher',
    });
  }

  /** A live change. Held while the start (snapshot or replay) is still being sent. */
  pushChange(change: TopicPresenceChange): void {
    this.push({ kind: 'change', change });
  }

  /** The engine lost changes of this topic: the watcher must start again (its resume says so). */
  lost(): void {
    this.end(
      new ChannelError(
        ErrorCode.Unavailable,
        `topic presence changes of ${JSON.stringify(this.topic)} may have been missed; resume with cursor "${this.cursor}"`,
      ),
    );
  }
}

/**
 * The topic presence changes this node hears of, passed on to the watchers of each topic. The
 * engine is asked to follow a topic while it has watchers here (a Redis node subscribes to the
 * topic's presence channel only then).
 */
export class TopicPresenceBus {
  private readonly watchers = new Map<Topic, Set<TopicPresenceWatcher>>();
  /** The engine's following of each watched topic, which every watcher of it waits for. */
  private readonly follows = new Map<Topic, Promise<void>>();

  constructor(
    private readonly store: TopicPresenceStore,
    private readonly watcherQueue: number,
    private readonly log: Logger,
  ) {}

  /** Starts a topic presence stream: snapshot or replay first, then live changes. */
  async watch(request: TopicWatchRequest, sink: TopicPresenceSink): Promise<TopicPresenceWatcher> {
    const { topic } = request;
    const watcher = new TopicPresenceWatcher(topic, sink, this.watcherQueue, (a, b) => this.store.compareTopicPresenceCursors(a, b));
    let set = this.watchers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(topic, set);
      this.follows.set(topic, this.store.followTopicPresence(topic));
    }
    // Registered (and followed) first so nothing emitted while the start is read goes missing.
    set.add(watcher);
    try {
      await this.follows.get(topic);
      const replay = request.cursor === '' ? undefined : await this.store.topicPresenceSince(topic, request.cursor);
      if (replay !== undefined) {
        watcher.begin(replay.map((change) => ({ kind: 'change', change })), request.cursor);
      } else if (request.snapshot || request.cursor !== '') {
        const snapshot = await this.store.topicPresenceSnapshot(topic);
        const items: TopicPresenceItem[] = snapshot.members.map((m) => ({
          kind: 'change',
          change: {
            topic,
            clientId: m.clientId,
            kind: TopicPresenceKind.Joined,
            reason: PresenceReason.Snapshot,
            info: m.info,
            timeMs: 0,
            cursor: snapshot.cursor,
            connected: m.connected,
          },
        }));
        items.push({ kind: 'snapshot-complete', cursor: snapshot.cursor, resumeFailed: request.cursor !== '' });
        watcher.begin(items, snapshot.cursor);
      } else {
        // Only the cursor matters here; a snapshot is the one read that gives it atomically.
        watcher.begin([], (await this.store.topicPresenceSnapshot(topic)).cursor);
      }
    } catch (err) {
      this.unwatch(watcher);
      throw err;
    }
    return watcher;
  }

  unwatch(watcher: TopicPresenceWatcher): void {
    const set = this.watchers.get(watcher.topic);
    if (set === undefined || !set.delete(watcher)) return;
    if (set.size > 0) return;
    this.watchers.delete(watcher.topic);
    this.follows.delete(watcher.topic);
    this.store.unfollowTopicPresence(watcher.topic).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, topic: watcher.topic }, 'cannot stop following a topic\'s presence');
    });
  }

  /** Topic presence streams open now. */
  get watcherCount(): number {
    let open = 0;
    for (const set of this.watchers.values()) for (const w of set) if (!w.isEnded) open++;
    return open;
  }

  /** A change reached this node (the engine's onTopicPresence). */
  publish(change: TopicPresenceChange): void {
    const set = this.watchers.get(change.topic);
    if (set === undefined) return;
    for (const watcher of set) watcher.pushChange(change);
  }

  /** The engine's feed of `topic` lost changes (onTopicPresenceGap). */
  gap(topic: Topic): void {
    const set = this.watchers.get(topic);
    if (set === undefined) return;
    for (const watcher of [...set]) {
      watcher.lost();
      this.unwatch(watcher);
    }
  }

  /** Ends every topic presence stream (shutdown). */
  endWatchers(): void {
    for (const set of [...this.watchers.values()]) {
      for (const watcher of [...set]) {
        watcher.end();
        this.unwatch(watcher);
      }
    }
  }
}
