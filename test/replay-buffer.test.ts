import test from 'ava';
import { ReplayBuffer } from '../src/core/replay-buffer.js';

function filled(capacity: number, count: number): ReplayBuffer {
  const buffer = new ReplayBuffer(capacity);
  for (let i = 1; i <= count; i++) buffer.append(`m${i}`, i * 1000);
  return buffer;
}

test('replay-buffer - keeps consecutive seqs and returns what follows a position', (t) => {
  const buffer = filled(4, 3);
  t.is(buffer.lastSeq, 3);
  t.deepEqual(buffer.after(1), {
    messages: [
      { seq: 2, data: 'm2', timeMs: 2000 },
      { seq: 3, data: 'm3', timeMs: 3000 },
    ],
    complete: true,
  });
  t.deepEqual(buffer.after(3), { messages: [], complete: true });
});

test('replay-buffer - wraps at capacity and reports positions that fell out as incomplete', (t) => {
  const buffer = filled(4, 10);
  t.is(buffer.length, 4);
  t.is(buffer.firstSeq, 7);
  t.deepEqual(
    buffer.after(6).messages.map((m) => m.seq),
    [7, 8, 9, 10],
  );
  t.true(buffer.after(6).complete);
  const gap = buffer.after(2);
  t.false(gap.complete);
  t.deepEqual(
    gap.messages.map((m) => m.seq),
    [7, 8, 9, 10],
  );
});

test('replay-buffer - trims by age but remembers the last seq', (t) => {
  const buffer = filled(10, 5);
  buffer.trimOlderThan(4000);
  t.deepEqual(
    buffer.after(0).messages.map((m) => m.seq),
    [4, 5],
  );
  buffer.trimOlderThan(10_000);
  t.is(buffer.length, 0);
  t.is(buffer.lastSeq, 5);
  t.is(buffer.append('next', 11_000).seq, 6);
});

test('replay-buffer - a position beyond the last seq belongs to another history', (t) => {
  t.false(filled(4, 2).after(9).complete);
});

test('replay-buffer - capacity must be a positive integer', (t) => {
  t.throws(() => new ReplayBuffer(0), { instanceOf: RangeError });
});

test('replay-buffer - grows as messages come, and behaves at every size as a plain list of the last capacity messages', (t) => {
  for (const capacity of [1, 3, 8, 9, 50, 500]) {
    const buffer = new ReplayBuffer(capacity);
    let model: { seq: number; data: string; timeMs: number }[] = [];
    let seq = 0;
    let now = 0;
    // A fixed pseudo-random walk of appends and age trims (no Math.random: the test must repeat).
    let state = capacity;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 3000; step++) {
      now += 1;
      if (next() < 0.85) {
        seq++;
        buffer.append(`m${seq}`, now);
        model.push({ seq, data: `m${seq}`, timeMs: now });
        if (model.length > capacity) model = model.slice(model.length - capacity);
      } else {
        const cutoff = now - Math.floor(next() * 40);
        buffer.trimOlderThan(cutoff);
        model = model.filter((m) => m.timeMs >= cutoff);
      }
      t.is(buffer.length, model.length);
      const from = Math.max(0, seq - Math.floor(next() * (capacity + 2)));
      const { messages } = buffer.after(from);
      if (messages.length !== model.filter((m) => m.seq > from).length) {
        t.fail(`capacity ${capacity}, step ${step}: after(${from}) gave ${messages.length} messages`);
        return;
      }
    }
    t.deepEqual(buffer.after(0).messages, model, `capacity ${capacity}`);
  }
});

test('replay-buffer - gives back every kept message byte for byte, whatever its size and script', (t) => {
  // Kept messages live as UTF-8 in an arena that moves and doubles: sizes from one byte to tens
  // of kilobytes and characters of one to four bytes cross every boundary it has.
  const pieces = ['a', 'é', '€', '😀', 'x'.repeat(300), '\u0000', '"\\'];
  for (const capacity of [1, 2, 7, 64]) {
    const buffer = new ReplayBuffer(capacity);
    let model: { seq: number; data: string; timeMs: number }[] = [];
    let state = capacity + 7;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let seq = 1; seq <= 400; seq++) {
      const big = next() < 0.05;
      let data = '';
      const parts = big ? 60 + Math.floor(next() * 60) : 1 + Math.floor(next() * 6);
      for (let i = 0; i < parts; i++) data += pieces[Math.floor(next() * pieces.length)];
      const stored = buffer.append(data, seq);
      t.is(stored.data, data);
      model.push({ seq, data, timeMs: seq });
      if (model.length > capacity) model = model.slice(model.length - capacity);
      if (next() < 0.1) {
        const cutoff = seq - Math.floor(next() * 5);
        buffer.trimOlderThan(cutoff);
        model = model.filter((m) => m.timeMs >= cutoff);
      }
      if (seq % 37 === 0) t.deepEqual(buffer.after(0).messages, model, `capacity ${capacity}, seq ${seq}`);
    }
    t.deepEqual(buffer.after(0).messages, model, `capacity ${capacity}`);
  }
});

test('replay-buffer - an emptied buffer goes on counting seqs and keeps new messages', (t) => {
  const buffer = filled(4, 6);
  buffer.trimOlderThan(7000);
  t.is(buffer.length, 0);
  t.deepEqual(buffer.after(6), { messages: [], complete: true });
  t.is(buffer.append('again', 8000).seq, 7);
  t.deepEqual(buffer.after(0), { messages: [{ seq: 7, data: 'again', timeMs: 8000 }], complete: false });
});
