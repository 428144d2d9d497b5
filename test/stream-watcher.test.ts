import test from 'ava';
import { StreamWatcher, type StreamSink } from '../src/core/stream-watcher.js';
import { CursorVectors } from '../src/engine/redis/cursor-vector.js';

interface Event {
  readonly name: string;
  readonly cursor: string;
}

/** A sink that takes everything, as a fast reader does. */
function recorder(): { sink: StreamSink<Event>; written: Event[] } {
  const written: Event[] = [];
  return { written, sink: { write: (item) => written.push(item) > 0, onDrain: () => undefined, end: () => undefined } };
}

function watcherOver(vectors: CursorVectors, sink: StreamSink<Event>): StreamWatcher<Event> {
  return new StreamWatcher(sink, 100, {
    accepts: () => true,
    cursorOf: (item) => item.cursor,
    withCursor: (item, cursor) => ({ ...item, cursor }),
    order: { isAfter: (a, b) => vectors.compare(a, b) > 0, merge: (a, b) => vectors.merge(a, b) },
    name: 'test watcher',
  });
}

test('stream watcher - over partitioned logs each item carries the merged cursor, and a live copy of what the start held is dropped', (t) => {
  const vectors = new CursorVectors(3);
  const { sink, written } = recorder();
  const watcher = watcherOver(vectors, sink);
  // Held while the start is read: one event the replay holds too, one it does not.
  watcher.push({ name: 'b', cursor: '1:20-0' });
  watcher.push({ name: 'c', cursor: '2:30-0' });
  watcher.begin([{ name: 'a', cursor: '0:10-0' }, { name: 'b', cursor: '1:20-0' }], '0:5-0');
  t.deepEqual(
    written.map((e) => [e.name, e.cursor]),
    [
      ['a', '0:10-0'],
      ['b', '0:10-0,1:20-0'],
      ['c', '0:10-0,1:20-0,2:30-0'],
    ],
  );
  // Live copies arriving after the start was sent: one the replay held, one older, one new.
  watcher.push({ name: 'a', cursor: '0:10-0' });
  watcher.push({ name: 'old', cursor: '1:19-0' });
  watcher.push({ name: 'd', cursor: '1:21-0' });
  t.deepEqual(written.slice(3).map((e) => [e.name, e.cursor]), [['d', '0:10-0,1:21-0,2:30-0']]);
  t.is(watcher.cursor, '0:10-0,1:21-0,2:30-0', 'a resume from here continues every partition');
});

test('stream watcher - over one in-order log the newest cursor is the watcher\'s, and only an exact repeat is dropped', (t) => {
  const { sink, written } = recorder();
  const watcher = new StreamWatcher<Event>(sink, 100, {
    accepts: () => true,
    cursorOf: (item) => item.cursor,
    withCursor: (item, cursor) => ({ ...item, cursor }),
    order: { isAfter: (a, b) => Number(a.split('.')[1]) > Number(b.split('.')[1]), merge: (_a, b) => b },
    name: 'test watcher',
  });
  watcher.begin([], 'log.3');
  watcher.push({ name: 'x', cursor: 'log.4' });
  watcher.push({ name: 'x', cursor: 'log.4' });
  watcher.push({ name: 'y', cursor: 'other.1' });
  t.deepEqual(written.map((e) => [e.name, e.cursor]), [['x', 'log.4'], ['y', 'other.1']]);
});
