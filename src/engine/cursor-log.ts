/**
 * A bounded in-process log whose entries are named by cursors "<log id>.<n>": the memory engine's
 * presence changes and delivery receipts. A cursor from another log (another process) is not
 * honoured, so a watcher that resumes against a restarted node is told it missed events.
 */
export class CursorLog<T> {
  private entries: T[] = [];
  /** The number of entries[0]. */
  private first = 1;
  private count = 0;

  constructor(
    private readonly id: string,
    private readonly capacity: number,
  ) {}

  /** Appends the entry `make` builds around its cursor, and returns it. */
  append(make: (cursor: string) => T): T {
    this.count++;
    const entry = make(this.cursorOf(this.count));
    this.entries.push(entry);
    const excess = this.entries.length - this.capacity;
    // Trimmed in chunks so the log does not shift on every append.
    if (excess > 0 && excess >= Math.max(1, this.capacity >> 3)) {
      this.entries = this.entries.slice(excess);
      this.first += excess;
    }
    return entry;
  }

  /** Entries after `cursor`, oldest first; undefined when they are no longer all kept. */
  since(cursor: string): T[] | undefined {
    const n = this.parse(cursor);
    if (n === undefined || n > this.count || n < this.first - 1) return undefined;
    return this.entries.slice(n - this.first + 1);
  }

  /** The cursor of the newest entry ("<id>.0" before the first). */
  newest(): string {
    return this.cursorOf(this.count);
  }

  compare(a: string, b: string): number {
    return (this.parse(a) ?? 0) - (this.parse(b) ?? 0);
  }

  private cursorOf(n: number): string {
    return `${this.id}.${n}`;
  }

  private parse(cursor: string): number | undefined {
    const dot = cursor.lastIndexOf('.');
    if (cursor.slice(0, dot) !== this.id) return undefined;
    const n = Number(cursor.slice(dot + 1));
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }
}
