import type { PresenceStore } from '../engine/engine.js';
import { matches, PresenceWatcher, snapshotItems, type PresenceFilter, type PresenceItem, type PresenceSink } from './presence-feed.js';
import { catchUpWatchers } from './watch-catch-up.js';
import type { PresenceChange } from './types.js';

export interface WatchRequest {
  readonly filter: PresenceFilter;
  readonly snapshot: boolean;
  readonly cursor: string;
}

/**
 * Every presence change this node hears of, passed on in order to its watchers (gRPC streams,
 * each behind a bounded queue) and in-process listeners (the demo page, webhooks).
 */
export class PresenceBus {
  private readonly watchers = new Set<PresenceWatcher>();
  private readonly listeners = new Set<(change: PresenceChange) => void>();

  constructor(
    private readonly store: PresenceStore,
    private readonly watcherQueue: number,
  ) {}

  /** Starts a presence stream: snapshot or replay first, then live changes. */
  async watch(request: WatchRequest, sink: PresenceSink): Promise<PresenceWatcher> {
    const order = { isAfter: (cursor: string, than: string) => this.store.compareCursors(cursor, than) > 0, merge: (cursor: string, next: string) => this.store.mergeCursors(cursor, next) };
    const watcher = new PresenceWatcher(request.filter, sink, this.watcherQueue, order);
    // Registered first so nothing emitted while the start is read goes missing.
    this.watchers.add(watcher);
    try {
      const replay = request.cursor === '' ? undefined : await this.store.presenceSince(request.cursor);
      if (replay !== undefined) {
        // Replayed changes pass the same filter as live ones.
        const items: PresenceItem[] = replay
          .filter((change) => matches(request.filter, change.clientId))
          .map((change) => ({ kind: 'change', change }));
        watcher.begin(items, request.cursor);
      } else if (request.snapshot || request.cursor !== '') {
        const snapshot = await this.store.presenceSnapshot();
        const items = snapshotItems(snapshot.clients, request.filter, snapshot.cursor);
        items.push({ kind: 'snapshot-complete', cursor: snapshot.cursor, resumeFailed: request.cursor !== '' });
        watcher.begin(items, snapshot.cursor);
      } else {
        watcher.begin([], (await this.store.presenceSnapshot()).cursor);
      }
    } catch (err) {
      this.watchers.delete(watcher);
      throw err;
    }
    return watcher;
  }

  /** Presence streams open now (metrics). */
  get watcherCount(): number {
    let open = 0;
    for (const watcher of this.watchers) if (!watcher.isEnded) open++;
    return open;
  }

  unwatch(watcher: PresenceWatcher): void {
    this.watchers.delete(watcher);
  }

  /** For in-process listeners: every presence change, in order. Returns the unsubscribe. */
  onPresenceChange(listener: (change: PresenceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A change reached this node (the engine's onPresence). */
  publish(change: PresenceChange): void {
    for (const watcher of this.watchers) {
      if (watcher.isEnded) this.watchers.delete(watcher);
      else watcher.pushChange(change);
    }
    for (const listener of this.listeners) listener(change);
  }

  /**
   * The engine's feed may have lost changes (it reconnected): every watcher catches up from the
   * presence log after its cursor (see catchUpWatchers); in-process listeners are not replayed.
   */
  resync(): void {
    catchUpWatchers(
      this.watchers,
      (cursor) => this.store.presenceSince(cursor),
      (watcher, changes) =>
        changes.filter((change) => matches((watcher as PresenceWatcher).filter, change.clientId)).map((change): PresenceItem => ({ kind: 'change', change })),
      'presence changes',
    );
  }

  /** Ends every presence stream (shutdown). */
  endWatchers(): void {
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }
}
