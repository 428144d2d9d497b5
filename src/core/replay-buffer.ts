import type { ChannelMessage } from './types.js';

/** Slots a ring starts with once its first message comes; it doubles up to its capacity. */
const FIRST_SLOTS = 8;
/** Bytes the first message's arena gets at least. */
const FIRST_ARENA_BYTES = 256;
/** Numbers kept per slot in `slots`: the message's time, where its bytes start, how many there are. */
const SLOT_FIELDS = 3;

/**
 * The bounded history of one channel: the last `capacity` messages, in a ring. Seqs are
 * consecutive; the buffer knows the last seq ever appended even when the messages themselves have
 * been trimmed.
 *
 * Kept messages are not JavaScript objects: each one's UTF-8 bytes sit in one arena per buffer (a
 * Buffer, outside the V8 heap) and its time and place in a Float64Array ring. A history kept as
 * objects was what the garbage collector spent its time on: every message outlived the young
 * generation (it is kept for the replay window), so each was copied by two scavenges, promoted,
 * and then marked by every full collection — at 2,000 messages/s that made 2–5 ms scavenges and
 * 12–37 ms mark-compacts, most of the p99. Here a message appended costs a memcpy, the GC sees one
 * arena per channel whatever it holds, and messages are decoded back into objects only when a
 * history is read (a reconnect). Both the ring and the arena grow by doubling as messages come, so
 * a channel that holds few messages (most of them) pays for few; an emptied buffer gives its
 * memory back.
 */
export class ReplayBuffer {
  private slots: Float64Array | undefined;
  private arena: Buffer | undefined;
  private head = 0; // slot of the oldest kept message
  private size = 0;
  private last = 0;
  /** Arena offset just past the newest kept message's bytes. */
  private arenaEnd = 0;

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

  /** Appends with the next seq and returns the message (the same `data` string, for delivery). */
  append(data: string, timeMs: number): ChannelMessage {
    const seq = this.last + 1;
    let slots = this.slots;
    if (slots === undefined || (this.size === slots.length / SLOT_FIELDS && slots.length / SLOT_FIELDS < this.capacity)) {
      slots = this.growSlots();
    }
    const slotCount = slots.length / SLOT_FIELDS;
    if (this.size === slotCount) {
      // Full: the oldest message leaves to make room.
      this.head = (this.head + 1) % slotCount;
      this.size--;
    }
    // Room for the longest UTF-8 the data can have (3 bytes per UTF-16 unit), so the bytes are
    // written in one pass without measuring them first.
    const start = this.reserve(data.length * 3);
    const dataBytes = this.arena!.write(data, start, 'utf8');
    const at = ((this.head + this.size) % slotCount) * SLOT_FIELDS;
    slots[at] = timeMs;
    slots[at + 1] = start;
    slots[at + 2] = dataBytes;
    this.size++;
    this.arenaEnd = start + dataBytes;
    this.last = seq;
    return { seq, data, timeMs };
  }

  /** Drops messages sent before `cutoffMs`. */
  trimOlderThan(cutoffMs: number): void {
    const slots = this.slots;
    if (slots === undefined) return;
    const slotCount = slots.length / SLOT_FIELDS;
    while (this.size > 0 && slots[this.head * SLOT_FIELDS]! < cutoffMs) {
      this.head = (this.head + 1) % slotCount;
      this.size--;
    }
    if (this.size === 0) this.release();
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
    const slots = this.slots;
    const arena = this.arena;
    if (slots === undefined || arena === undefined) return out;
    const slotCount = slots.length / SLOT_FIELDS;
    const first = this.firstSeq;
    for (let i = skip; i < this.size; i++) {
      const at = ((this.head + i) % slotCount) * SLOT_FIELDS;
      const start = slots[at + 1]!;
      out.push({ seq: first + i, data: arena.toString('utf8', start, start + slots[at + 2]!), timeMs: slots[at]! });
    }
    return out;
  }

  /** Doubles the ring (up to capacity), oldest message first. */
  private growSlots(): Float64Array {
    const old = this.slots;
    const oldCount = old === undefined ? 0 : old.length / SLOT_FIELDS;
    const count = Math.min(this.capacity, Math.max(FIRST_SLOTS, oldCount * 2));
    const grown = new Float64Array(count * SLOT_FIELDS);
    for (let i = 0; i < this.size; i++) {
      const from = ((this.head + i) % oldCount) * SLOT_FIELDS;
      for (let f = 0; f < SLOT_FIELDS; f++) grown[i * SLOT_FIELDS + f] = old![from + f]!;
    }
    this.slots = grown;
    this.head = 0;
    return grown;
  }

  /**
   * Where the next message's `bytes` go. The kept bytes are one run in the arena, oldest first;
   * when the end is reached the run moves to the front of the same arena if that leaves a quarter
   * of it free, else to a new arena half as large again as what it must hold (smaller, too, once
   * most of the run has been trimmed), so each byte is moved a bounded number of times on average.
   */
  private reserve(bytes: number): number {
    const arena = this.arena;
    if (arena !== undefined && this.arenaEnd + bytes <= arena.length) return this.arenaEnd;
    const slots = this.slots!;
    const slotCount = slots.length / SLOT_FIELDS;
    const liveStart = this.size === 0 ? this.arenaEnd : slots[this.head * SLOT_FIELDS + 1]!;
    const live = this.arenaEnd - liveStart;
    const need = live + bytes;
    const fitted = Math.max(FIRST_ARENA_BYTES, Math.ceil((need * 1.5) / 64) * 64);
    const reuse = arena !== undefined && need * 4 <= arena.length * 3 && fitted * 2 > arena.length;
    const target = reuse ? arena : Buffer.allocUnsafeSlow(fitted);
    if (live > 0) arena!.copy(target, 0, liveStart, this.arenaEnd);
    for (let i = 0; i < this.size; i++) slots[((this.head + i) % slotCount) * SLOT_FIELDS + 1]! -= liveStart;
    this.arena = target;
    this.arenaEnd = live;
    return live;
  }

  /** An empty buffer keeps no memory but what it needs to go on counting seqs. */
  private release(): void {
    this.slots = undefined;
    this.arena = undefined;
    this.head = 0;
    this.arenaEnd = 0;
  }
}
