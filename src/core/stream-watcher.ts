import { ChannelError, ErrorCode } from './errors.js';

/** A stream to one watcher (a gRPC server stream, an HTTP event stream). */
export interface StreamSink<Item> {
  /** Returns false when the transport's buffer is full; then wait for onDrain before writing more. */
  write(item: Item): boolean;
  onDrain(callback: () => void): void;
  /** Ends the stream; with an error when the watcher is being cut off. */
  end(error?: ChannelError): void;
}

/**
 * How an engine's cursors relate. An event's cursor may say only where the event stands in its
 * own part of the log (the sharded Redis engine keeps one log per partition); a watcher's cursor
 * says where it stands in every part, so it is merged from the events it has been sent.
 */
export interface CursorOrder {
  /** Whether the event at `cursor` comes after what `than` (a watcher's cursor) includes. */
  isAfter(cursor: string, than: string): boolean;
  /** The cursor of a watcher at `cursor` that has also been sent the event at `next`. */
  merge(cursor: string, next: string): string;
}

/** A cursor order for one log whose events reach a watcher in order: the newest event's cursor says it all. */
export function totalOrder(compare: (a: string, b: string) => number): CursorOrder {
  return {
    isAfter: (cursor, than) => compare(cursor, than) > 0,
    merge: (_cursor, next) => next,
  };
}

/** What a kind of watch decides about its items. */
export interface WatchRules<Item> {
  /** Whether a live item is for this watcher (its filter). */
  accepts(item: Item): boolean;
  /** The cursor a watcher resumes from after `item`. */
  cursorOf(item: Item): string;
  /** `item` as sent to a watcher whose cursor is then `cursor` (see CursorOrder). */
  withCursor(item: Item, cursor: string): Item;
  readonly order: CursorOrder;
  /** Names the watch in the cut-off message, e.g. "presence watcher". */
  readonly name: string;
}

/**
 * One watcher of a resumable event stream (presence, delivery receipts): a bounded queue in front
 * of its sink, so a slow watcher never stalls the code that emits events (and so never stalls
 * message delivery). Past the bound the watcher is cut off with RESOURCE_EXHAUSTED and can resume
 * from its last cursor.
 */
export class StreamWatcher<Item> {
  private queue: Item[] = [];
  private waiting = false;
  private buffering = true;
  private ended = false;
  private lastCursor = '';
  /** The watcher's cursor once everything queued is sent: what later events are merged into. */
  private tailCursor = '';

  constructor(
    private readonly sink: StreamSink<Item>,
    private readonly maxQueued: number,
    private readonly rules: WatchRules<Item>,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** The cursor of the last item handed to the sink (or of the start). */
  get cursor(): string {
    return this.lastCursor;
  }

  /** A live item. Held while the start (snapshot or replay) is still being sent. */
  push(item: Item): void {
    if (this.ended || !this.rules.accepts(item)) return;
    if (this.buffering) {
      // Held as it came: begin() orders the held items against the start.
      this.enqueue(item, undefined);
      return;
    }
    const merged = this.mergedWith(item);
    // One the start already held: written before the snapshot or replay was read, its live copy
    // came later (pub/sub and commands travel apart). It adds nothing to the cursor: a repeat.
    if (merged === this.tailCursor) return;
    this.enqueue(item, merged);
  }

  /** Whether the start of the stream (snapshot or replay) has been sent. */
  get started(): boolean {
    return !this.buffering;
  }

  /**
   * Holds live items again, while what may have been missed since `cursor` is read back; then
   * begin() sends that and the held items that come after it, each once.
   */
  hold(): void {
    if (!this.ended) this.buffering = true;
  }

  /** Sends the start of the stream, then the live items held meanwhile that come after it. */
  begin(items: readonly Item[], startCursor: string): void {
    const held = this.queue;
    this.queue = [];
    this.buffering = false;
    this.lastCursor = startCursor;
    this.tailCursor = startCursor;
    for (const item of items) this.enqueue(item, this.mergedWith(item));
    // Against what the start included, replayed items and all.
    const included = this.tailCursor;
    for (const item of held) {
      if (this.rules.order.isAfter(this.rules.cursorOf(item), included)) this.enqueue(item, this.mergedWith(item));
    }
  }

  end(error?: ChannelError): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.sink.end(error);
  }

  /** The watcher's cursor once `item` is sent too. */
  private mergedWith(item: Item): string {
    const own = this.rules.cursorOf(item);
    return this.tailCursor === '' ? own : this.rules.order.merge(this.tailCursor, own);
  }

  /** Queues `item`; with `merged` (not while holding), stamped with the watcher's cursor after it. */
  private enqueue(item: Item, merged: string | undefined): void {
    if (this.ended) return;
    if (merged !== undefined) {
      if (merged !== this.rules.cursorOf(item)) item = this.rules.withCursor(item, merged);
      this.tailCursor = merged;
    }
    if (this.queue.length >= this.maxQueued) {
      this.end(
        new ChannelError(
          ErrorCode.ResourceExhausted,
          `${this.rules.name} fell ${this.maxQueued} events behind and was cut off; resume with cursor "${this.lastCursor}"`,
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
      this.lastCursor = this.rules.cursorOf(item);
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
