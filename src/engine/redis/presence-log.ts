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
export async function readPresenceSince(redis: Connection, keys: RedisKeys, cursor: string): Promise<PresenceChange[] | undefined> {
  const results = await redis
    .multi()
    .xrange(keys.presence(), '-', '+', 'COUNT', 1)
    .xrevrange(keys.presence(), '+', '-', 'COUNT', 1)
    .xrange(keys.presence(), `(${cursor}`, '+')
    .exec();
  const [[, first], [, last], [, entries]] = results as [[Error | null, Entries], [Error | null, Entries], [Error | null, Entries]];
  const oldest = first[0]?.[0] ?? '0-0';
  const newest = last[0]?.[0] ?? '0-0';
  // The cursor's own event must still be kept (or nothing was ever trimmed), and not be from the future.
  if (comparePresenceCursors(cursor, newest) > 0) return undefined;
  if (cursor !== '0-0' && comparePresenceCursors(cursor, oldest) < 0) return undefined;
  if (cursor === '0-0' && oldest !== '0-0' && entries.length > 0 && entries[0]![0] !== oldest) return undefined;
  return entries.map(([id, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return { clientId: f['c']!, state: f['s'] as PresenceState, reason: f['r'] as PresenceReason, timeMs: Number(f['t']), cursor: id };
  });
}
