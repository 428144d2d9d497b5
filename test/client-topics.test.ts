import test from 'ava';
import { MAX_RESUME_FRAME_BYTES, TopicStreams, type TopicSink, type TopicGap } from '../src/client/topics.js';

type Seen = { delivered: string[]; gaps: TopicGap[]; acksDue: number; waits: string[] };

/** Records what the sink hears; `waits` logs each wait for a missing seq as a gap watch sees it. */
function sink(seen: Seen): Pick<TopicSink, 'waiting' | 'caughtUp'> {
  const waitingNow = new Set<string>();
  return {
    waiting: (topic, moved) => {
      if (waitingNow.has(topic) && !moved) return;
      waitingNow.add(topic);
      seen.waits.push(`${topic} waits`);
    },
    caughtUp: (topic) => {
      if (waitingNow.delete(topic)) seen.waits.push(`${topic} caught up`);
    },
  };
}

function streams(): { topics: TopicStreams; seen: Seen } {
  const seen: Seen = { delivered: [], gaps: [], acksDue: 0, waits: [] };
  const topics = new TopicStreams({
    deliver: (topic, seq, data) => seen.delivered.push(`${topic}/${seq}:${data}`),
    gap: (gap) => seen.gaps.push(gap),
    ackDue: () => void seen.acksDue++,
    ...sink(seen),
  });
  return { topics, seen };
}

test('client topics - messages before the topic welcome are held, then delivered in seq order', (t) => {
  const { topics, seen } = streams();
  topics.message('news', 9, 'n9');
  topics.message('news', 8, 'n8');
  t.deepEqual(seen.delivered, [], 'nothing before the welcome');
  topics.welcome('news', 'e1', 7, true);
  t.deepEqual(seen.delivered, ['news/8:n8', 'news/9:n9']);
  t.deepEqual(seen.gaps, []);
});

test('client topics - a message beyond a missing seq waits for the ones before it (replay after live)', (t) => {
  const { topics, seen } = streams();
  // Live frame 10 by pub/sub before the welcome; the replay of 8 and 9 follows the welcome.
  topics.message('news', 10, 'n10');
  topics.welcome('news', 'e1', 7, true);
  t.deepEqual(seen.delivered, []);
  topics.message('news', 8, 'n8');
  topics.message('news', 9, 'n9');
  topics.message('news', 10, 'n10 replayed');
  topics.message('news', 11, 'n11');
  t.deepEqual(seen.delivered, ['news/8:n8', 'news/9:n9', 'news/10:n10', 'news/11:n11']);
});

test('client topics - duplicates at or below the position are dropped, per topic', (t) => {
  const { topics, seen } = streams();
  topics.welcome('a', 'e', 0, true);
  topics.welcome('b', 'e', 0, true);
  topics.message('a', 1, 'a1');
  topics.message('a', 1, 'a1 again');
  topics.message('b', 1, 'b1');
  topics.message('a', 2, 'a2');
  topics.message('b', 1, 'b1 again');
  t.deepEqual(seen.delivered, ['a/1:a1', 'b/1:b1', 'a/2:a2']);
});

test('client topics - recovered=false or a new epoch is a gap; a new epoch restarts the numbering', (t) => {
  const { topics, seen } = streams();
  topics.welcome('news', 'e1', 3, false);
  t.deepEqual(seen.gaps, [{ topic: 'news', epoch: 'e1', previousEpoch: undefined, lastSeq: 0 }]);
  topics.message('news', 4, 'n4');
  topics.welcome('news', 'e2', 0, true);
  t.deepEqual(seen.gaps[1], { topic: 'news', epoch: 'e2', previousEpoch: 'e1', lastSeq: 4 });
  topics.message('news', 1, 'n1 of e2');
  t.deepEqual(seen.delivered, ['news/4:n4', 'news/1:n1 of e2']);
});

test('client topics - positions survive a lost socket and make the resume frame; held messages do not', (t) => {
  const { topics, seen } = streams();
  t.is(topics.resumeFrame(), undefined, 'no positions, no resume frame');
  topics.welcome('news', 'e1', 0, true);
  topics.message('news', 1, 'n1');
  topics.message('never-welcomed', 1, 'x');
  topics.socketLost();
  t.is(topics.resumeFrame(), '[5,[["news","e1",1]]]');
  // On the next socket, messages wait for the topic's welcome again.
  topics.message('news', 2, 'n2');
  t.deepEqual(seen.delivered, ['news/1:n1']);
  topics.welcome('news', 'e1', 1, true);
  t.deepEqual(seen.delivered, ['news/1:n1', 'news/2:n2']);
  t.deepEqual(seen.gaps, []);
});

test('client topics - the resume frame stays under the server frame limit, keeping the most recently welcomed', (t) => {
  const { topics } = streams();
  const name = (n: number): string => `${'t'.repeat(120)}-${n}`;
  for (let n = 0; n < 200; n++) topics.welcome(name(n), 'epoch', n, true);
  topics.welcome(name(0), 'epoch', 0, true); // welcomed again: recent once more
  const frame = topics.resumeFrame()!;
  t.true(Buffer.byteLength(frame) <= MAX_RESUME_FRAME_BYTES, `${Buffer.byteLength(frame)} bytes`);
  const [, positions] = JSON.parse(frame) as [number, [string, string, number][]];
  t.true(positions.length > 100 && positions.length < 200, `${positions.length} positions`);
  t.deepEqual(positions.slice(0, 3), [[name(0), 'epoch', 0], [name(199), 'epoch', 199], [name(198), 'epoch', 198]]);
  t.false(positions.some(([topic]) => topic === name(1)), 'the least recently welcomed is left out');
});

