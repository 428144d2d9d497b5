import test from 'ava';
import { CursorVectors } from '../src/engine/redis/cursor-vector.js';
import { jumpHash, Partitioner } from '../src/engine/redis/partitioning.js';

test('partitioning - client ids spread evenly, and adding a shard moves about 1/N of them, all to the new shard', (t) => {
  const ids = Array.from({ length: 40_000 }, (_, i) => `client-${i}`);
  for (const shards of [2, 3, 4]) {
    const before = new Partitioner(shards - 1);
    const after = new Partitioner(shards);
    const counts = new Array<number>(shards).fill(0);
    let moved = 0;
    for (const id of ids) {
      const from = before.ofClient(id);
      const to = after.ofClient(id);
      counts[to]!++;
      if (from !== to) {
        moved++;
        t.is(to, shards - 1, 'a moved id goes to the new shard only');
      }
    }
    const share = moved / ids.length;
    t.true(Math.abs(share - 1 / shards) < 0.02, `${shards - 1} → ${shards} shards moved ${(share * 100).toFixed(1)}% of the ids`);
    for (const count of counts) t.true(Math.abs(count / ids.length - 1 / shards) < 0.02, `spread ${counts.join('/')}`);
  }
});

test('partitioning - one partition needs no hash; a topic and a client id of one name may differ; the bucket is stable', (t) => {
  t.is(new Partitioner(1).ofClient('anything'), 0);
  const p = new Partitioner(16);
  t.is(p.ofClient('alice'), new Partitioner(16).ofClient('alice'), 'every node computes the same');
  const differ = Array.from({ length: 64 }, (_, i) => `name-${i}`).some((name) => p.ofClient(name) !== p.ofTopic(name));
  t.true(differ, 'client ids and topics hash apart');
  // Lamping and Veach's reference values: key 0 is in bucket 0 whatever the count, and buckets stay in range.
  t.is(jumpHash(0n, 100), 0);
  for (let key = 1n; key < 200n; key++) {
    const bucket = jumpHash(key * 0x9e3779b97f4a7c15n, 7);
    t.true(bucket >= 0 && bucket < 7);
  }
  t.throws(() => new Partitioner(0), { message: /positive integer/ });
});

test('cursor vectors - an event names its partition; a watcher merges, resumes per partition, and orders events against what it has', (t) => {
  const v = new CursorVectors(4);
  const a = v.event(1, '100-0');
  const b = v.event(3, '90-2');
  t.is(a, '1:100-0');
  const merged = v.merge(v.merge('0:0-0', a), b);
  t.is(merged, '1:100-0,3:90-2');
  t.deepEqual(v.parse(merged), ['0-0', '100-0', '0-0', '90-2']);
  t.true(v.compare(v.event(1, '101-0'), merged) > 0, 'a later event of partition 1 is new');
  t.true(v.compare(v.event(3, '90-2'), merged) <= 0, 'an event already merged is not');
  t.true(v.compare(v.event(2, '1-0'), merged) > 0, 'any event of a partition not seen yet is new');
  t.is(v.merge(merged, v.event(1, '50-0')), merged, 'an older event does not take a partition back');
  t.is(v.compare(merged, merged), 0);
  t.true(v.compare(a, merged) < 0);
  t.is(v.parse('7:1-0'), undefined, 'a partition outside this layout is not a cursor of it');
  t.is(v.parse('1733-0'), undefined, 'a one-partition cursor is not one of four');
  t.is(v.parse('nonsense'), undefined);
  const one = new CursorVectors(1);
  t.is(one.event(0, '5-1'), '5-1', 'one partition: the stream id alone, as before partitions');
  t.deepEqual(one.parse('5-1'), ['5-1']);
  t.is(one.merge('5-1', '6-0'), '6-0');
});
