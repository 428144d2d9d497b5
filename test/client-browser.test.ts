import anyTest, { type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import type {
  CloseChannelRequest,
  CloseChannelResponse,
  GetDeliveryRequest,
  GetDeliveryResponse,
  SendMessageRequest,
  SendMessageResponse,
} from '../gen/ts/channel/v1/channel.js';
import { clientPageHtml, eventsOf, page$, PAGE_GLOBALS, summary, waitFor, type Recorded } from './helpers/client-page.js';
import { chromiumAvailability, launchChromium, startPageServer, startTcpProxy, type PageServer, type TcpProxy } from './helpers/browser.js';
import { ManualClock } from './helpers/manual-clock.js';
import { promisify, startTestServer, type TestServer } from './helpers/server.js';

interface Context {
  ts: TestServer;
  clock: ManualClock;
  browser: Browser;
  pages: PageServer;
  proxy: TcpProxy;
}
const test = anyTest as TestFn<Context>;
const availability = chromiumAvailability();

if (!availability.run && availability.fail) {
  test('client browser - Chromium is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING browser client tests: ${availability.why} !!!\n`);
}
const browserTest = availability.run ? test.serial : test.skip;

test.before(async (t) => {
  if (!availability.run) return;
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const clock = new ManualClock();
  const ts = await startTestServer({ clock, replayBufferSize: 5 });
  const [browser, pages, proxy] = await Promise.all([launchChromium(), startPageServer(), startTcpProxy(ts.server.httpPort)]);
  t.context = { ts, clock, browser, pages, proxy };
});

test.after.always(async (t) => {
  const { ts, browser, pages, proxy } = t.context ?? {};
  await Promise.all([browser?.close(), pages?.close(), proxy?.close()]);
  await ts?.close();
});

let ids = 0;
const clientId = (name: string): string => `${name}-${++ids}`;

/** A fresh page on the test origin, with the jsapi script from `port` (channeld, or the proxy). */
async function openPage(t: { context: Context; teardown(fn: () => Promise<void>): void }, port = t.context.ts.server.httpPort): Promise<Page> {
  const url = t.context.pages.add(clientPageHtml(`http://127.0.0.1:${port}/_ah/channel/jsapi`));
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

browserTest('client browser - open, then messages in order, from a page on another origin', async (t) => {
  const { ts } = t.context;
  const id = clientId('order');
  const { token } = await ts.createChannel(id);
  await ts.send(id, 'one');
  await ts.send(id, 'two');
  const page = await openPage(t);
  t.deepEqual(
    await page.evaluate(() => {
      const g = globalThis as unknown as { goog: { appengine: { Socket: { ReadyState: unknown } } } };
      return g.goog.appengine.Socket.ReadyState;
    }),
    { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 },
  );
  const right = await page.evaluate(([tok]) => {
    page$().openChannel('a', tok);
    const socket = page$().sockets['a']!;
    return { readyState: socket.readyState, send: socket.send() };
  }, [token] as const);
  t.deepEqual(right, { readyState: 0, send: false }, 'CONNECTING right after open(); send() is refused');
  await waitFor(page, 'a', 'message', 2);
  await ts.send(id, '{"n":3}');
  const events = await waitFor(page, 'a', 'message', 3);
  t.deepEqual(summary(events), ['open', 'message:one', 'message:two', 'message:{"n":3}']);
  t.is(events[0]!.readyState, 1, 'readyState is OPEN inside onopen');
});

browserTest('client browser - open(handler) takes the callbacks from the handler object', async (t) => {
  const { ts } = t.context;
  const id = clientId('handler');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('h', tok, true), [token] as const);
  await waitFor(page, 'h', 'open');
  await ts.send(id, 'hi');
  t.deepEqual(summary(await waitFor(page, 'h', 'message')), ['open', 'message:hi']);
});

browserTest('client browser - a forged token gets 401 Invalid+token. then onclose, and no reconnect', async (t) => {
  const page = await openPage(t);
  await page.evaluate(() => page$().openChannel('bad', 'AAAAAAAA.BBBBBBBB'));
  await page.evaluate(() => page$().openChannel('malformed', 'not a token'));
  for (const ch of ['bad', 'malformed']) {
    const events = await waitFor(page, ch, 'close');
    t.deepEqual(summary(events), ['error:401 Invalid+token.', 'close'], ch);
    t.is(await page.evaluate((name) => page$().sockets[name]!.readyState, ch), 3);
  }
});

browserTest('client browser - an expired token gets 401 Token+timed+out. then onclose', async (t) => {
  const { ts, clock } = t.context;
  const live = clientId('expire-live');
  const { token } = await ts.createChannel(live, 1);
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('live', tok), [token] as const);
  await waitFor(page, 'live', 'open');
  clock.advance(61_000);
  t.deepEqual(summary(await waitFor(page, 'live', 'close')), ['open', 'error:401 Token+timed+out.', 'close']);
  // The same token is now refused at open.
  await page.evaluate(([tok]) => page$().openChannel('late', tok), [token] as const);
  t.deepEqual(summary(await waitFor(page, 'late', 'close')), ['error:401 Token+timed+out.', 'close']);
});

browserTest('client browser - close() ends with onclose only, and acks so a fresh open skips delivered messages', async (t) => {
  const { ts } = t.context;
  const id = clientId('close');
  const { token } = await ts.createChannel(id);
  await ts.send(id, 'one');
  await ts.send(id, 'two');
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('first', tok), [token] as const);
  await waitFor(page, 'first', 'message', 2);
  const readyStateAfterClose = await page.evaluate(() => {
    const socket = page$().sockets['first']!;
    socket.close();
    return socket.readyState;
  });
  t.is(readyStateAfterClose, 2, 'CLOSING right after close()');
  t.deepEqual(summary(await waitFor(page, 'first', 'close')), ['open', 'message:one', 'message:two', 'close']);
  await page.evaluate(([tok]) => page$().openChannel('second', tok), [token] as const);
  await waitFor(page, 'second', 'open');
  await ts.send(id, 'three');
  t.deepEqual(summary(await waitFor(page, 'second', 'message')), ['open', 'message:three']);
});