test('client topics - a resumed position ahead of the server is kept, and only what is above it is delivered', (t) => {
  const { topics, seen } = streams();
  topics.welcome('news', 'e1', 0, true);
  for (let seq = 1; seq <= 3; seq++) topics.message('news', seq, `n${seq}`);
  topics.socketLost();
  // The server only knew the ack for 1; it replays 2 and 3.
  topics.welcome('news', 'e1', 1, true);
  topics.message('news', 2, 'n2 again');
  topics.message('news', 3, 'n3 again');
  topics.message('news', 4, 'n4');
  t.deepEqual(seen.delivered, ['news/1:n1', 'news/2:n2', 'news/3:n3', 'news/4:n4']);
});

test('client topics - leaving forgets the position; a later welcome starts afresh', (t) => {
  const { topics, seen } = streams();
  topics.welcome('news', 'e1', 0, true);
  topics.message('news', 1, 'n1');
  topics.left('news');
  t.is(topics.resumeFrame(), undefined);
  topics.welcome('news', 'e1', 0, true);
  topics.message('news', 1, 'n1 after rejoining');
  t.deepEqual(seen.delivered, ['news/1:n1', 'news/1:n1 after rejoining']);
});

test('client topics - acks go out only for topics welcomed on this socket, and only when they moved', (t) => {
  const { topics, seen } = streams();
  const sent: string[] = [];
  const send = (frame: string): boolean => (sent.push(frame), true);
  topics.welcome('news', 'e1', 5, true);
  topics.flushAcks(send);
  t.deepEqual(sent, [], 'the welcome told us what the server knows');
  topics.message('news', 6, 'n6');
  topics.message('news', 7, 'n7');
  t.true(seen.acksDue > 0);
  topics.flushAcks(send);
  topics.flushAcks(send);
  t.deepEqual(sent, ['[3,7,"news"]']);
  topics.message('news', 8, 'n8');
  topics.socketLost();
  topics.flushAcks(send);
  t.deepEqual(sent, ['[3,7,"news"]'], 'no ack before the topic is welcomed again');
  topics.welcome('news', 'e1', 7, true);
  topics.flushAcks(() => false);
  topics.flushAcks(send);
  t.deepEqual(sent, ['[3,7,"news"]', '[3,8,"news"]'], 'an ack that could not be sent is retried');
});

test('client topics - a listener that leaves the topic mid-delivery stops the rest', (t) => {
  const delivered: number[] = [];
  const topics: TopicStreams = new TopicStreams({
    deliver: (topic, seq) => {
      delivered.push(seq);
      if (seq === 2) topics.left(topic);
    },
    gap: () => undefined,
    ackDue: () => undefined,
    waiting: () => undefined,
    caughtUp: () => undefined,
  });
  for (let seq = 1; seq <= 4; seq++) topics.message('news', seq, 'x');
  topics.welcome('news', 'e', 0, true);
  t.deepEqual(delivered, [1, 2]);
});

test('client topics - a welcomed topic holding messages beyond a missing seq waits; the clock restarts as it moves', (t) => {
  const { topics, seen } = streams();
  topics.message('news', 12, 'n12');
  t.deepEqual(seen.waits, [], 'before the welcome nothing is missing yet');
  topics.welcome('news', 'e1', 7, true);
  t.deepEqual(seen.waits, ['news waits']);
  topics.message('news', 10, 'n10');
  t.deepEqual(seen.waits, ['news waits'], 'still stuck at 7: the same wait');
  topics.message('news', 8, 'n8');
  t.deepEqual(seen.waits, ['news waits', 'news waits'], 'moved to 8 with 9 still missing: a fresh wait');
  topics.message('news', 9, 'n9');
  t.deepEqual(seen.waits, ['news waits', 'news waits', 'news waits'], '10 delivered, 11 missing');
  topics.message('news', 11, 'n11');
  t.deepEqual(seen.waits.at(-1), 'news caught up');
  t.deepEqual(seen.delivered, ['news/8:n8', 'news/9:n9', 'news/10:n10', 'news/11:n11', 'news/12:n12']);
});

test('client topics - leaving a topic ends its wait; other topics wait on their own', (t) => {
  const { topics, seen } = streams();
  topics.welcome('a', 'e', 0, true);
  topics.welcome('b', 'e', 0, true);
  topics.message('a', 2, 'a2');
  topics.message('b', 3, 'b3');
  t.deepEqual(seen.waits, ['a waits', 'b waits']);
  topics.left('a');
  topics.message('b', 1, 'b1');
  topics.message('b', 2, 'b2');
  t.deepEqual(seen.waits, ['a waits', 'b waits', 'a caught up', 'b waits', 'b caught up']);
  t.deepEqual(topics.resumeFrame(), '[5,[["b","e",3]]]');
});
