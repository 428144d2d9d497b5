import anyTest, { type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const test = anyTest as TestFn<{ ts: TestServer; browser: Browser }>;
const availability = chromiumAvailability();

if (!availability.run && availability.fail) {
  test('demo page - Chromium is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING demo page tests: ${availability.why} !!!\n`);
}
const browserTest = availability.run ? test.serial : test.skip;

test.before(async (t) => {
  if (!availability.run) return;
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const [ts, browser] = await Promise.all([startTestServer({ demo: true }), launchChromium()]);
  t.context = { ts, browser };
});

test.after.always(async (t) => {
  await t.context?.browser?.close();
  await t.context?.ts?.close();
});

async function openDemo(t: { context: { ts: TestServer; browser: Browser }; teardown(fn: () => Promise<void>): void }): Promise<Page> {
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${t.context.ts.httpUrl}/`);
  return page;
}

browserTest('demo page - create a channel, send messages, see them in order with presence', async (t) => {
  const page = await openDemo(t);
  t.regex(await page.inputValue('#client-id'), /^demo-\w+$/, 'a random client id is suggested');
  await page.fill('#client-id', 'demo-test');
  await page.click('#create');
  await page.locator('#status', { hasText: 'Open' }).waitFor();
  await page.locator('#presence li', { hasText: 'demo-test' }).filter({ hasText: 'CONNECTED' }).first().waitFor();
  for (const text of ['first', 'second <b>not html</b>']) {
    await page.fill('#message', text);
    await page.click('#send');
    await page.locator('#log li.received', { hasText: text }).waitFor();
  }
  const received = await page.locator('#log li.received').allTextContents();
  t.is(received.length, 2);
  t.regex(received[0]!, /received #1 · seq 1\s*first/);
  t.regex(received[1]!, /received #2 · seq 2\s*second <b>not html<\/b>/);
  t.is(await page.locator('#log b').count(), 0, 'message data is shown as text, never as markup');
});

browserTest('demo page - errors are shown: a replaced socket reports 409, an oversize message is refused', async (t) => {
  const first = await openDemo(t);
  await first.fill('#client-id', 'demo-twice');
  await first.click('#create');
  await first.locator('#status', { hasText: 'Open' }).waitFor();
  const second = await openDemo(t);
  await second.fill('#client-id', 'demo-twice');
  await second.click('#create');
  await first.locator('#status', { hasText: '409' }).waitFor();
  t.regex(await first.locator('#log li.error').first().textContent() ?? '', /Replaced by newer socket\./);

  await second.evaluate(() => {
    // The textarea's maxlength stops typing, not scripts: this is what the server refuses.
    const g = globalThis as unknown as { document: { getElementById(id: string): { value: string } } };
    g.document.getElementById('message').value = 'x'.repeat(40_000);
  });
  await second.click('#send');
  await second.locator('#log li.error', { hasText: 'send failed' }).waitFor();
  t.regex(await second.locator('#log li.error', { hasText: 'send failed' }).textContent() ?? '', /40000 bytes/);
});