browserTest('client browser - several channels on one page each get their own messages', async (t) => {
  const { ts } = t.context;
  const [x, y] = [clientId('multi-x'), clientId('multi-y')];
  const [tx, ty] = await Promise.all([ts.createChannel(x), ts.createChannel(y)]);
  const page = await openPage(t);
  await page.evaluate(([a, b]) => {
    page$().openChannel('x', a);
    page$().openChannel('y', b);
  }, [tx.token, ty.token] as const);
  await Promise.all([waitFor(page, 'x', 'open'), waitFor(page, 'y', 'open')]);
  await ts.send(x, 'for x');
  await ts.send(y, 'for y');
  t.deepEqual(summary(await waitFor(page, 'x', 'message')), ['open', 'message:for x']);
  t.deepEqual(summary(await waitFor(page, 'y', 'message')), ['open', 'message:for y']);
});

browserTest('client browser - a newer socket replaces the older, which reports 409 and stays closed', async (t) => {
  const { ts } = t.context;
  const id = clientId('replace');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('old', tok), [token] as const);
  await waitFor(page, 'old', 'open');
  await page.evaluate(([tok]) => page$().openChannel('new', tok), [token] as const);
  t.deepEqual(summary(await waitFor(page, 'old', 'close')), ['open', 'error:409 Replaced+by+newer+socket.', 'close']);
  await ts.send(id, 'latest');
  t.deepEqual(summary(await waitFor(page, 'new', 'message')), ['open', 'message:latest']);
  t.deepEqual(summary(await eventsOf(page, 'old')), ['open', 'error:409 Replaced+by+newer+socket.', 'close']);
});

browserTest('client browser - CloseChannel gives 410 Channel+closed.', async (t) => {
  const { ts } = t.context;
  const id = clientId('closed');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('c', tok), [token] as const);
  await waitFor(page, 'c', 'open');
  await promisify<CloseChannelRequest, CloseChannelResponse>(ts.client.closeChannel, ts.client)({ clientId: id });
  t.deepEqual(summary(await waitFor(page, 'c', 'close')), ['open', 'error:410 Channel+closed.', 'close']);
});

