import type { ChannelMessage } from './types.js';

/**
 * The bounded history of one channel: the last `capacity` messages, pre-sized as a ring so that
 * appending never allocates. Seqs are consecutive; the buffer knows the last seq ever appended even
 * when the messages themselves have been trimmed.
 */
export class ReplayBuffer {
  private readonly ring: (ChannelMessage | undefined)[];
  private head = 0; // index of the oldest kept message
  private size = 0;
  private last = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
    this.ring = new Array<ChannelMessage | undefined>(capacity);
  }

  /** Seq of the last message ever appended (0 before the first). */
  get lastSeq(): number {
    return this.last;
  }

  get length(): number {
    return this.size;
  }

  /** Seq of the oldest message still kept; lastSeq + 1 when empty. */
  get firstSeq(): number {
    return this.last - this.size + 1;
  }

  /** Appends with the next seq and returns the stored message. */
  append(data: string, timeMs: number): ChannelMessage {
    const message: ChannelMessage = { seq: this.last + 1, data, timeMs };
    const tail = (this.head + this.size) % this.capacity;
    this.ring[tail] = message;
    if (this.size === this.capacity) this.head = (this.head + 1) % this.capacity;
    else this.size++;
    this.last = message.seq;
    return message;
  }

  /** Drops messages sent before `cutoffMs`. */
  trimOlderThan(cutoffMs: number): void {
    while (this.size > 0) {
      const oldest = this.ring[this.head]!;
      if (oldest.timeMs >= cutoffMs) return;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
  }

  /**
   * Messages with seq > `afterSeq`, oldest first. `complete` is false when some of them were
   * already trimmed (or `afterSeq` lies beyond lastSeq, i.e. belongs to another history).
   */
  after(afterSeq: number): { messages: ChannelMessage[]; complete: boolean } {
    if (afterSeq > this.last) return { messages: this.slice(0), complete: false };
    const skip = Math.max(0, afterSeq - this.firstSeq + 1);
    return { messages: this.slice(skip), complete: afterSeq + 1 >= this.firstSeq };
  }

  private slice(skip: number): ChannelMessage[] {
    const out: ChannelMessage[] = [];
    for (let i = skip; i < this.size; i++) out.push(this.ring[(this.head + i) % this.capacity]!);
    return out;
  }
}
