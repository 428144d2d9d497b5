import { ChannelError, ErrorCode } from './errors.js';
import { PresenceReason, PresenceState, type ClientId, type PresenceChange } from './types.js';

/** Which client ids a watcher wants; both empty means all. */
export interface PresenceFilter {
  readonly clientIds: ReadonlySet<ClientId>;
  readonly prefix: string;
}

export type PresenceItem =
  | { readonly kind: 'change'; readonly change: PresenceChange }
  | { readonly kind: 'snapshot-complete'; readonly cursor: string; readonly resumeFailed: boolean };

/** A stream to one watcher (a gRPC server stream, a demo SSE response). */
export interface PresenceSink {
  /** Returns false when the transport's buffer is full; then wait for onDrain before writing more. */
  write(item: PresenceItem): boolean;
  onDrain(callback: () => void): void;
  /** Ends the stream; with an error when the watcher is being cut off. */
  end(error?: ChannelError): void;
}

export function matches(filter: PresenceFilter, clientId: ClientId): boolean {
  if (filter.clientIds.size > 0 && !filter.clientIds.has(clientId)) return false;
  return clientId.startsWith(filter.prefix);
}

/**
 * One watcher: a bounded queue in front of its sink, so a slow watcher never stalls the code that
 * emits presence (and so never stalls message delivery). Past the bound the watcher is cut off
 * with RESOURCE_EXHAUSTED and can resume from its last cursor.
 */
export class PresenceWatcher {
  private queue: PresenceItem[] = [];
  private waiting = false;
  private buffering = true;
  private ended = false;
  private lastCursor = '';

  constructor(
    readonly filter: PresenceFilter,
    private readonly sink: PresenceSink,
    private readonly maxQueued: number,
    private readonly isAfter: (cursor: string, than: string) => boolean,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** A live change. Held while the start (snapshot or replay) is still being sent. */
  push(change: PresenceChange): void {
    if (this.ended || !matches(this.filter, change.clientId)) return;
    this.enqueue({ kind: 'change', change });
  }

  /** Sends the start of the stream, then the live changes held meanwhile that come after it. */
  begin(items: readonly PresenceItem[], startCursor: string): void {
    const held = this.queue;
    this.queue = [];
    this.buffering = false;
    this.lastCursor = startCursor;
    for (const item of items) this.enqueue(item);
    for (const item of held) {
      if (item.kind === 'change' && this.isAfter(item.change.cursor, startCursor)) this.enqueue(item);
    }
  }

  end(error?: ChannelError): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.sink.end(error);
  }

  private enqueue(item: PresenceItem): void {
    if (this.ended) return;
    if (this.queue.length >= this.maxQueued) {
      this.end(
        new ChannelError(
          ErrorCode.ResourceExhausted,
          `presence watcher fell ${this.maxQueued} events behind and was cut off; resume with cursor "${this.lastCursor}"`,
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
      if (item.kind === 'change') this.lastCursor = item.change.cursor;
      else this.lastCursor = item.cursor;
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
