import { createHash } from 'node:crypto';

const MULTIPLIER = 2862933555777941757n;
/** Hashes remembered per partitioner: a socket's client id is hashed on every message it gets. */
const CACHE_LIMIT = 65_536;

/**
 * Jump consistent hash (Lamping and Veach, 2014): the bucket of `key` among `buckets`. Going from
 * N to N + 1 buckets moves just the keys the new bucket takes, 1/(N + 1) of them.
 */
export function jumpHash(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  let k = key;
  while (j < buckets) {
    b = j;
    k = BigInt.asUintN(64, k * MULTIPLIER + 1n);
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** The first 64 bits of SHA-1 of `id`'s UTF-8 bytes: spread evenly whatever the ids look like. */
function hash64(id: string): bigint {
  return createHash('sha1').update(id, 'utf8').digest().readBigUInt64BE(0);
}

/**
 * Which partition a client id or a topic belongs to: a channel's keys (its log, idempotency keys,
 * socket entry, memberships) live in its client id's partition, a topic's (its log, members and
 * presence) in the topic's. Client ids and topics hash apart ("c"/"t" before the id), so a topic
 * named like a client id does not always share its partition. Every node must use the same count.
 */
export class Partitioner {
  private readonly cache = new Map<string, number>();

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a partition count must be a positive integer, not ${count}`);
  }

  ofClient(clientId: string): number {
    return this.of(`c${clientId}`);
  }

  ofTopic(topic: string): number {
    return this.of(`t${topic}`);
  }

  private of(name: string): number {
    if (this.count === 1) return 0;
    let partition = this.cache.get(name);
    if (partition === undefined) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      partition = jumpHash(hash64(name), this.count);
      this.cache.set(name, partition);
    }
    return partition;
  }
}
