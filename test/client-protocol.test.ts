import anyTest, { type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium, startPageServer, type PageServer } from './helpers/browser.js';
import { clientPageHtml, eventsOf, page$, summary, waitFor } from './helpers/client-page.js';
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js';

// The browser client against a scripted gateway, for what the real server never does on purpose:
// duplicates, a replaced history under a live socket, malformed frames, unknown close codes.

const test = anyTest as TestFn<{ gateway: FakeGateway; browser: Browser; pages: PageServer }>;
const availability = chromiumAvailability();

if (!availability.run && availability.fail) {
  test('client protocol - Chromium is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING browser client protocol tests: ${availability.why} !!!\n`);
}
const browserTest = availability.run ? test.serial : test.skip;

test.before(async (t) => {
  if (!availability.run) return;
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const [gateway, browser, pages] = await Promise.all([startFakeGateway(), launchChromium(), startPageServer()]);
  t.context = { gateway, browser, pages };
});

test.after.always(async (t) => {
  await Promise.all([t.context?.browser?.close(), t.context?.pages?.close()]);
  await t.context?.gateway?.close();
});

async function openPage(t: { context: { pages: PageServer; browser: Browser; gateway: FakeGateway }; teardown(fn: () => Promise<void>): void }): Promise<Page> {
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(t.context.pages.add(clientPageHtml(`${t.context.gateway.httpUrl}/_ah/channel/jsapi`)));
  return page;
}

const FAST = { backoff: { baseDelayMs: 10, maxDelayMs: 50 } };

browserTest('client protocol - token only in the subprotocol; duplicates dropped; acks coalesced', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('d', 'tok-1', opts), [FAST] as const);
  const conn = await t.context.gateway.nextConnection();
  t.is(conn.url, '/_ah/channel/ws', 'a fresh open carries no resume position, and never the token');
  t.deepEqual(conn.protocols, ['channeld.v1', 'token.tok-1']);
  conn.send([0, 'e1', 0, true]);
  for (let seq = 1; seq <= 20; seq++) {
    conn.send([1, seq, `m${seq}`]);
    conn.send([1, seq, `m${seq} again`]);
  }
  const events = await waitFor(page, 'd', 'message', 20);
  await conn.until((acks) => JSON.stringify(acks.at(-1)) === '[3,20]');
  t.deepEqual(summary(events), ['open', ...Array.from({ length: 20 }, (_, i) => `message:m${i + 1}`)]);
  const acked = conn.received.map((frame) => (frame as [number, number])[1]);
  t.true(acked.length < 20, `acks are coalesced (${acked.length} for 20 messages)`);
  t.deepEqual(acked, [...acked].sort((a, b) => a - b), 'acks only move forward');
});

browserTest('client protocol - a second welcome on a live socket is a gap in a new epoch, not a new open', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('w', 'tok-2', opts), [FAST] as const);
  const conn = await t.context.gateway.nextConnection();
  conn.send([0, 'e1', 0, true]);
  conn.send([1, 1, 'old 1']);
  conn.send([1, 2, 'old 2']);
  conn.send([0, 'e2', 0, false]);
  conn.send([1, 1, 'new 1']);
  const events = await waitFor(page, 'w', 'message', 3);
  t.deepEqual(summary(events), ['open', 'message:old 1', 'message:old 2', 'notrecovered', 'message:new 1']);
  t.like(events[3], { epoch: 'e2', previousEpoch: 'e1', lastSeq: 2 });
});

browserTest('client protocol - after 1001 it reconnects with its position and drops replayed duplicates', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().openChannel('r', 'tok-3'));
  const first = await t.context.gateway.nextConnection();
  first.send([0, 'ep', 4, true]);
  first.send([1, 5, 'five']);
  await waitFor(page, 'r', 'message');
  first.ws.close(1001, 'Going+away.');
  const second = await t.context.gateway.nextConnection();
  t.is(second.url, '/_ah/channel/ws?epoch=ep&seq=5');
  t.deepEqual(second.protocols, ['channeld.v1', 'token.tok-3']);
  second.send([0, 'ep', 5, true]);
  second.send([1, 5, 'five again']);
  second.send([1, 6, 'six']);
  t.deepEqual(summary(await waitFor(page, 'r', 'message', 2)), ['open', 'message:five', 'message:six']);
});