browserTest('client browser - after a network loss it reconnects and resumes, invisibly to App Engine handlers', async (t) => {
  const { ts, proxy } = t.context;
  const id = clientId('resume');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t, proxy.port);
  await page.evaluate(([tok]) => page$().openChannel('r', tok), [token] as const);
  await waitFor(page, 'r', 'open');
  await ts.send(id, 'before');
  await waitFor(page, 'r', 'message');
  const before = proxy.connections;
  proxy.dropAll();
  await ts.send(id, 'while away');
  await ts.send(id, 'after');
  const events = await waitFor(page, 'r', 'message', 3);
  t.true(proxy.connections > before, 'a new connection was made');
  t.deepEqual(summary(events), ['open', 'message:before', 'message:while away', 'message:after']);
  t.is(await page.evaluate(() => page$().sockets['r']!.readyState), 1);
});

browserTest('client browser - typed API reports the gap when the replay window was outrun', async (t) => {
  const { ts, proxy } = t.context;
  const id = clientId('gap');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t, proxy.port);
  await page.evaluate(([tok]) => page$().openTyped('g', tok, { backoff: { baseDelayMs: 20, maxDelayMs: 100 } }), [token] as const);
  await waitFor(page, 'g', 'open');
  const first = await ts.send(id, 'm1');
  await waitFor(page, 'g', 'message');
  proxy.refuse(true);
  t.teardown(() => proxy.refuse(false));
  proxy.dropAll();
  await waitFor(page, 'g', 'reconnecting');
  for (let n = 2; n <= 9; n++) await ts.send(id, `m${n}`); // the server keeps the last 5
  proxy.refuse(false);
  const events = (await waitFor(page, 'g', 'message', 6)).filter((e) => e.type !== 'reconnecting');
  t.deepEqual(
    events.map((e) => (e.type === 'message' ? `${e.seq}:${e.data}` : e.type === 'open' ? `open resumed=${e.resumed}` : e.type)),
    ['open resumed=false', '1:m1', 'open resumed=true', 'notrecovered', '5:m5', '6:m6', '7:m7', '8:m8', '9:m9'],
  );
  const gap = events.find((e) => e.type === 'notrecovered');
  t.like(gap, { epoch: first.epoch, lastSeq: 1 });
  await page.evaluate(() => page$().sockets['g']!.close());
  t.like((await waitFor(page, 'g', 'close')).at(-1), { type: 'close', code: 1000, byClient: true });
});

browserTest('client browser - the ES module served by the gateway works cross-origin', async (t) => {
  const { ts } = t.context;
  const id = clientId('esm');
  const { token } = await ts.createChannel(id);
  const base = `http://127.0.0.1:${ts.server.httpPort}`;
  const url = t.context.pages.add(
    `<!doctype html><meta charset="utf-8"><title>esm</title><script>${PAGE_GLOBALS}</script><script type="module">
      import * as channeld from '${base}/_ah/channel/channeld.mjs';
      window.events = []; window.sockets = {}; window.esm = channeld;
    </script>`,
  );
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => page$().esm !== undefined, undefined, { timeout: 10_000 });
  await page.evaluate(([tok, baseUrl]) => {
    const socket = new (page$().esm!.ChannelSocket)(tok, { baseUrl }) as {
      on(type: string, listener: (e: object) => void): void;
      close(): void;
      send(): boolean;
      readyState: number;
    };
    for (const type of ['open', 'message', 'error', 'close']) {
      socket.on(type, (e) => page$().events.push({ ch: 'm', type, at: Date.now(), ...e }));
    }
    page$().sockets['m'] = socket;
  }, [token, base] as const);
  await waitFor(page, 'm', 'open');
  await ts.send(id, 'from the module');
  const events = await waitFor(page, 'm', 'message');
  t.like(events[1], { type: 'message', seq: 1, data: 'from the module' });
  await page.evaluate(() => page$().sockets['m']!.close());
  t.like((await waitFor(page, 'm', 'close')).at(-1), { type: 'close', code: 1000, byClient: true });
});

