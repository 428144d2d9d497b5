import type { Logger } from 'pino';
import type { TopicPresenceStore } from '../engine/engine.js';
import { ChannelError, ErrorCode } from './errors.js';
import { TopicPresenceKind, type TopicPresenceChange } from './topic-presence.js';
import { PresenceReason, type Topic } from './types.js';

export type TopicPresenceItem =
  | { readonly kind: 'change'; readonly change: TopicPresenceChange }
  | { readonly kind: 'snapshot-complete'; readonly cursor: string; readonly resumeFailed: boolean };

/** A stream to one watcher of a topic (a gRPC server stream). */
export interface TopicPresenceSink {
  /** Returns false when the transport's buffer is full; then wait for onDrain before writing more. */
  write(item: TopicPresenceItem): boolean;
  onDrain(callback: () => void): void;
  /** Ends the stream; with an error when the watcher is being cut off. */
  end(error?: ChannelError): void;
}

export interface TopicWatchRequest {
  readonly topic: Topic;
  readonly snapshot: boolean;
  readonly cursor: string;
}

/**
 * One watcher of one topic: a bounded queue in front of its sink, so a slow watcher never stalls
 * the engine. Past the bound it is cut off with RESOURCE_EXHAUSTED and can resume from its cursor.
 */
export class TopicPresenceWatcher {
  private queue: TopicPresenceItem[] = [];
  private waiting = false;
  private buffering = true;
  private ended = false;
  private lastCursor = '';

  constructor(
    readonly topic: Topic,
    private readonly sink: TopicPresenceSink,
    private readonly maxQueued: number,
    private readonly isAfter: (cursor: string, than: string) => boolean,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** A live change. Held while the start (snapshot or replay) is still being sent. */
  push(change: TopicPresenceChange): void {
    this.enqueue({ kind: 'change', change });
  }

  /** Sends the start of the stream, then the live changes held meanwhile that come after it. */
  begin(items: readonly TopicPresenceItem[], startCursor: string): void {
    const held = this.queue;
    this.queue = [];
    this.buffering = false;
    this.lastCursor = startCursor;
    for (const item of items) this.enqueue(item);
    for (const item of held) {
      if (item.kind === 'change' && this.isAfter(item.change.cursor, startCursor)) this.enqueue(item);
    }
  }

  /** The engine lost changes of this topic: the watcher must start again (its resume says so). */
  lost(): void {
    this.end(
      new ChannelError(
        ErrorCode.Unavailable,
        `topic presence changes of ${JSON.stringify(this.topic)} may have been missed; resume with cursor "${this.lastCursor}"`,
      ),
    );
  }

  end(error?: ChannelError): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.sink.end(error);
  }

  private enqueue(item: TopicPresenceItem): void {
    if (this.ended) return;
    if (this.queue.length >= this.maxQueued) {
      this.end(
        new ChannelError(
          ErrorCode.ResourceExhausted,
          `topic presence watcher fell ${this.maxQueued} events behind and was cut off; resume with cursor "${this.lastCursor}"`,
        ),
      );
      return;
    }
    this.queue.push(item);
    if (!this.buffering && !this.waiting) this.flush();
  }

  private flush(): void {
    let sent = 0;
    while (sent < this.queue.length && !this.ended) {
      const item = this.queue[sent++]!;
      this.lastCursor = item.kind === 'change' ? item.change.cursor : item.cursor;
      if (!this.sink.write(item)) {
        this.waiting = true;
        this.sink.onDrain(() => {
          this.waiting = false;
          this.flush();
        });
        break;
      }
    }
    this.queue = sent === this.queue.length ? [] : this.queue.slice(sent);
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
    const watcher = new TopicPresenceWatcher(topic, sink, this.watcherQueue, (c, than) => this.store.compareTopicPresenceCursors(c, than) > 0);
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
    for (const watcher of set) watcher.push(change);
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
