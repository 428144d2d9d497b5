/**
 * Cursors of the logs that exist once per partition (presence, delivery receipts). An event's own
 * cursor names its partition and its stream id there ("3:1733140000000-0"); a watcher's cursor
 * lists, per partition, the last stream id it has been sent ("0:…,3:…", partitions at "0-0" left
 * out), so it resumes every partition from where it was. With one partition a cursor is the
 * stream id alone, as before partitions existed.
 */
export class CursorVectors {
  constructor(readonly partitions: number) {}

  /** The cursor of the event at `id` in `partition`'s stream. */
  event(partition: number, id: string): string {
    return this.partitions === 1 ? id : `${partition}:${id}`;
  }

  /** One stream id per partition ("0-0" where the cursor says nothing); undefined when it is not a cursor of this layout. */
  parse(cursor: string): string[] | undefined {
    const ids = new Array<string>(this.partitions).fill('0-0');
    if (this.partitions === 1) {
      if (!STREAM_ID.test(cursor)) return undefined;
      ids[0] = cursor;
      return ids;
    }
    for (const part of cursor.split(',')) {
      const match = /^(\d+):(\d+-\d+)$/.exec(part);
      if (match === null) return undefined;
      const partition = Number(match[1]);
      if (partition >= this.partitions) return undefined;
      ids[partition] = match[2]!;
    }
    return ids;
  }

  format(ids: readonly string[]): string {
    if (this.partitions === 1) return ids[0]!;
    const parts: string[] = [];
    ids.forEach((id, partition) => {
      if (id !== '0-0') parts.push(`${partition}:${id}`);
    });
    return parts.length === 0 ? '0:0-0' : parts.join(',');
  }

  /** Positive when `a` has a partition past `b`'s, 0 when they are alike, negative otherwise. */
  compare(a: string, b: string): number {
    const x = this.parse(a) ?? this.zero();
    const y = this.parse(b) ?? this.zero();
    let earlier = false;
    for (let i = 0; i < this.partitions; i++) {
      const order = compareStreamIds(x[i]!, y[i]!);
      if (order > 0) return 1;
      if (order < 0) earlier = true;
    }
    return earlier ? -1 : 0;
  }

  /** Each partition's later id. */
  merge(a: string, b: string): string {
    const x = this.parse(a);
    const y = this.parse(b);
    if (x === undefined) return b;
    if (y === undefined) return a;
    return this.format(x.map((id, i) => (compareStreamIds(y[i]!, id) > 0 ? y[i]! : id)));
  }

  private zero(): string[] {
    return new Array<string>(this.partitions).fill('0-0');
  }
}

const STREAM_ID = /^\d+-\d+$/;

/** Orders two stream ids ("<ms>-<seq>"): negative when `a` is earlier. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
