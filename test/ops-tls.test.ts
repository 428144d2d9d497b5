import { get as httpsGet } from 'node:https';
import anyTest, { type TestFn } from 'ava';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { chromiumAvailability, launchChromium } from './helpers/browser.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { makeTestPki, type TestPki } from './helpers/tls.js';

const test = anyTest as TestFn<{ ts: TestServer; pki: TestPki }>;

test.before(async (t) => {
  const pki = makeTestPki();
  const ts = await startTestServer({ httpTlsCert: pki.server.certFile, httpTlsKey: pki.server.keyFile, demo: true });
  t.context = { ts, pki };
});

test.after.always(async (t) => {
  await t.context?.ts?.close();
  t.context?.pki?.remove();
});

function httpsText(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('https - the HTTP port serves HTTPS with the configured certificate; plain HTTP gets nothing', async (t) => {
  const { ts, pki } = t.context;
  const health = await httpsText(`https://localhost:${ts.server.httpPort}/healthz`, pki.ca.cert);
  t.deepEqual(health, { status: 200, body: 'ok\n' });
  const script = await httpsText(`https://localhost:${ts.server.httpPort}/_ah/channel/jsapi`, pki.ca.cert);
  t.is(script.status, 200);
  const plain = await rawRequest(ts.server.httpPort, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 2000);
  t.not(plain.status, 200);
});

test('wss - a WebSocket client that trusts the CA opens wss:// and receives its messages', async (t) => {
  const { ts, pki } = t.context;
  const { token } = await ts.createChannel('wss-node');
  const ws = new WebSocket(`wss://localhost:${ts.server.httpPort}/_ah/channel/ws`, ['channeld.v1', `token.${token}`], { ca: pki.ca.cert });
  t.teardown(() => ws.close());
  const frames: unknown[][] = [];
  const got = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      frames.push(JSON.parse(String(data)) as unknown[]);
      if (frames.some((f) => f[0] === 1)) resolve();
    }),
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  await ts.send('wss-node', 'over TLS');
  await got;
  t.deepEqual(frames[0]![0], 0, 'the welcome first');
  t.deepEqual(frames.find((f) => f[0] === 1)!.slice(1), [1, 'over TLS']);
});

test('settings - --http-tls-cert and --http-tls-key go together', (t) => {
  t.throws(() => loadConfig(['--http-tls-cert', t.context.pki.server.certFile], {}), { message: /--http-tls-cert and --http-tls-key go together/ });
});

const availability = chromiumAvailability();
if (!availability.run && availability.fail) {
  test('wss - Chromium is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING the Chromium wss test: ${availability.why} !!!\n`);
}

(availability.run ? test : test.skip)('wss - Chromium opens wss:// (certificate trusted) with goog.appengine.Channel and receives messages', async (t) => {
  const { ts } = t.context;
  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  // The test CA is not in Chromium's store: the context trusts the server's certificate instead.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const origin = `https://localhost:${ts.server.httpPort}`;
  await page.goto(`${origin}/`);
  const { token } = await ts.createChannel('wss-browser');
  await page.addScriptTag({ url: `${origin}/_ah/channel/jsapi` });
  await page.evaluate((tok) => {
    const g = globalThis as unknown as {
      goog: { appengine: { Channel: new (t: string) => { open(): { onopen: () => void; onmessage: (m: { data: string }) => void } } } };
      received: string[];
      opened: boolean;
    };
    g.received = [];
    g.opened = false;
    const socket = new g.goog.appengine.Channel(tok).open();
    socket.onopen = () => (g.opened = true);
    socket.onmessage = (m) => g.received.push(m.data);
  }, token);
  await page.waitForFunction(() => (globalThis as unknown as { opened: boolean }).opened);
  for (const text of ['first over wss', 'second over wss']) await ts.send('wss-browser', text);
  await page.waitForFunction(() => (globalThis as unknown as { received: string[] }).received.length === 2);
  t.deepEqual(await page.evaluate(() => (globalThis as unknown as { received: string[] }).received), ['first over wss', 'second over wss']);
  t.regex(await page.evaluate(() => (globalThis as unknown as { location: { protocol: string } }).location.protocol), /https:/);
});
