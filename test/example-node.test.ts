import anyTest, { type TestFn } from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chromiumAvailability, launchChromium } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';
import { Signal } from './helpers/wait.js';

const API_KEY = 'example-backend-key-0123456789';
const EXAMPLE = new URL('../examples/node/server.mjs', import.meta.url).pathname;

/** `node examples/node/server.mjs` as a user runs it, with its output readable line by line. */
class Example {
  readonly lines: string[] = [];
  readonly url: Promise<string>;
  private readonly signal = new Signal();
  private readonly exited: Promise<number | null>;

  constructor(
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        this.signal.notify();
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.url = this.untilLine(/listening on (http:\/\/\S+)/).then((m) => m[1]!);
  }

  static start(args: string[], env: Record<string, string> = {}): Example {
    const child = spawn(process.execPath, [EXAMPLE, '--port', '0', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Example(child);
  }

  async untilLine(pattern: RegExp): Promise<RegExpExecArray> {
    const find = (): RegExpExecArray | null => {
      for (const line of this.lines) {
        const match = pattern.exec(line);
        if (match !== null) return match;
      }
      return null;
    };
    await this.signal.until(() => find() !== null, `example output matching ${pattern}`, () => this.lines.join('\n'));
    return find()!;
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

const test = anyTest as TestFn<{ ts: TestServer; example: Example; url: string }>;

test.before(async (t) => {
  // channeld serves /_ah/channel/jsapi from the built browser client.
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
  const ts = await startTestServer({ apiKeys: [API_KEY] });
  const example = Example.start(['--channeld', `127.0.0.1:${ts.server.grpcPort}`, '--channeld-http', ts.httpUrl], {
    CHANNELD_API_KEY: API_KEY,
  });
  const url = await example.url;
  // The presence watch is live once its snapshot is in, so no later change can be missed.
  await example.untilLine(/^presence: watching$/);
  t.context = { ts, example, url };
});

test.after.always(async (t) => {
  await t.context?.example?.stop();
  await t.context?.ts?.close();
});

/** GET / and the client id and token the page carries. */
async function visit(url: string): Promise<{ html: string; clientId: string; token: string }> {
  const res = await fetch(`${url}/`);
  const html = await res.text();
  if (res.status !== 200) throw new Error(`GET / answered ${res.status}: ${html}`);
  const clientId = /var clientId = "([^"]+)";/.exec(html)?.[1];
  const token = /var token = "([^"]+)";/.exec(html)?.[1];
  if (clientId === undefined || token === undefined) throw new Error(`no client id or token in the page: ${html}`);
  return { html, clientId, token };
}

function postSend(url: string, body: Record<string, string>): Promise<Response> {
  return fetch(`${url}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test.serial('example node - the page loads jsapi from channeld, its token opens a socket, /send reaches it, presence is printed', async (t) => {
  const { ts, example, url } = t.context;
  const { html, clientId, token } = await visit(url);
  t.true(html.includes(`<script src="${ts.httpUrl}/_ah/channel/jsapi"></script>`), 'the script tag points at channeld');
  t.true(html.includes('var channel = new goog.appengine.Channel(token);'), 'the App Engine snippet');
  t.true(html.includes('var socket = channel.open();'));
  const jsapi = await fetch(`${ts.httpUrl}/_ah/channel/jsapi`);
  t.is(jsapi.status, 200);
  t.true((await jsapi.text()).includes('appengine'), 'channeld serves the script the page loads');

  const socket = new RawSocket(ts.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined, 'the welcome');
  await example.untilLine(new RegExp(`^presence: ${clientId} CONNECTED \\(socket_opened\\)$`));

  const res = await postSend(url, { client_id: clientId, message: '{"hello":"from the example"}' });
  t.is(res.status, 200);
  const reply = (await res.json()) as { seq: string; connected: boolean };
  t.is(reply.seq, '1');
  t.true(reply.connected);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: '{"hello":"from the example"}' }]);

  socket.close();
  await socket.closed;
  await example.untilLine(new RegExp(`^presence: ${clientId} DISCONNECTED \\(socket_closed\\)$`));
});

test.serial('example node - /send reports channeld refusing a message as 400 with the reason', async (t) => {
  const res = await postSend(t.context.url, { client_id: 'someone', message: '' });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: 'INVALID_ARGUMENT: message is empty; it must be 1 to 32767 bytes of UTF-8' });
});

test.serial('example node - without the API key channeld refuses it, and the page says so', async (t) => {
  const keyless = Example.start(['--channeld', `127.0.0.1:${t.context.ts.server.grpcPort}`, '--channeld-http', t.context.ts.httpUrl]);
  t.teardown(() => keyless.stop().then(() => undefined));
  const res = await fetch(`${await keyless.url}/`);
  t.is(res.status, 502);
  t.regex(((await res.json()) as { error: string }).error, /^UNAUTHENTICATED: /);
  await keyless.untilLine(/^presence: stream failed \(UNAUTHENTICATED/);
});

const availability = chromiumAvailability();
if (!availability.run && availability.fail) {
  test('example node - Chromium is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING the example node browser test: ${availability.why} !!!\n`);
}

(availability.run ? test.serial : test.skip)('example node - in Chromium the page opens the channel and shows what /send sends', async (t) => {
  const { example, url } = t.context;
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${url}/`);
  await page.locator('#log li.open').waitFor();
  const clientId = await page.locator('#client-id').textContent();
  t.regex(clientId ?? '', /^visitor-[0-9a-f]{12}$/);
  await example.untilLine(new RegExp(`^presence: ${clientId} CONNECTED`));
  await page.fill('#message', 'hi <b>there</b>');
  await page.click('#send');
  await page.locator('#log li.message').waitFor();
  t.is(await page.locator('#log li.message').textContent(), 'message: hi <b>there</b>');
  t.regex((await page.locator('#log li.sent').textContent()) ?? '', /"connected":true/);
  await page.close();
  await example.untilLine(new RegExp(`^presence: ${clientId} DISCONNECTED`));
});
