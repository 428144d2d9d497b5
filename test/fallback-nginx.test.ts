import anyTest, { type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium, startPageServer, type PageServer } from './helpers/browser.js';
import { clientPageHtml, eventsOf, page$ } from './helpers/client-page.js';
import { nginxAvailability, startNginx, type TestNginx } from './helpers/nginx.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The fallback behind a real nginx whose policy forbids WebSockets (the socket path answers 403),
 * proxying the rest with its defaults: the browser falls back to an event stream, which passes
 * nginx's buffering (channeld asks for it unbuffered with X-Accel-Buffering: no, and even a second
 * nginx that ignores that header hands on what it has as it comes). A proxy that holds a response
 * until it ends, which sends the client to long polling, is test/fallback-browser.test.ts's.
 */
interface Context {
  ts: TestServer;
  browser: Browser;
  pages: PageServer;
  plain: TestNginx;
  buffering: TestNginx;
}
const test = anyTest as TestFn<Context>;
const chromium = chromiumAvailability();
const nginx = nginxAvailability();
const why = !chromium.run ? chromium.why : !nginx.run ? nginx.why : '';
if (why !== '' && process.env['CI'] === 'true') test('fallback nginx - Chromium and nginx are installed (CI=true)', (t) => t.fail(why));
else if (why !== '') console.warn(`\n!!! SKIPPING the fallback behind nginx: ${why} !!!\n`);
const proxyTest = why === '' ? test.serial : test.skip;

/** A reverse proxy that forbids WebSockets; `buffered`: it also ignores channeld's X-Accel-Buffering. */
function plainProxy(buffered: boolean) {
  return (listen: string, upstreamPort: number, dir: string): string => `
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${listen};
    location = /_ah/channel/ws { return 403; }
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      ${buffered ? 'proxy_buffering on; proxy_ignore_headers X-Accel-Buffering; proxy_buffers 64 64k;' : ''}
    }
  }
}
`;
}

test.before(async (t) => {
  if (why !== '') return;
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const ts = await startTestServer({ fallback: { pollHoldMs: 3000 } });
  const [browser, pages, plain, buffering] = await Promise.all([
    launchChromium(),
    startPageServer(),
    startNginx(ts.server.httpPort, plainProxy(false)),
    startNginx(ts.server.httpPort, plainProxy(true)),
  ]);
  t.context = { ts, browser, pages, plain, buffering };
});

test.after.always(async (t) => {
  const { ts, browser, pages, plain, buffering } = t.context ?? {};
  await Promise.all([browser?.close(), pages?.close(), plain?.stop(), buffering?.stop()]);
  await ts?.close();
});

async function openPage(t: { context: Context; teardown(fn: () => Promise<void>): void }, port: number): Promise<Page> {
  const url = t.context.pages.add(clientPageHtml(`http://127.0.0.1:${port}/_ah/channel/jsapi`));
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

for (const [name, expected] of [['plain', 'sse'], ['buffering', 'sse']] as const) {
  proxyTest(`fallback nginx - behind an nginx ${name === 'plain' ? 'that forbids WebSockets' : 'that forbids them and ignores X-Accel-Buffering'}, both APIs fall back to ${expected} and get every message in order`, async (t) => {
    const { ts } = t.context;
    const proxyPort = t.context[name].port;
    const [a, b] = [`nginx-${name}-ae`, `nginx-${name}-typed`];
    const [ta, tb] = await Promise.all([ts.createChannel(a), ts.createChannel(b)]);
    await ts.send(a, 'early');
    await ts.send(b, 'early');
    const page = await openPage(t, proxyPort);
    await page.evaluate(([x, y]) => {
      page$().openChannel('ae', x);
      page$().openTyped('typed', y);
    }, [ta.token, tb.token] as const);
    await page.waitForFunction(() => page$().events.filter((e) => e.type === 'open').length >= 2, undefined, { timeout: 20_000 });
    for (let n = 1; n <= 10; n++) await Promise.all([ts.send(a, `m${n}`), ts.send(b, `m${n}`)]);
    await page.waitForFunction(() => page$().events.filter((e) => e.type === 'message').length >= 22, undefined, { timeout: 20_000 });
    const expectedMessages = ['early', ...Array.from({ length: 10 }, (_, i) => `m${i + 1}`)];
    for (const ch of ['ae', 'typed']) {
      const events = await eventsOf(page, ch);
      t.deepEqual(events.filter((e) => e.type === 'message').map((e) => e.data), expectedMessages, ch);
      t.false(events.some((e) => e.type === 'error' || e.type === 'close' || e.type === 'reconnecting'), ch);
    }
    t.is(await page.evaluate(() => (page$().sockets['typed'] as unknown as { transportKind: string }).transportKind), expected);
  });
}
