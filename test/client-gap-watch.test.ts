import test from 'ava';
import { DEFAULT_GAP_TIMEOUT_MS, GapWatch, type StreamName } from '../src/client/gap-watch.js';
import { Signal } from './helpers/wait.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function watch(timeoutMs: number): { gaps: GapWatch; expired: StreamName[]; both: () => Promise<void> } {
  const expired: StreamName[] = [];
  const signal = new Signal();
  const gaps = new GapWatch(timeoutMs, (stream) => {
    expired.push(stream);
    signal.notify();
  });
  return { gaps, expired, both: () => signal.until(() => expired.length === 2, 'both waits to expire') };
}

test('client gap watch - the default is a few seconds', (t) => {
  t.true(DEFAULT_GAP_TIMEOUT_MS >= 2000 && DEFAULT_GAP_TIMEOUT_MS <= 10_000, `${DEFAULT_GAP_TIMEOUT_MS} ms`);
});

test('client gap watch - a wait that is never filled expires once, not before its time', async (t) => {
  const { gaps, expired, both } = watch(150);
  const started = performance.now();
  gaps.waiting('news', false);
  gaps.waiting(undefined, false);
  await both();
  t.true(performance.now() - started >= 140, 'not before the timeout');
  t.deepEqual(expired.sort(), ['news', undefined].sort());
  await sleep(300);
  t.is(expired.length, 2, 'each wait expires once');
});

test('client gap watch - a stream that catches up, or a socket that goes, never expires', async (t) => {
  const { gaps, expired } = watch(100);
  gaps.waiting('news', false);
  gaps.waiting('sports', false);
  gaps.waiting(undefined, false);
  gaps.caughtUp('news');
  gaps.caughtUp('never waited');
  gaps.clear();
  await sleep(400);
  t.deepEqual(expired, []);
});

test('client gap watch - moving restarts the clock; waiting again without moving does not', async (t) => {
  const { gaps, expired, both } = watch(250);
  gaps.waiting('stuck', false);
  gaps.waiting('moving', false);
  await sleep(125);
  gaps.waiting('stuck', false);
  gaps.waiting('moving', true);
  await both();
  t.deepEqual(expired, ['stuck', 'moving'], 'the stream that moved got a fresh timeout');
});
