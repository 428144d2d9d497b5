import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium, startPageServer, type PageServer } from './helpers/browser.js';
import { clientPageHtml, eventsOf, page$, summary, waitFor } from './helpers/client-page.js';
import { startFallbackProxy, type FallbackProxy } from './helpers/fallback-proxy.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The browser fallback transport (issue 12, docs/protocol.md §5) in Chromium, behind a proxy that
 * refuses every WebSocket upgrade (and, for long polling, one that also buffers every response):
 * the App Engine snippet, unchanged, still gets every message in order, resumes after a drop, and
 * reports the 401s and the displacement exactly as over a WebSocket.
 */
interface Context {
  ts: TestServer;
  clock: ManualClock;
  browser: Browser;
  pages: PageServer;
  /** Refuses upgrades; streams pass. */
  noUpgrades: FallbackProxy;
  /** Refuses upgrades and buffers every response whole. */
  buffering: FallbackProxy;
}
const test = anyTest as TestFn<Context>;
const availability = chromiumAvailability();

if (!availability.run && availability.fail) {
  test('fallback browser - Chromium is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING fallback browser tests: ${availability.why} !!!\n`);
}
const browserTest = availability.run ? test.serial : test.skip;

test.before(async (t) => {
  if (!availability.run) return;
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const clock = new ManualClock();
  const ts = await startTestServer({ clock, fallback: { pollHoldMs: 3000, pollIdleMs: 3000 } });
  const [browser, pages, noUpgrades, buffering] = await Promise.all([
    launchChromium(),
    startPageServer(),
    startFallbackProxy(ts.server.httpPort),
    startFallbackProxy(ts.server.httpPort),
  ]);
  buffering.buffer(true);
  t.context = { ts, clock, browser, pages, noUpgrades, buffering };
});

test.after.always(async (t) => {
  const { ts, browser, pages, noUpgrades, buffering } = t.context ?? {};
  await Promise.all([browser?.close(), pages?.close(), noUpgrades?.close(), buffering?.close()]);
  await ts?.close();
});

let ids = 0;
const clientId = (name: string): string => `fb-${name}-${++ids}`;

type T = ExecutionContext<Context>;

/** A page on its own origin, with the jsapi script from `port` (a proxy, or channeld itself). */
async function openPage(t: T, port: number, query = ''): Promise<Page> {
  const url = t.context.pages.add(clientPageHtml(`http://127.0.0.1:${port}/_ah/channel/jsapi${query}`));
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

function messagesOf(events: readonly { type: string; data?: string }[]): string[] {
  return events.filter((e) => e.type === 'message').map((e) => e.data!);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `n` messages on `ch`, with a timeout that fits a fallback that first probes. */
async function waitMessages(page: Page, ch: string, n: number): Promise<string[]> {
  await page.waitForFunction(
    ([name, count]) => page$().events.filter((e) => e.ch === name && e.type === 'message').length >= count,
    [ch, n] as const,
    { timeout: 20_000 },
  );
  return messagesOf(await eventsOf(page, ch));
}

async function waitClose(page: Page, ch: string) {
  await page.waitForFunction((name) => page$().events.some((e) => e.ch === name && e.type === 'close'), ch, { timeout: 20_000 });
  return eventsOf(page, ch);
}

for (const kind of ['sse', 'poll'] as const) {
  const label = kind === 'sse' ? 'event stream' : 'long polling';
  const proxyOf = (t: T): FallbackProxy => (kind === 'sse' ? t.context.noUpgrades : t.context.buffering);

  browserTest(`fallback browser (${label}) - upgrades refused: the App Engine snippet gets every message in order, and no token in any URL`, async (t) => {
    const { ts } = t.context;
    const proxy = proxyOf(t);
    const id = clientId(`order-${kind}`);
    const { token } = await ts.createChannel(id);
    await ts.send(id, 'one');
    await ts.send(id, 'two');
    const refusedBefore = proxy.upgradesRefused;
    const page = await openPage(t, proxy.port);
    await page.evaluate(([tok]) => page$().openChannel('a', tok), [token] as const);
    t.deepEqual(await waitMessages(page, 'a', 2), ['one', 'two']);
    for (let n = 3; n <= 20; n++) await ts.send(id, `m${n}`);
    const got = await waitMessages(page, 'a', 20);
    t.deepEqual(got, ['one', 'two', ...Array.from({ length: 18 }, (_, i) => `m${i + 3}`)]);
    const events = await eventsOf(page, 'a');
    t.deepEqual(summary(events).filter((s) => !s.startsWith('message:')), ['open'], 'one onopen, no error, no close');
    t.true(proxy.upgradesRefused > refusedBefore, 'the WebSocket was tried and refused');
    t.true((proxy.requests.get(`/_ah/channel/${kind}`) ?? 0) > 0, `frames came over /_ah/channel/${kind}`);
    if (kind === 'sse') t.is(proxy.requests.get('/_ah/channel/poll'), undefined, 'an event stream that passes is not given up for polling');
    t.false(proxy.urls.some((u) => u.includes(token) || u.includes(token.slice(0, 20))), 'the token is never in a URL');
    // The acks come back over POSTs: a fresh open starts after what was delivered.
    await page.evaluate(() => page$().sockets['a']!.close());
    await waitClose(page, 'a');
    await ts.send(id, 'after');
    await page.evaluate(([tok]) => page$().openChannel('b', tok), [token] as const);
    t.deepEqual(await waitMessages(page, 'b', 1), ['after']);
  });

  browserTest(`fallback browser (${label}) - after a forced drop it resumes: nothing lost, nothing twice`, async (t) => {
    const { ts } = t.context;
    const proxy = proxyOf(t);
    const id = clientId(`resume-${kind}`);
    const { token } = await ts.createChannel(id);
    const page = await openPage(t, proxy.port);
    await page.evaluate(([tok]) => page$().openChannel('r', tok), [token] as const);
    await waitFor(page, 'r', 'open', 1);
    await ts.send(id, 'before');
    await waitMessages(page, 'r', 1);
    const opensBefore = proxy.requests.get(`/_ah/channel/${kind}`) ?? 0;
    // The event stream is ended by the server (as a node or proxy might); the polls are cut on the way.
    if (kind === 'sse') ts.server.fallback.dropStreams();
    else proxy.dropAll();
    for (let n = 1; n <= 5; n++) await ts.send(id, `away${n}`);
    await sleep(300);
    await ts.send(id, 'after');
    t.deepEqual(await waitMessages(page, 'r', 7), ['before', 'away1', 'away2', 'away3', 'away4', 'away5', 'after']);
    await sleep(500);
    const events = await eventsOf(page, 'r');
    t.deepEqual(messagesOf(events).length, 7, 'nothing delivered twice');
    t.false(events.some((e) => e.type === 'error' || e.type === 'close'));
    t.true((proxy.requests.get(`/_ah/channel/${kind}`) ?? 0) > opensBefore, 'it reconnected');
  });

  browserTest(`fallback browser (${label}) - a forged token gets 401 Invalid+token., an expired one 401 Token+timed+out., then onclose`, async (t) => {
    const { ts, clock } = t.context;
    const proxy = proxyOf(t);
    const page = await openPage(t, proxy.port);
    await page.evaluate(() => page$().openChannel('bad', 'AAAAAAAA.BBBBBBBB'));
    t.deepEqual(summary(await waitClose(page, 'bad')), ['error:401 Invalid+token.', 'close']);
    const id = clientId(`expire-${kind}`);
    const { token } = await ts.createChannel(id, 1);
    await page.evaluate(([tok]) => page$().openChannel('live', tok), [token] as const);
    await page.waitForFunction(() => page$().events.some((e) => e.ch === 'live' && e.type === 'open'), undefined, { timeout: 20_000 });
    clock.advance(61_000);
    t.deepEqual(summary(await waitClose(page, 'live')), ['open', 'error:401 Token+timed+out.', 'close']);
    await page.evaluate(([tok]) => page$().openChannel('late', tok), [token] as const);
    t.deepEqual(summary(await waitClose(page, 'late')), ['error:401 Token+timed+out.', 'close']);
    t.is(await page.evaluate(() => page$().sockets['late']!.readyState), 3);
  });
}

browserTest('fallback browser - a long-polling client is forced with jsapi?transport=poll; the typed API with { transport: "sse" }', async (t) => {
  const { ts } = t.context;
  const [a, b] = [clientId('forced-poll'), clientId('forced-sse')];
  const [ta, tb] = await Promise.all([ts.createChannel(a), ts.createChannel(b)]);
  const page = await openPage(t, ts.server.httpPort, '?transport=poll');
  await page.evaluate(([x, y]) => {
    page$().openChannel('p', x);
    page$().openTyped('s', y, { transport: 'sse' });
  }, [ta.token, tb.token] as const);
  await Promise.all([waitFor(page, 'p', 'open'), waitFor(page, 's', 'open')]);
  await ts.send(a, 'to p');
  await ts.send(b, 'to s');
  t.deepEqual(await waitMessages(page, 'p', 1), ['to p']);
  t.deepEqual(await waitMessages(page, 's', 1), ['to s']);
  const kind = await page.evaluate(() => (page$().sockets['s'] as unknown as { transportKind: string }).transportKind);
  t.is(kind, 'sse');
});

async function displaced(t: T, first: 'websocket' | 'sse', second: 'websocket' | 'sse'): Promise<void> {
  const { ts, noUpgrades } = t.context;
  const id = clientId(`displace-${first}-${second}`);
  const { token } = await ts.createChannel(id);
  // The WebSocket page loads the script from channeld itself; the fallback one through the proxy.
  const portOf = (kind: 'websocket' | 'sse'): number => (kind === 'websocket' ? ts.server.httpPort : noUpgrades.port);
  const older = await openPage(t, portOf(first));
  await older.evaluate(([tok]) => page$().openChannel('old', tok), [token] as const);
  await older.waitForFunction(() => page$().events.some((e) => e.type === 'open'), undefined, { timeout: 20_000 });
  const newer = await openPage(t, portOf(second));
  await newer.evaluate(([tok]) => page$().openChannel('new', tok), [token] as const);
  await newer.waitForFunction(() => page$().events.some((e) => e.type === 'open'), undefined, { timeout: 20_000 });
  t.deepEqual(summary(await waitClose(older, 'old')), ['open', 'error:409 Replaced+by+newer+socket.', 'close']);
  await ts.send(id, 'to the newer');
  t.deepEqual(await waitMessages(newer, 'new', 1), ['to the newer']);
  await sleep(1500);
  t.deepEqual(summary(await eventsOf(older, 'old')), ['open', 'error:409 Replaced+by+newer+socket.', 'close'], 'the older one did not come back');
  t.deepEqual(summary(await eventsOf(newer, 'new')), ['open', 'message:to the newer'], 'the newer one is not ping-ponged away');
}

browserTest('fallback browser - a fallback connection displaces a WebSocket of the same client id with 4502', (t) => displaced(t, 'websocket', 'sse'));
browserTest('fallback browser - a WebSocket displaces a fallback connection of the same client id with 4502', (t) => displaced(t, 'sse', 'websocket'));

browserTest('fallback browser - an upgrade that is never answered is given up at the open timeout, and the typed API falls back to an event stream', async (t) => {
  const { ts } = t.context;
  const proxy = await startFallbackProxy(ts.server.httpPort);
  t.teardown(() => proxy.close());
  proxy.stallUpgrades(true);
  const id = clientId('stalled-upgrade');
  const { token } = await ts.createChannel(id);
  await ts.send(id, 'waiting');
  const page = await openPage(t, proxy.port);
  await page.evaluate(([tok]) => page$().openTyped('st', tok, { openTimeoutMs: 1500 }), [token] as const);
  t.deepEqual(await waitMessages(page, 'st', 1), ['waiting']);
  const events = await eventsOf(page, 'st');
  t.deepEqual(events.map((e) => e.type), ['open', 'message'], 'the fallback is no reconnect: one open, nothing else');
  t.is(await page.evaluate(() => (page$().sockets['st'] as unknown as { transportKind: string }).transportKind), 'sse');
  t.true(proxy.upgradesRefused >= 1 && (proxy.requests.get('/_ah/channel/sse') ?? 0) >= 1);
});
