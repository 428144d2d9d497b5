import type { PresenceChange, PresenceReason, PresenceState } from '../../core/types.js';
import type { PresenceSnapshot } from '../engine.js';
import type { RedisKeys } from './keys.js';
import type { Connection } from './streams.js';

type Entries = [string, string[]][];

function parseCursor(cursor: string): [bigint, bigint] | undefined {
  const match = /^(\d+)-(\d+)$/.exec(cursor);
  return match === null ? undefined : [BigInt(match[1]!), BigInt(match[2]!)];
}

/** Whether `cursor` is a presence stream id, the only cursors this engine makes. */
export function isPresenceCursor(cursor: string): boolean {
  return parseCursor(cursor) !== undefined;
}

/** Orders two presence stream ids: negative when `a` is earlier. */
export function comparePresenceCursors(a: string, b: string): number {
  const x = parseCursor(a) ?? [0n, 0n];
  const y = parseCursor(b) ?? [0n, 0n];
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1;
}

/** Who is connected, with the cursor of the last change included. */
export async function readPresenceSnapshot(redis: Connection, keys: RedisKeys): Promise<PresenceSnapshot> {
  // One transaction, so no change falls between the cursor and the list.
  const results = await redis.multi().xrevrange(keys.presence(), '+', '-', 'COUNT', 1).hgetall(keys.online()).exec();
  const [[, latest], [, online]] = results as [[Error | null, Entries], [Error | null, Record<string, string>]];
  const clients = Object.entries(online).map(([clientId, since]) => ({ clientId, connected: true, sinceMs: Number(since) }));
  return { clients, cursor: latest[0]?.[0] ?? '0-0' };
}

/** The changes after `cursor`; undefined when they are no longer all kept. */
export function readPresenceSince(redis: Connection, keys: RedisKeys, cursor: string): Promise<PresenceChange[] | undefined> {
  return readStreamSince(redis, keys.presence(), cursor, (id, f) => ({
    clientId: f['c']!,
    state: f['s'] as PresenceState,
    reason: f['r'] as PresenceReason,
    timeMs: Number(f['t']),
    cursor: id,
  }));
}

/** The id of the newest entry of a stream ("0-0" when empty). */
export async function newestStreamId(redis: Connection, key: string): Promise<string> {
  const latest = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as Entries;
  return latest[0]?.[0] ?? '0-0';
}

/**
 * The entries of a log stream after `cursor` (a stream id), oldest first; undefined when they
 * are no longer all kept, or the cursor is from the future (Redis came back with older data).
 */
export async function readStreamSince<T>(
  redis: Connection,
  key: string,
  cursor: string,
  toItem: (id: string, fields: Record<string, string>) => T,
): Promise<T[] | undefined> {
  const results = await redis
    .multi()
    .xinfo('STREAM', key)
    .xrange(key, '-', '+', 'COUNT', 1)
    .xrevrange(key, '+', '-', 'COUNT', 1)
    .xrange(key, `(${cursor}`, '+')
    .exec();
  const [[infoError, info], [, first], [, last], [, entries]] = results as [
    [Error | null, unknown[] | null],
    [Error | null, Entries],
    [Error | null, Entries],
    [Error | null, Entries],
  ];
  const oldest = first[0]?.[0] ?? '0-0';
  const newest = last[0]?.[0] ?? '0-0';
  // The cursor must not be from the future (Redis came back with older data, or none).
  if (comparePresenceCursors(cursor, newest) > 0) return undefined;
  // The cursor's own event must still be kept (or nothing was ever trimmed).
  if (cursor !== '0-0' && comparePresenceCursors(cursor, oldest) < 0) return undefined;
  if (cursor === '0-0') {
    // From the very start: Redis >= 7 counts every entry ever added, so any trimmed one shows.
    const added = infoError === null ? Number(fieldOf(info, 'entries-added')) : NaN;
    const kept = infoError === null ? Number(fieldOf(info, 'length')) : NaN;
    if (Number.isFinite(added) && Number.isFinite(kept) ? added > kept : oldest !== '0-0' && entries.length > 0 && entries[0]![0] !== oldest) {
      return undefined;
    }
  }
  return entries.map(([id, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return toItem(id, f);
  });
}

/** A field of an XINFO reply (a flat list of names and values). */
function fieldOf(reply: unknown[] | null, name: string): unknown {
  if (reply === null) return undefined;
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
  return undefined;
}
