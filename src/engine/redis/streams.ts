import type { Cluster, Redis } from 'ioredis';
import type { ChannelMessage } from '../../core/types.js';

/** A plain or Sentinel-managed Redis, or a Redis Cluster: the engine uses what both offer. */
export type Connection = Redis | Cluster;

/** Reads XRANGE entries of a channel or topic log (ids 0-<seq>, fields d and t) as messages. */
export function parseEntries(entries: unknown): ChannelMessage[] {
  const out: ChannelMessage[] = [];
  for (const entry of entries as [string, string[]][]) {
    const [id, fields] = entry;
    let data = '';
    let timeMs = 0;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'd') data = fields[i + 1]!;
      else if (fields[i] === 't') timeMs = Number(fields[i + 1]);
    }
    out.push({ seq: Number(id.slice(2)), data, timeMs });
  }
  return out;
}
