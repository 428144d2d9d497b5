import test from 'ava';
import { AckCoalescer } from '../src/core/ack-coalescer.js';
import type { StreamPosition } from '../src/core/types.js';
import { ManualClock } from './helpers/manual-clock.js';
import { silentLogger } from './helpers/server.js';

type Recorded = [clientId: string, topic: string | undefined, epoch: string, seq: number];

function setup(intervalMs: number): { acks: AckCoalescer; clock: ManualClock; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const store = {
    acknowledge: async (clientId: string, p: StreamPosition) => void recorded.push([clientId, undefined, p.epoch, p.seq]),
    acknowledgeTopic: async (clientId: string, topic: string, p: StreamPosition) => void recorded.push([clientId, topic, p.epoch, p.seq]),
  };
  const clock = new ManualClock(0);
  return { acks: new AckCoalescer(store, clock, intervalMs, silentLogger), clock, recorded };
}

const at = (epoch: string, seq: number): StreamPosition => ({ epoch, seq });

test('ack coalescer - the first acknowledgement after a quiet spell is recorded at once, then the newest once per interval', (t) => {
  const { acks, clock, recorded } = setup(100);
  acks.acknowledge('a', at('e', 1));
  t.deepEqual(recorded, [['a', undefined, 'e', 1]], 'at once');
  for (let seq = 2; seq <= 9; seq++) acks.acknowledge('a', at('e', seq));
  acks.acknowledge('a', at('e', 4)); // an older one arriving late changes nothing
  t.is(recorded.length, 1, 'held inside the interval');
  clock.advance(100);
  t.deepEqual(recorded.at(-1), ['a', undefined, 'e', 9], 'the newest, at the end of the interval');
  acks.acknowledge('a', at('e', 10));
  t.is(recorded.length, 2, 'the interval that followed a recording is still open');
  clock.advance(100);
  t.deepEqual(recorded.at(-1), ['a', undefined, 'e', 10]);
  clock.advance(100);
  t.is(recorded.length, 3, 'an interval with nothing new records nothing and closes');
  acks.acknowledge('a', at('e', 11));
  t.deepEqual(recorded.at(-1), ['a', undefined, 'e', 11], 'after a quiet interval, at once again');
});

test('ack coalescer - each topic of a client id has its own interval, and a new epoch counts as newer', (t) => {
  const { acks, clock, recorded } = setup(100);
  acks.acknowledge('a', at('e', 5));
  acks.acknowledge('a', at('t', 1), 'news');
  acks.acknowledge('b', at('e', 1));
  t.deepEqual(recorded, [
    ['a', undefined, 'e', 5],
    ['a', 'news', 't', 1],
    ['b', undefined, 'e', 1],
  ]);
  acks.acknowledge('a', at('e2', 1));
  clock.advance(100);
  t.deepEqual(recorded.at(-1), ['a', undefined, 'e2', 1], 'seq 1 of a new epoch is not older than seq 5 of the last');
});

test('ack coalescer - flush records what is pending at once (the socket closed); an interval of 0 records every one', (t) => {
  const { acks, clock, recorded } = setup(100);
  acks.acknowledge('a', at('e', 1));
  acks.acknowledge('a', at('e', 3));
  acks.acknowledge('a', at('t', 2), 'news');
  acks.acknowledge('a', at('t', 7), 'news');
  acks.flush('a');
  t.deepEqual(recorded.slice(-2), [
    ['a', undefined, 'e', 3],
    ['a', 'news', 't', 7],
  ]);
  clock.advance(1000);
  t.is(recorded.length, 4, 'nothing more once flushed');
  const direct = setup(0);
  for (let seq = 1; seq <= 3; seq++) direct.acks.acknowledge('a', at('e', seq));
  t.deepEqual(direct.recorded.map((r) => r[3]), [1, 2, 3]);
});
