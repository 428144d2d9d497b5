import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { Signal } from './helpers/wait.js';

/** ok: 200; fail: 500; not-found: 404 (an unrouted path); not-allowed: 405; drop: reset; hang: no answer. */
type Answer = 'ok' | 'fail' | 'not-found' | 'not-allowed' | 'drop' | 'hang';

/** One POST as the receiver saw it, and how it answered. */
interface Hit {
  readonly path: string;
  readonly query: string;
  readonly authorization: string | undefined;
  readonly from: string | undefined;
  readonly contentType: string;
  readonly signature: string | undefined;
  readonly cursor: string | undefined;
  readonly body: Buffer;
  readonly answer: Answer;
  /** Date.now() when the request had arrived. */
  readonly at: number;
}

/** An application's presence endpoint: a real HTTP server that parses the multipart form. */
class Receiver {
  readonly hits: Hit[] = [];
  readonly hanging = new Set<ServerResponse>();
  /** Hanging requests whose connection channeld closed. */
  aborted = 0;
  private readonly signal = new Signal();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(decide: (index: number, path: string) => Answer = () => 'ok'): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const contentType = req.headers['content-type'] ?? '';
        // An independent multipart parser (undici's), not the code that built the body.
        new Response(body, { headers: { 'content-type': contentType } })
          .formData()
          .then((form) => form.get('from'), () => null)
          .then((from) => {
            const r = receiver!;
            const { pathname: path, search: query } = new URL(req.url ?? '/', 'http://receiver');
            const answer = decide(r.hits.length, path);
            r.hits.push({
              path,
              query,
              authorization: req.headers.authorization,
              from: typeof from === 'string' ? from : undefined,
              contentType,
              signature: req.headers['x-channeld-signature'] as string | undefined,
              cursor: req.headers['x-channeld-cursor'] as string | undefined,
              body,
              answer,
              at: Date.now(),
            });
            if (answer === 'ok') res.writeHead(200).end('ok');
            else if (answer === 'fail') res.writeHead(500).end('boom');
            else if (answer === 'not-found') res.writeHead(404).end('Not Found');
            else if (answer === 'not-allowed') res.writeHead(405, { allow: 'GET' }).end('Method Not Allowed');
            else if (answer === 'drop') req.socket.destroy();
            else {
              r.hanging.add(res);
              res.on('close', () => {
                if (r.hanging.delete(res)) r.aborted += 1;
                r.signal.notify();
              });
            }
            r.signal.notify();
          });
      });
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
    receiver = new Receiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  /** `[state, from]` of every POST answered with 2xx, in arrival order. */
  delivered(from?: string): [string, string][] {
    return this.hits
      .filter((h) => h.answer === 'ok' && (from === undefined || h.from === from))
      .map((h) => [stateOf(h.path), h.from ?? '?']);
  }

  until(predicate: () => boolean, what: string): Promise<void> {
    return this.signal.until(predicate, what, () => `hits: ${JSON.stringify(this.hits.map((h) => [h.path, h.from, h.answer]))}`);
  }

  /** Answers every hanging request with 200. */
  release(): void {
    const held = [...this.hanging];
    this.hanging.clear();
    for (const res of held) res.writeHead(200).end('ok');
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** An app whose router has only one of the two presence paths: anything else is a 404. */
function routesOnly(state: 'connected' | 'disconnected'): (index: number, path: string) => Answer {
  return (_index, path) => (path.endsWith(`/_ah/channel/${state}/`) ? 'ok' : 'not-found');
}

function hangConnected(_index: number, path: string): Answer {
  return path.includes('/connected/') ? 'hang' : 'ok';
}

function stateOf(path: string): string {
  if (path.endsWith('/_ah/channel/connected/')) return 'connected';
  if (path.endsWith('/_ah/channel/disconnected/')) return 'disconnected';
  return `unexpected path ${path}`;
}

/** A logger whose lines a test can read and wait for. */
function captureLogs(): { logger: Logger; messages: () => string[]; until: (pattern: RegExp) => Promise<string> } {
  const lines: { msg?: string }[] = [];
  const signal = new Signal();
  const logger = pino({ level: 'debug' }, {
    write(line: string) {
      lines.push(JSON.parse(line) as { msg?: string });
      signal.notify();
    },
  });
  const messages = (): string[] => lines.map((l) => l.msg ?? '');
  return {
    logger,
    messages,
    async until(pattern) {
      await signal.until(() => messages().some((m) => pattern.test(m)), `a log line matching ${pattern}`, () => messages().join(' | '));
      return messages().find((m) => pattern.test(m))!;
    },
  };
}

async function setup(
  t: { teardown(fn: () => Promise<void>): void },
  decide: Parameters<typeof Receiver.start>[0],
  options: Parameters<typeof startTestServer>[0] = {},
  base = (url: string) => url,
): Promise<{ receiver: Receiver; ts: TestServer }> {
  const receiver = await Receiver.start(decide);
  const ts = await startTestServer({ presenceWebhook: base(receiver.url), ...options });
  t.teardown(async () => {
    receiver.release();
    await ts.close();
    await receiver.close();
  });
  return { receiver, ts };
}

test('presence webhook - POSTs multipart "from" to /_ah/channel/connected/ and /disconnected/, in order per client id', async (t) => {
  const { receiver, ts } = await setup(t, () => 'ok');
  const a1 = await connect(ts, 'wh-a');
  const b1 = await connect(ts, 'wh-b 💬');
  a1.socket.close();
  await a1.socket.closed;
  const a2 = await connect(ts, 'wh-a');
  // A second socket for the same client id displaces the first: no notice for that.
  const b2 = await connect(ts, 'wh-b 💬');
  await b1.socket.closed;
  b2.socket.close();
  a2.socket.close();
  await Promise.all([a2.socket.closed, b2.socket.closed]);
  await receiver.until(() => receiver.delivered().length >= 6, 'six notices');
  // Shutdown sends what is pending, so after it nothing more can arrive: the lists are complete.
  await ts.close();
  t.deepEqual(receiver.delivered('wh-a'), [
    ['connected', 'wh-a'],
    ['disconnected', 'wh-a'],
    ['connected', 'wh-a'],
    ['disconnected', 'wh-a'],
  ]);
  t.deepEqual(receiver.delivered('wh-b 💬'), [
    ['connected', 'wh-b 💬'],
    ['disconnected', 'wh-b 💬'],
  ]);
  t.is(receiver.hits.length, 6, 'nothing but the six notices');
  for (const hit of receiver.hits) {
    t.true(hit.path === '/_ah/channel/connected/' || hit.path === '/_ah/channel/disconnected/', hit.path);
    t.regex(hit.contentType, /^multipart\/form-data; boundary=/);
    t.is(hit.signature, undefined, 'unsigned without a secret');
    t.is(hit.authorization, undefined);
    t.is(hit.query, '');
  }
  t.is(new Set(receiver.hits.map((h) => h.cursor)).size, 6, 'each notice carries its own cursor');
});

test('presence webhook - a receiver that fails (500, then a dropped connection) still gets every notice, in order', async (t) => {
  const { receiver, ts } = await setup(t, (index) => (index === 0 ? 'fail' : index === 1 ? 'drop' : 'ok'), {}, (url) => `${url}/app`);
  const { socket } = await connect(ts, 'wh-flaky');
  socket.close();
  await socket.closed;
  await receiver.until(() => receiver.delivered().length >= 2, 'both notices delivered');
  t.deepEqual(
    receiver.hits.map((h) => [h.path, h.from, h.answer]),
    [
      ['/app/_ah/channel/connected/', 'wh-flaky', 'fail'],
      ['/app/_ah/channel/connected/', 'wh-flaky', 'drop'],
      ['/app/_ah/channel/connected/', 'wh-flaky', 'ok'],
      ['/app/_ah/channel/disconnected/', 'wh-flaky', 'ok'],
    ],
  );
  const cursors = receiver.hits.map((h) => h.cursor);
  t.true(cursors[0] === cursors[1] && cursors[1] === cursors[2], 'a retry carries the same cursor');
  t.not(cursors[2], cursors[3]);
});

test('presence webhook - signs each POST: X-Channeld-Signature is HMAC-SHA256 of "<t>.<body>" with the shared secret', async (t) => {
  const secret = 'webhook-secret-0123456789abcdef';
  const { receiver, ts } = await setup(t, () => 'ok', { presenceWebhookSecret: secret }, (url) => `${url}/hooks/`);
  const { socket } = await connect(ts, 'wh-signed');
  socket.close();
  await socket.closed;
  await receiver.until(() => receiver.delivered().length >= 2, 'both notices');
  t.deepEqual(receiver.delivered(), [
    ['connected', 'wh-signed'],
    ['disconnected', 'wh-signed'],
  ]);
  t.is(receiver.hits[0]?.path, '/hooks/_ah/channel/connected/', 'a trailing slash on the base URL is not doubled');
  // Verified the way docs/presence-webhooks.md tells receivers to.
  const verify = (key: string, header: string, body: Buffer): boolean => {
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    if (match === null) return false;
    const expected = createHmac('sha256', key).update(`${match[1]}.`).update(body).digest();
    const fresh = Math.abs(Date.now() / 1000 - Number(match[1])) <= 300;
    return fresh && timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
  };
  for (const hit of receiver.hits) {
    t.regex(hit.signature ?? '', /^t=\d+,v1=[0-9a-f]{64}$/);
    t.true(verify(secret, hit.signature ?? '', hit.body), 'verifies with the secret');
    t.false(verify('another-secret-0123456789abcdef', hit.signature ?? '', hit.body), 'does not verify with another secret');
    const tampered = Buffer.from(hit.body.toString('utf8').replace('wh-signed', 'wh-signeD'));
    t.false(verify(secret, hit.signature ?? '', tampered), 'does not verify a changed body');
  }
});

test('presence webhook - credentials in the URL become Basic auth; its query is kept on both endpoints', async (t) => {
  const { receiver, ts } = await setup(t, () => 'ok', {}, (url) => url.replace('http://', 'http://app:p%40ss@') + '/in?key=k1');
  const { socket } = await connect(ts, 'wh-auth');
  socket.close();
  await socket.closed;
  await receiver.until(() => receiver.delivered().length >= 2, 'both notices');
  t.deepEqual(
    receiver.hits.map((h) => [h.path, h.query, h.authorization]),
    [
      ['/in/_ah/channel/connected/', '?key=k1', `Basic ${Buffer.from('app:p@ss').toString('base64')}`],
      ['/in/_ah/channel/disconnected/', '?key=k1', `Basic ${Buffer.from('app:p@ss').toString('base64')}`],
    ],
  );
});

test('presence webhook - an app that routes only /disconnected/: each CONNECTED is POSTed once, and DISCONNECTED arrives within 1 s of the socket closing', async (t) => {
  const logs = captureLogs();
  const { receiver, ts } = await setup(t, routesOnly('disconnected'), { logger: logs.logger });
  const ids = ['wh-only-1', 'wh-only-2', 'wh-only-3'];
  const sockets = [];
  for (const id of ids) sockets.push((await connect(ts, id)).socket);
  await receiver.until(() => receiver.hits.filter((h) => h.answer === 'not-found').length >= ids.length, 'every CONNECTED answered 404');
  const closedAt = new Map<string, number>();
  for (const [i, socket] of sockets.entries()) {
    closedAt.set(ids[i]!, Date.now());
    socket.close();
  }
  // And one that closes while its CONNECTED may still be on its way.
  const quick = await connect(ts, 'wh-only-quick');
  closedAt.set('wh-only-quick', Date.now());
  quick.socket.close();
  const all = [...ids, 'wh-only-quick'];
  await receiver.until(() => receiver.delivered().length >= all.length, 'every DISCONNECTED');
  for (const id of all) {
    const hits = receiver.hits.filter((h) => h.from === id).map((h) => [stateOf(h.path), h.answer]);
    t.deepEqual(hits, [['connected', 'not-found'], ['disconnected', 'ok']], `${id}: one POST per notice, none retried, in order`);
    const disconnected = receiver.hits.find((h) => h.from === id && h.answer === 'ok')!;
    const late = disconnected.at - closedAt.get(id)!;
    t.true(late < 1000, `${id}: DISCONNECTED arrived ${late} ms after the socket closed`);
  }
  const notHandled = logs.messages().filter((m) => m.startsWith('the app does not handle'));
  t.deepEqual(notHandled, ['the app does not handle /_ah/channel/connected/ (HTTP 404): those presence notices are sent once, not retried'], 'said once');
  t.false(logs.messages().some((m) => /POST failed|dropped presence notice/.test(m)), 'a 404 is not a failure');
});

test('presence webhook - a 405 is not handled either, while a 5xx between is still retried, in order per client id', async (t) => {
  let disconnectedTries = 0;
  const { receiver, ts } = await setup(t, (_i, path) => {
    if (path.endsWith('/connected/')) return 'not-allowed';
    disconnectedTries += 1;
    return disconnectedTries === 1 ? 'fail' : 'ok';
  });
  for (let round = 0; round < 2; round += 1) {
    const { socket } = await connect(ts, 'wh-405');
    socket.close();
    await socket.closed;
  }
  await receiver.until(() => receiver.delivered().length >= 2, 'both DISCONNECTED delivered');
  await ts.close(); // nothing more can arrive after shutdown: the list is complete
  t.deepEqual(
    receiver.hits.map((h) => [stateOf(h.path), h.answer]),
    [
      ['connected', 'not-allowed'],
      ['disconnected', 'fail'],
      ['disconnected', 'ok'],
      ['connected', 'not-allowed'],
      ['disconnected', 'ok'],
    ],
  );
});

for (const [title, decide, failing] of [
  ['a receiver that answers 500', (): Answer => 'fail', true],
  ['an app that routes only /connected/', routesOnly('connected'), false],
] as const) {
  test(`presence webhook - shutdown does not wait out its grace for notices that cannot be delivered (${title})`, async (t) => {
    const logs = captureLogs();
    const graceMs = 20_000;
    const { receiver, ts } = await setup(t, decide, { shutdownGraceMs: graceMs, logger: logs.logger });
    const ids = ['wh-exit-1', 'wh-exit-2', 'wh-exit-3'];
    for (const id of ids) await connect(ts, id);
    await receiver.until(() => new Set(receiver.hits.map((h) => h.from)).size >= ids.length, 'a CONNECTED try for each client id');
    const started = Date.now();
    await ts.close(); // the sockets are still open: shutdown closes them and queues their DISCONNECTED
    const took = Date.now() - started;
    t.true(took < graceMs / 4, `shutdown took ${took} ms with a ${graceMs} ms grace`);
    for (const id of ids) {
      t.is(receiver.hits.filter((h) => h.from === id && stateOf(h.path) === 'disconnected').length, 1, `${id}: DISCONNECTED tried once at shutdown`);
    }
    t.false(logs.messages().some((m) => /not delivered within/.test(m)), 'nothing was left for the grace to cut off');
    if (failing) {
      t.regex(await logs.until(/whose last try failed/), /^shutdown: dropped 6 presence notices whose last try failed: HTTP 500 from \/_ah\/channel\/(dis)?connected\/$/);
    }
  });
}

test('presence webhook - a receiver that hangs does not hold up message delivery', async (t) => {
  // Only CONNECTED hangs, so the test ends without waiting out a shutdown grace.
  const { receiver, ts } = await setup(t, hangConnected, { presenceWebhookTimeoutMs: 60_000 });
  const first = await connect(ts, 'wh-hang-1');
  await receiver.until(() => receiver.hanging.size >= 1, 'the first POST to hang');
  const second = await connect(ts, 'wh-hang-2');
  for (let i = 1; i <= 20; i += 1) {
    await Promise.all([ts.send('wh-hang-1', `one ${i}`), ts.send('wh-hang-2', `two ${i}`)]);
  }
  await Promise.all([first.socket.untilMessages(20), second.socket.untilMessages(20)]);
  t.deepEqual(first.socket.messages.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
  t.deepEqual(second.socket.messages.map((m) => m.data).slice(-1), ['two 20']);
  t.true(receiver.hanging.size >= 1, 'the webhook POST was still unanswered while every message arrived');
  t.is(receiver.delivered().length, 0);
  first.socket.close();
  second.socket.close();
});

test('presence webhook - after max attempts a notice is dropped with a log line, and the next one goes', async (t) => {
  const logs = captureLogs();
  const { receiver, ts } = await setup(t, (_i, path) => (path.includes('/connected/') ? 'fail' : 'ok'), {
    presenceWebhookMaxAttempts: 2,
    logger: logs.logger,
  });
  const { socket } = await connect(ts, 'wh-give-up');
  socket.close();
  await socket.closed;
  await receiver.until(() => receiver.delivered().length >= 1, 'the disconnected notice');
  t.deepEqual(
    receiver.hits.map((h) => [stateOf(h.path), h.answer]),
    [
      ['connected', 'fail'],
      ['connected', 'fail'],
      ['disconnected', 'ok'],
    ],
  );
  t.regex(await logs.until(/dropped presence notice/), /dropped presence notice \(connected wh-give-up\) after 2 attempts .*HTTP 500/);
});

test('presence webhook - a full queue drops new notices with a clear log line', async (t) => {
  const logs = captureLogs();
  const { receiver, ts } = await setup(t, hangConnected, { presenceWebhookQueue: 1, presenceWebhookTimeoutMs: 60_000, logger: logs.logger });
  const held = await connect(ts, 'wh-full-1');
  await receiver.until(() => receiver.hanging.size >= 1, 'the first POST to hang');
  const dropped = await connect(ts, 'wh-full-2');
  t.regex(await logs.until(/queue is full/), /presence webhook queue is full \(1 notices\): dropping new presence notices/);
  receiver.release();
  held.socket.close();
  await held.socket.closed;
  await receiver.until(() => receiver.hits.some((h) => h.from === 'wh-full-1' && stateOf(h.path) === 'disconnected'), 'wh-full-1 disconnected');
  t.regex(await logs.until(/room again/), /room again; 1 presence notices were dropped/);
  t.false(receiver.hits.some((h) => h.from === 'wh-full-2'), 'the notice that found the queue full was never sent');
  receiver.release();
  dropped.socket.close();
});

test('presence webhook - shutdown gives pending notices a grace, then aborts them and logs them as dropped', async (t) => {
  const logs = captureLogs();
  const receiver = await Receiver.start(() => 'hang');
  t.teardown(() => receiver.close());
  const ts = await startTestServer({
    presenceWebhook: receiver.url,
    presenceWebhookTimeoutMs: 60_000,
    shutdownGraceMs: 200,
    logger: logs.logger,
  });
  await connect(ts, 'wh-shutdown');
  await receiver.until(() => receiver.hanging.size >= 1, 'the POST to hang');
  await ts.close();
  // Two: the hanging CONNECTED, and the DISCONNECTED of the socket that shutdown closed behind it.
  t.regex(await logs.until(/shutdown: dropped/), /^shutdown: dropped 2 presence notices not delivered within 200 ms$/);
  await receiver.until(() => receiver.aborted >= 1, 'channeld to abort the hanging POST');
  t.is(receiver.hits.length, 1, 'the DISCONNECTED notice waited behind the CONNECTED one');
});

test('presence webhook - settings: flag and environment, bad URLs and short secrets are refused', (t) => {
  const fromEnv = loadConfig([], { CHANNELD_PRESENCE_WEBHOOK: 'https://app.example/', CHANNELD_PRESENCE_WEBHOOK_SECRET: 's'.repeat(16) });
  t.is(fromEnv.config.presenceWebhook, 'https://app.example/');
  t.is(fromEnv.config.presenceWebhookSecret, 's'.repeat(16));
  const fromFlags = loadConfig(['--presence-webhook', 'http://127.0.0.1:9000', '--presence-webhook-max-attempts', '3'], {});
  t.is(fromFlags.config.presenceWebhook, 'http://127.0.0.1:9000');
  t.is(fromFlags.config.presenceWebhookMaxAttempts, 3);
  t.is(fromFlags.config.presenceWebhookQueue, 10_000);
  t.throws(() => loadConfig(['--presence-webhook', 'ftp://app.example'], {}), {
    instanceOf: ConfigError,
    message: 'presence webhook is "ftp://app.example"; it must be an http:// or https:// URL',
  });
  t.throws(() => loadConfig(['--presence-webhook', 'not a url'], {}), { instanceOf: ConfigError });
  t.throws(() => loadConfig(['--presence-webhook-secret', 'short'], {}), {
    instanceOf: ConfigError,
    message: 'presence webhook secret is 5 bytes; it must be at least 16',
  });
  t.throws(() => loadConfig(['--presence-webhook-max-attempts', '0'], {}), { instanceOf: ConfigError });
});