browserTest('client protocol - a malformed frame or a message before the welcome closes with 4504, terminally', async (t) => {
  const page = await openPage(t);
  for (const [name, frames] of [
    ['garbage', [[0, 'e', 0, true], 'not json']],
    ['early', [[1, 1, 'before the welcome']]],
    ['shape', [[0, 'e', 0, true], [1, '1', 'seq as a string']]],
    ['topic-early', [[4, 'news', 't', 0, true]]],
    ['topic-shape', [[0, 'e', 0, true], [2, 'news', 0, 'seq 0']]],
  ] as const) {
    await page.evaluate(([ch, opts]) => page$().openTyped(ch, 'tok-4', opts), [name, FAST] as const);
    const conn = await t.context.gateway.nextConnection();
    for (const frame of frames) conn.send(frame);
    t.deepEqual(await conn.closed, { code: 4504, reason: 'Protocol+error.' }, name);
    const events = await waitFor(page, name, 'close');
    t.deepEqual(summary(events.filter((e) => e.type !== 'open')), ['error:400 Protocol+error.', 'close'], name);
    t.like(events.at(-1), { code: 4504, byClient: false });
  }
});

browserTest('client protocol - a handshake without the subprotocol is a loss: it retries until one works', async (t) => {
  const page = await openPage(t);
  t.context.gateway.selectProtocol = false;
  t.teardown(() => void (t.context.gateway.selectProtocol = true));
  await page.evaluate(([opts]) => page$().openTyped('p', 'tok-5', opts), [FAST] as const);
  // Chromium itself fails a handshake that selects none of the offered subprotocols (1006).
  const refused = await t.context.gateway.nextConnection();
  t.is((await refused.closed).code, 1006);
  t.context.gateway.selectProtocol = true;
  let conn = await t.context.gateway.nextConnection();
  // Attempts already under way when the switch flipped may still fail; take the first that opens.
  while (conn.ws.protocol !== 'channeld.v1') conn = await t.context.gateway.nextConnection();
  conn.send([0, 'e', 0, true]);
  const events = await waitFor(page, 'p', 'open');
  t.true(events.some((e) => e.type === 'reconnecting'));
  t.false(events.some((e) => e.type === 'error' || e.type === 'close'));
});

browserTest('client protocol - an unknown terminal code is still reported, with its reason', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().openChannel('u', 'tok-6'));
  const conn = await t.context.gateway.nextConnection();
  conn.send([0, 'e', 0, true]);
  await waitFor(page, 'u', 'open');
  conn.ws.close(4600, 'Brand+new+reason.');
  t.deepEqual(summary(await waitFor(page, 'u', 'close')), ['open', 'error:500 Brand+new+reason.', 'close']);
});

browserTest('client protocol - close() acks what was received, then closes with 1000', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().openTyped('c', 'tok-7', { ackIntervalMs: 60_000 }));
  const conn = await t.context.gateway.nextConnection();
  conn.send([0, 'e', 0, true]);
  conn.send([1, 1, 'x']);
  await waitFor(page, 'c', 'message');
  await page.evaluate(() => page$().sockets['c']!.close());
  t.deepEqual(await conn.closed, { code: 1000, reason: '' });
  t.deepEqual(conn.received, [[3, 1]], 'the ack went out before the close frame');
  t.like((await waitFor(page, 'c', 'close')).at(-1), { code: 1000, byClient: true });
});

