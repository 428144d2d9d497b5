import { StreamWatcher, type CursorOrder, type StreamSink } from './stream-watcher.js';
import { PresenceReason, PresenceState, type ClientId, type PresenceChange } from './types.js';

/** Which client ids a watcher wants; both empty means all. */
export interface PresenceFilter {
  readonly clientIds: ReadonlySet<ClientId>;
  readonly prefix: string;
}

export type PresenceItem =
  | { readonly kind: 'change'; readonly change: PresenceChange }
  | { readonly kind: 'snapshot-complete'; readonly cursor: string; readonly resumeFailed: boolean };

/** A stream to one presence watcher (a gRPC server stream, a demo SSE response). */
export type PresenceSink = StreamSink<PresenceItem>;

export function matches(filter: PresenceFilter, clientId: ClientId): boolean {
  if (filter.clientIds.size > 0 && !filter.clientIds.has(clientId)) return false;
  return clientId.startsWith(filter.prefix);
}

function cursorOf(item: PresenceItem): string {
  return item.kind === 'change' ? item.change.cursor : item.cursor;
}

/** One presence watcher: live changes pass its filter (see StreamWatcher for the queue). */
export class PresenceWatcher extends StreamWatcher<PresenceItem> {
  constructor(
    readonly filter: PresenceFilter,
    sink: PresenceSink,
    maxQueued: number,
    order: CursorOrder,
  ) {
    super(sink, maxQueued, {
      accepts: (item) => item.kind === 'change' && matches(filter, item.change.clientId),
      cursorOf,
      withCursor: (item, cursor) => (item.kind === 'change' ? { kind: 'change', change: { ...item.change, cursor } } : { ...item, cursor }),
      order,
      name: 'presence watcher',
    });
  }

  /** A live change. */
  pushChange(change: PresenceChange): void {
    this.push({ kind: 'change', change });
  }
}

export function snapshotItems(
  clients: readonly { clientId: ClientId; sinceMs?: number }[],
  filter: PresenceFilter,
  cursor: string,
): PresenceItem[] {
  return clients
    .filter((c) => matches(filter, c.clientId))
    .map((c) => ({
      kind: 'change' as const,
      change: {
        clientId: c.clientId,
        state: PresenceState.Connected,
        reason: PresenceReason.Snapshot,
        timeMs: c.sinceMs ?? 0,
        cursor,
      },
    }));
}