browserTest('client browser - topic broadcasts reach onmessage with their topic; joining and leaving take effect live', async (t) => {
  const { ts } = t.context;
  const id = clientId('topics');
  const [news, sports] = [clientId('news'), clientId('sports')];
  const { token } = await ts.createChannel(id);
  await ts.rpc.subscribe({ clientIds: [id], topic: news });
  // Sent before the browser connects: it waits in the topic's history, like a channel message.
  await ts.rpc.broadcast({ message: 'early news', clientIds: [], topics: [news] });
  await ts.send(id, 'direct');
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('tp', tok), [token] as const);
  await waitFor(page, 'tp', 'message', 2);
  await ts.rpc.subscribe({ clientIds: [id], topic: sports });
  // Broadcasting to both topics in one call: news is a member already, sports has just joined.
  const sent = await ts.rpc.broadcast({ message: 'both', clientIds: [], topics: [news, sports] });
  t.deepEqual(sent.topics.map((p) => [p.topic, Number(p.seq), p.members]), [[news, 2, 1], [sports, 1, 1]]);
  const events = await waitFor(page, 'tp', 'message', 4);
  const messages = events.filter((e) => e.type === 'message').map((e) => `${e.topic ?? '-'}#${e.seq}:${e.data}`);
  // Topic and channel messages are not ordered with each other, nor topics with topics.
  t.deepEqual(messages.slice(0, 2).sort(), ['-#1:direct', `${news}#1:early news`]);
  t.deepEqual(messages.slice(2).sort(), [`${news}#2:both`, `${sports}#1:both`]);
  await ts.rpc.unsubscribe({ clientIds: [id], topic: sports });
  await ts.rpc.broadcast({ message: 'after leaving', clientIds: [], topics: [sports] });
  await ts.rpc.broadcast({ message: 'still a member', clientIds: [], topics: [news] });
  // The channel message is the barrier: the sports broadcast went out before it, if at all.
  await ts.send(id, 'barrier');
  const after = (await waitFor(page, 'tp', 'message', 6)).filter((e) => e.type === 'message').slice(4);
  t.deepEqual(summary(after).sort(), [`message:[${news}] still a member`, 'message:barrier']);
  t.false((await eventsOf(page, 'tp')).some((e) => e.data === 'after leaving'));
});