browserTest('client protocol - topic messages wait for their topic welcome, then come in seq order, once each', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('t', 'tok-t1', opts), [FAST] as const);
  const conn = await t.context.gateway.nextConnection();
  // Live by pub/sub, ahead of the replay and even of the welcome: the server subscribes first.
  conn.send([2, 'news', 10, 'n10']);
  conn.send([0, 'e', 0, true]);
  conn.send([1, 1, 'c1']);
  conn.send([4, 'news', 'tn', 7, true]);
  conn.send([2, 'news', 8, 'n8']);
  conn.send([2, 'news', 9, 'n9']);
  conn.send([2, 'news', 10, 'n10 replayed']);
  conn.send([2, 'news', 8, 'n8 again']);
  conn.send([2, 'sports', 1, 's1']); // no welcome for sports yet
  conn.send([1, 2, 'c2']);
  const events = await waitFor(page, 't', 'message', 5);
  t.deepEqual(summary(events), ['open', 'message:c1', 'message:[news] n8', 'message:[news] n9', 'message:[news] n10', 'message:c2']);
  t.deepEqual(
    events.filter((e) => e.type === 'message').map((e) => [e.topic, e.seq]),
    [[undefined, 1], ['news', 8], ['news', 9], ['news', 10], [undefined, 2]],
  );
  conn.send([4, 'sports', 'ts', 0, true]);
  t.deepEqual(summary(await waitFor(page, 't', 'message', 6)).at(-1), 'message:[sports] s1', 'held until its own welcome');
  const has = (frame: unknown[]) => (received: readonly unknown[]) => received.some((f) => JSON.stringify(f) === JSON.stringify(frame));
  await conn.until(has([3, 10, 'news']));
  await conn.until(has([3, 1, 'sports']));
  await conn.until(has([3, 2]));
  const newsAcks = conn.received.filter((f) => Array.isArray(f) && f[2] === 'news');
  t.true(newsAcks.length < 3, `topic acks are coalesced (${JSON.stringify(newsAcks)})`);
});

browserTest('client protocol - App Engine onmessage carries topic and seq; a topic gap is notrecovered with the topic', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().openChannel('ae', 'tok-t2'));
  const conn = await t.context.gateway.nextConnection();
  conn.send([0, 'e', 0, true]);
  conn.send([4, 'news', 'tn', 3, false]);
  conn.send([2, 'news', 4, 'n4']);
  conn.send([1, 1, 'c1']);
  const events = await waitFor(page, 'ae', 'message', 2);
  t.deepEqual(summary(events), ['open', 'message:[news] n4', 'message:c1']);
  t.like(events[1], { data: 'n4', seq: 4, topic: 'news' });
  t.like(events[2], { data: 'c1', seq: 1 });
  t.is(events[2]!.topic, undefined, 'a channel message has no topic');

  await page.evaluate(([opts]) => page$().openTyped('gap', 'tok-t3', opts), [FAST] as const);
  const typed = await t.context.gateway.nextConnection();
  typed.send([0, 'e', 0, true]);
  typed.send([4, 'news', 'tn', 3, true]);
  typed.send([4, 'sports', 'ts', 5, false]);
  typed.send([2, 'sports', 6, 's6']);
  const gap = await waitFor(page, 'gap', 'message');
  t.deepEqual(summary(gap), ['open', 'notrecovered', 'message:[sports] s6']);
  t.like(gap[1], { topic: 'sports', epoch: 'ts', lastSeq: 0 });
});

browserTest('client protocol - a reconnect with topic positions announces topics=1 and sends them first; a left topic is not resumed', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('rs', 'tok-t4', opts), [FAST] as const);
  const first = await t.context.gateway.nextConnection();
  first.send([0, 'ep', 0, true]);
  first.send([4, 'news', 'tn', 0, true]);
  first.send([4, 'old', 'to', 0, true]);
  first.send([4, 'sports', 'ts', 2, true]);
  first.send([2, 'news', 1, 'n1']);
  first.send([2, 'news', 2, 'n2']);
  first.send([2, 'old', 1, 'o1']);
  first.send([6, 'old']);
  first.send([1, 1, 'c1']);
  await waitFor(page, 'rs', 'message', 4);
  first.ws.close(1001, 'Going+away.');
  const second = await t.context.gateway.nextConnection();
  t.is(second.url, '/_ah/channel/ws?epoch=ep&seq=1&topics=1');
  await second.until((received) => received.length > 0);
  t.deepEqual(second.received[0], [5, [['sports', 'ts', 2], ['news', 'tn', 2]]], 'the first frame, before any ack');
  second.send([0, 'ep', 1, true]);
  second.send([2, 'news', 3, 'n3']); // live, before its welcome
  second.send([4, 'news', 'tn', 1, true]); // the server only had the ack for 1: it replays 2
  second.send([2, 'news', 2, 'n2 again']);
  second.send([4, 'sports', 'ts', 2, true]);
  second.send([2, 'sports', 3, 's3']);
  const events = await waitFor(page, 'rs', 'message', 6);
  t.deepEqual(summary(events.filter((e) => e.type === 'message')), [
    'message:[news] n1',
    'message:[news] n2',
    'message:[old] o1',
    'message:c1',
    'message:[news] n3',
    'message:[sports] s3',
  ]);
  t.false(events.some((e) => e.type === 'notrecovered'));
  t.is(second.received.filter((f) => Array.isArray(f) && f[0] === 5).length, 1, 'one resume frame per socket');
});

