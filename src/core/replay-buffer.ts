import type { ChannelMessage } from './types.js';

/** Slots a ring starts with once its first message comes; it doubles up to its capacity. */
const FIRST_SLOTS = 8;

/**
 * The bounded history of one channel: the last `capacity` messages, in a ring. The ring grows by
 * doubling as messages come, so a channel that holds few messages (most of them) does not pay for
 * `capacity` slots — a full-size ring was 4 KB of every channel minted. Seqs are consecutive; the
 * buffer knows the last seq ever appended even when the messages themselves have been trimmed.
 */
export class ReplayBuffer {
  private ring: (ChannelMessage | undefined)[] = [];
  private head = 0; // index of the oldest kept message
  private size = 0;
  private last = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
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
    if (this.size === this.ring.length && this.ring.length < this.capacity) this.grow();
    const slots = this.ring.length;
    this.ring[(this.head + this.size) % slots] = message;
    if (this.size === slots) this.head = (this.head + 1) % slots;
    else this.size++;
    this.last = message.seq;
    return message;
  }

  /** Doubles the ring (up to capacity), oldest message first. */
  private grow(): void {
    const grown = new Array<ChannelMessage | undefined>(Math.min(this.capacity, Math.max(FIRST_SLOTS, this.ring.length * 2)));
    for (let i = 0; i < this.size; i++) grown[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = grown;
    this.head = 0;
  }

  /** Drops messages sent before `cutoffMs`. */
  trimOlderThan(cutoffMs: number): void {
    while (this.size > 0) {
      const oldest = this.ring[this.head]!;
      if (oldest.timeMs >= cutoffMs) return;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
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
    for (let i = skip; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }
}