browserTest('client browser - a reconnect resumes topic messages missed while away, and reports a topic gap', async (t) => {
  const { ts, proxy } = t.context;
  const id = clientId('topic-resume');
  const [kept, outrun] = [clientId('kept'), clientId('outrun')];
  const { token } = await ts.createChannel(id);
  await ts.rpc.subscribe({ clientIds: [id], topic: kept });
  await ts.rpc.subscribe({ clientIds: [id], topic: outrun });
  const page = await openPage(t, proxy.port);
  // A long ack interval: the server never learns what arrived, so only the resume frame tells it.
  const opts = { backoff: { baseDelayMs: 20, maxDelayMs: 100 }, ackIntervalMs: 60_000 };
  await page.evaluate(([tok, o]) => page$().openTyped('tr', tok, o), [token, opts] as const);
  await waitFor(page, 'tr', 'open');
  await ts.rpc.broadcast({ message: 'k1', clientIds: [], topics: [kept, outrun] });
  await waitFor(page, 'tr', 'message', 2);
  proxy.refuse(true);
  t.teardown(() => proxy.refuse(false));
  proxy.dropAll();
  await waitFor(page, 'tr', 'reconnecting');
  await ts.rpc.broadcast({ message: 'k2', clientIds: [], topics: [kept] });
  await ts.rpc.broadcast({ message: 'k3', clientIds: [], topics: [kept] });
  for (let n = 2; n <= 9; n++) await ts.rpc.broadcast({ message: `o${n}`, clientIds: [], topics: [outrun] }); // the server keeps 5
  proxy.refuse(false);
  const events = (await waitFor(page, 'tr', 'message', 9)).filter((e) => e.type !== 'reconnecting');
  const after = events.slice(events.findIndex((e) => e.type === 'open' && e.resumed === true) + 1);
  t.deepEqual(
    after.filter((e) => e.topic === kept).map((e) => (e.type === 'message' ? `${e.seq}:${e.data}` : e.type)),
    ['2:k2', '3:k3'],
    'nothing missing, nothing twice',
  );
  t.deepEqual(
    after.filter((e) => e.topic === outrun).map((e) => (e.type === 'message' ? `${e.seq}:${e.data}` : e.type)),
    ['notrecovered', '5:o5', '6:o6', '7:o7', '8:o8', '9:o9'],
  );
  t.like(
    after.find((e) => e.type === 'notrecovered'),
    { topic: outrun, lastSeq: 1 },
  );
  t.false(events.some((e) => e.type === 'error' || e.type === 'close'), 'the server accepted the resume frame');
  await page.evaluate(() => page$().sockets['tr']!.close());
  t.like((await waitFor(page, 'tr', 'close')).at(-1), { type: 'close', code: 1000, byClient: true });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

browserTest('client browser - through a long outage the backoff stays capped: every socket is back about a second after the network', async (t) => {
  const { ts, proxy } = t.context;
  // One socket per page, each page a browser context of its own: Chromium throttles the WebSocket
  // connects of one renderer by how many are pending and how many failed, whatever the client does.
  // Both APIs, default options: they share one transport.
  const sockets = [
    { name: 'cap-a', typed: true },
    { name: 'cap-b', typed: true },
    { name: 'cap-c', typed: false },
    { name: 'cap-d', typed: false },
  ].map((socket) => ({ ...socket, id: clientId(socket.name) }));
  const pages = await Promise.all(
    sockets.map(async ({ name, id, typed }) => {
      const [page, { token }] = await Promise.all([openPage(t, proxy.port), ts.createChannel(id)]);
      await page.evaluate(([ch, tok, typedApi]) => (typedApi ? page$().openTyped(ch, tok) : page$().openChannel(ch, tok)), [name, token, typed] as const);
      await waitFor(page, name, 'open');
      return page;
    }),
  );
  proxy.refuse(true);
  t.teardown(() => proxy.refuse(false));
  proxy.dropAll();
  const outageMs = 8000;
  await sleep(outageMs);
  for (const { id } of sockets) await ts.send(id, 'while away');
  const back = Date.now();
  proxy.refuse(false);
  const catchUpMs = await Promise.all(
    sockets.map(async ({ name }, i) => {
      const message = (await waitFor(pages[i]!, name, 'message')).find((e) => e.type === 'message')!;
      t.is(message.data, 'while away');
      return message.at - back;
    }),
  );
  t.log(`catch-up after an ${outageMs} ms outage, ms: ${catchUpMs.join(', ')}`);
  for (const [i, { name, typed }] of sockets.entries()) {
    if (!typed) continue;
    const waits = (await eventsOf(pages[i]!, name)).filter((e) => e.type === 'reconnecting').map((e) => e.delayMs!);
    t.true(waits.length >= 5, `${name} kept trying through the outage (${waits.length} attempts)`);
    t.true(
      waits.every((ms) => ms < 1000),
      `${name}: no wait reaches the 1 s cap (${waits.join(', ')})`,
    );
  }
  // Cap plus jitter is at most 1 s; the rest is slack for a loaded machine.
  for (const [i, ms] of catchUpMs.entries()) t.true(ms < 3000, `${sockets[i]!.name} was back ${ms} ms after the network`);
});

/** Drops the socket of `ch` until its next reconnect is due no sooner than `minDelayMs`; returns that `reconnecting` event. */
async function loseWithLongWait(page: Page, proxy: TcpProxy, ch: string, minDelayMs: number): Promise<Recorded> {
  for (;;) {
    const before = await eventsOf(page, ch);
    const count = (type: string, events: Recorded[]) => events.filter((e) => e.type === type).length;
    proxy.dropAll();
    const events = await waitFor(page, ch, 'reconnecting', count('reconnecting', before) + 1);
    const pending = events.filter((e) => e.type === 'reconnecting').at(-1)!;
    if (pending.delayMs! >= minDelayMs) return pending;
    // A short draw of the jitter: let it reconnect by itself, then try again.
    await waitFor(page, ch, 'open', count('open', before) + 1);
  }
}

const LONG_WAIT = { backoff: { baseDelayMs: 60_000, maxDelayMs: 60_000 } };

browserTest('client browser - a pending reconnect happens at once when the browser comes back online', async (t) => {
  const { ts, proxy } = t.context;
  const id = clientId('online');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t, proxy.port);
  await page.evaluate(([tok, opts]) => page$().openTyped('on', tok, opts), [token, LONG_WAIT] as const);
  await waitFor(page, 'on', 'open');
  const pending = await loseWithLongWait(page, proxy, 'on', 8000);
  await page.context().setOffline(true);
  await ts.send(id, 'missed');
  const online = Date.now();
  await page.context().setOffline(false);
  const events = await waitFor(page, 'on', 'message');
  const reopened = events.filter((e) => e.type === 'open').at(-1)!;
  t.true(reopened.at < pending.at + pending.delayMs!, 'the online event, not the timer, brought it back');
  t.true(reopened.at - online < 3000, `back ${reopened.at - online} ms after going online`);
  t.like(reopened, { resumed: true });
});

browserTest('client browser - a pending reconnect happens at once when the page becomes visible, not when it is hidden', async (t) => {
  const { ts, proxy } = t.context;
  const id = clientId('visible');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t, proxy.port);
  await page.evaluate(([tok, opts]) => page$().openTyped('vis', tok, opts), [token, LONG_WAIT] as const);
  await waitFor(page, 'vis', 'open');
  const pending = await loseWithLongWait(page, proxy, 'vis', 8000);
  const opens = (await eventsOf(page, 'vis')).filter((e) => e.type === 'open').length;
  await page.evaluate(() => page$().setVisibility('hidden'));
  await sleep(500);
  t.is((await eventsOf(page, 'vis')).filter((e) => e.type === 'open').length, opens, 'hiding the page is no reason to reconnect');
  await ts.send(id, 'missed');
  const visible = Date.now();
  await page.evaluate(() => page$().setVisibility('visible'));
  const events = await waitFor(page, 'vis', 'message');
  const reopened = events.filter((e) => e.type === 'open').at(-1)!;
  t.true(reopened.at < pending.at + pending.delayMs!, 'the page becoming visible, not the timer, brought it back');
  t.true(reopened.at - visible < 3000, `back ${reopened.at - visible} ms after the page became visible`);
});