browserTest('client protocol - a left topic is forgotten: rejoining starts afresh, and without positions no topics=1', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('lf', 'tok-t5', opts), [FAST] as const);
  const first = await t.context.gateway.nextConnection();
  first.send([0, 'ep', 0, true]);
  first.send([4, 'news', 'tn', 0, true]);
  first.send([2, 'news', 1, 'n1']);
  first.send([6, 'news']);
  first.send([4, 'news', 'tn', 0, true]); // subscribed again while the socket is open
  first.send([2, 'news', 1, 'n1 after rejoining']);
  first.send([6, 'news']);
  first.send([1, 1, 'c1']);
  const events = await waitFor(page, 'lf', 'message', 3);
  t.deepEqual(summary(events), ['open', 'message:[news] n1', 'message:[news] n1 after rejoining', 'message:c1']);
  first.ws.close(1001, 'Going+away.');
  const second = await t.context.gateway.nextConnection();
  t.is(second.url, '/_ah/channel/ws?epoch=ep&seq=1');
  second.send([0, 'ep', 0, true]);
  await second.until((received) => received.length > 0);
  t.deepEqual(second.received[0], [3, 1], 'no topic resume frame: the first frame is the ack');
});

/** `promise`, or a failure naming `what` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const GAP = { ...FAST, gapTimeoutMs: 300 };

browserTest('client protocol - a topic seq that never comes: the client resumes on a new socket from the last one delivered', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('tg', 'tok-g1', opts), [GAP] as const);
  const first = await t.context.gateway.nextConnection();
  first.send([0, 'ep', 0, true]);
  first.send([4, 'news', 'tn', 0, true]);
  first.send([2, 'news', 1, 'n1']);
  first.send([2, 'news', 3, 'n3']); // 2 was skipped (a server that passed over a slow socket)
  first.send([2, 'news', 4, 'n4']);
  first.send([1, 1, 'c1']); // the channel is not held up by a topic
  const second = await within(t.context.gateway.nextConnection(), 8000, 'reconnect after the missing seq');
  t.deepEqual(await first.closed, { code: 1000, reason: 'Missing+seq.' }, 'the stuck socket is closed, not left open');
  t.is(second.url, '/_ah/channel/ws?epoch=ep&seq=1&topics=1');
  await second.until((received) => received.length > 0);
  t.deepEqual(second.received[0], [5, [['news', 'tn', 1]]], 'the topic resumes from the last seq delivered');
  second.send([0, 'ep', 1, true]);
  second.send([2, 'news', 4, 'n4 live']);
  second.send([4, 'news', 'tn', 1, true]);
  second.send([2, 'news', 2, 'n2']);
  second.send([2, 'news', 3, 'n3']);
  const events = await waitFor(page, 'tg', 'message', 5);
  t.deepEqual(summary(events), ['open', 'message:[news] n1', 'message:c1', 'reconnecting', 'open', 'message:[news] n2', 'message:[news] n3', 'message:[news] n4 live']);
  t.like(events[3], { code: 1000, reason: 'Missing+seq.' });
  t.false(events.some((e) => e.type === 'notrecovered'), 'the server filled the gap');
});

browserTest('client protocol - a channel seq that never comes: later ones are held, then the client resumes; a loss is notrecovered', async (t) => {
  const page = await openPage(t);
  await page.evaluate(([opts]) => page$().openTyped('cg', 'tok-g2', opts), [GAP] as const);
  const first = await t.context.gateway.nextConnection();
  first.send([0, 'ep', 0, true]);
  first.send([1, 1, 'c1']);
  first.send([1, 3, 'c3']);
  first.send([1, 4, 'c4']);
  const second = await within(t.context.gateway.nextConnection(), 8000, 'reconnect after the missing seq');
  t.is(second.url, '/_ah/channel/ws?epoch=ep&seq=1', 'it resumes after the last message delivered, not the last received');
  // The server no longer has 2: it says so, and goes on from 3.
  second.send([0, 'ep', 2, false]);
  second.send([1, 3, 'c3']);
  second.send([1, 4, 'c4']);
  const events = await waitFor(page, 'cg', 'message', 3);
  t.deepEqual(summary(events), ['open', 'message:c1', 'reconnecting', 'open', 'notrecovered', 'message:c3', 'message:c4']);
  t.like(events[4], { epoch: 'ep', previousEpoch: 'ep', lastSeq: 1 });
  await second.until((received) => received.some((f) => JSON.stringify(f) === '[3,4]'));
});

browserTest('client protocol - App Engine sockets resume after a missing topic seq too, within the default gap timeout', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().openChannel('ag', 'tok-g3'));
  const first = await t.context.gateway.nextConnection();
  first.send([0, 'ep', 0, true]);
  first.send([4, 'news', 'tn', 0, true]);
  first.send([2, 'news', 2, 'n2']);
  const heldSince = Date.now();
  const second = await within(t.context.gateway.nextConnection(), 15_000, 'reconnect after the missing seq');
  const waited = Date.now() - heldSince;
  t.true(waited >= 4500, `it gave the replay a few seconds first (${waited} ms)`);
  await second.until((received) => received.length > 0);
  t.deepEqual(second.received[0], [5, [['news', 'tn', 0]]]);
  second.send([0, 'ep', 0, true]);
  second.send([4, 'news', 'tn', 0, true]);
  second.send([2, 'news', 1, 'n1']);
  second.send([2, 'news', 2, 'n2']);
  t.deepEqual(summary(await waitFor(page, 'ag', 'message', 2)), ['open', 'message:[news] n1', 'message:[news] n2'], 'invisible to App Engine handlers');
});

browserTest('client protocol - terminal close codes never reconnect, not even when the browser comes online or the page visible', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().watchSockets());
  const errors: Record<number, string> = {
    4500: '401 Invalid+token.',
    4501: '401 Token+timed+out.',
    4502: '409 Replaced+by+newer+socket.',
    4503: '410 Channel+closed.',
    4504: '400 Protocol+error.',
    4600: '500 Terminal.',
    4999: '500 Terminal.',
  };
  const terminal = Object.keys(errors).map(Number);
  for (const code of terminal) {
    await page.evaluate(([ch, opts]) => page$().openTyped(ch, 'tok-term', opts), [`t${code}`, FAST] as const);
    const conn = await t.context.gateway.nextConnection();
    conn.send([0, 'e', 0, true]);
    await waitFor(page, `t${code}`, 'open');
    conn.ws.close(code, 'Terminal.');
    await waitFor(page, `t${code}`, 'close');
  }
  // The boundary, for contrast: 4000–4499 reconnect.
  for (const code of [4001, 4499]) {
    await page.evaluate(([ch, opts]) => page$().openTyped(ch, 'tok-term', opts), [`r${code}`, FAST] as const);
    const conn = await t.context.gateway.nextConnection();
    conn.send([0, 'e', 0, true]);
    await waitFor(page, `r${code}`, 'open');
    conn.ws.close(code, 'Again.');
    const again = await within(t.context.gateway.nextConnection(), 8000, `reconnect after ${code}`);
    again.send([0, 'e', 0, true]);
    await waitFor(page, `r${code}`, 'open', 2);
  }
  const context = page.context();
  await context.setOffline(true);
  await context.setOffline(false);
  await page.evaluate(() => {
    page$().setVisibility('hidden');
    page$().setVisibility('visible');
  });
  // FAST backoff waits at most 50 ms: any reconnect would have come long before this.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const opened = await page.evaluate(() => page$().opened.length);
  t.is(opened, terminal.length + 4, 'one socket per terminal channel, two for each that reconnected');
  for (const code of terminal) {
    t.deepEqual(summary(await eventsOf(page, `t${code}`)), ['open', `error:${errors[code]}`, 'close'], String(code));
  }
});
