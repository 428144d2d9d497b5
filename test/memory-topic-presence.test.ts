import test from 'ava';
import { MemoryTopicPresence } from '../src/engine/memory-topic-presence.js';

// The memory engine's sorted member view is patched with the joins and leaves since the last page
// rather than sorted again: a model run checks every page against a fresh sort of the members.

test('memory topic presence - pages after random joins and leaves are what a fresh sort gives', (t) => {
  const roster = new MemoryTopicPresence({ historySize: 10, isConnected: () => false, emit: () => undefined });
  const members = new Set<string>();
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let step = 0; step < 3000; step++) {
    const id = `c${random(200)}`;
    if (members.has(id) && random(2) === 0) {
      members.delete(id);
      roster.left('t', id, 'unsubscribed', step);
    } else if (!members.has(id)) {
      members.add(id);
      roster.subscribed('t', id, '', true, step);
    }
    if (random(10) === 0) {
      const expected = [...members].sort();
      const after = expected.length > 0 ? expected[random(expected.length)]! : '';
      const page = roster.page('t', members, 1000, '');
      t.deepEqual(page.members.map((m) => m.clientId), expected, `step ${step}`);
      const from = roster.page('t', members, 5, after);
      t.deepEqual(from.members.map((m) => m.clientId), expected.filter((c) => c > after).slice(0, 5), `step ${step} after ${after}`);
    }
  }
});

test('memory topic presence - a sweep drops changes older than the cutoff; a cursor before them no longer resumes', (t) => {
  const roster = new MemoryTopicPresence({ historySize: 100, isConnected: () => false, emit: () => undefined });
  const members = new Set(['a', 'b']);
  roster.subscribed('t', 'a', '', true, 1000);
  const start = roster.snapshot('t', members).cursor;
  roster.subscribed('t', 'b', '', true, 2000);
  const afterA = roster.since('t', start)!;
  t.deepEqual(afterA.map((c) => c.clientId), ['b']);
  roster.sweep(() => true, 1500);
  t.deepEqual(roster.since('t', start)?.map((c) => c.clientId), ['b'], 'the cursor of the last dropped change still resumes');
  roster.sweep(() => true, 2500);
  t.is(roster.since('t', start), undefined);
  t.deepEqual(roster.since('t', afterA[0]!.cursor), []);
  roster.sweep(() => false, 2500);
  t.is(roster.since('t', afterA[0]!.cursor), undefined, 'a topic without members and changes is forgotten');
});