browserTest('client browser - an attempt that never completes is given up after the open timeout, so a stalled network does not keep it away', async (t) => {
  const { ts, proxy } = t.context;
  const id = clientId('stall');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t, proxy.port);
  await page.evaluate(([tok]) => page$().openTyped('st', tok, { openTimeoutMs: 1500 }), [token] as const);
  await waitFor(page, 'st', 'open');
  proxy.stall(true);
  t.teardown(() => proxy.stall(false));
  proxy.dropAll();
  // The first loss, then an attempt the client gives up on as nothing ever answers it.
  const events = await waitFor(page, 'st', 'reconnecting', 2);
  t.like(events.filter((e) => e.type === 'reconnecting')[1], { code: 1006, reason: 'Open+timed+out.' });
  await ts.send(id, 'while stalled');
  const back = Date.now();
  proxy.stall(false);
  const message = (await waitFor(page, 'st', 'message')).find((e) => e.type === 'message')!;
  t.is(message.data, 'while stalled');
  // At worst the attempt under way hangs for the open timeout, then the next waits up to the cap.
  t.true(message.at - back < 1500 + 1000 + 2500, `back ${message.at - back} ms after the network`);
  t.false((await eventsOf(page, 'st')).some((e) => e.type === 'error' || e.type === 'close'));
});

browserTest('client browser - the page acknowledges what it got: a SendMessage waiting for delivery is answered delivered, and the receipt matches the page', async (t) => {
  const { ts, clock } = t.context;
  const id = clientId('receipt');
  const { token } = await ts.createChannel(id);
  const page = await openPage(t);
  await page.evaluate(([tok]) => page$().openChannel('r', tok), [token] as const);
  await waitFor(page, 'r', 'open');
  const request: SendMessageRequest = {
    target: { $case: 'clientId', value: id },
    message: 'did you get it?',
    idempotencyKey: '',
    waitForDelivery: true,
    deliveryTimeout: { seconds: 30, nanos: 0 },
  };
  const sent = await promisify<SendMessageRequest, SendMessageResponse>(ts.client.sendMessage, ts.client, ts.metadata)(request);
  t.like(sent, { seq: 1, delivered: true });
  for (const text of ['two', 'three']) await ts.send(id, text);
  const events = await waitFor(page, 'r', 'message', 3);
  t.deepEqual(summary(events), ['open', 'message:did you get it?', 'message:two', 'message:three']);
  const getDelivery = promisify<GetDeliveryRequest, GetDeliveryResponse>(ts.client.getDelivery, ts.client, ts.metadata);
  // Later acknowledgements wait out the receipt interval, on this test's clock.
  let acked = 0;
  for (let i = 0; i < 100 && acked < 3; i++) {
    clock.advance(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    acked = (await getDelivery({ clientIds: [id] })).clients[0]!.ackedSeq;
  }
  t.is(acked, 3, 'the last receipt is the last message the page shows, never beyond it');
});
