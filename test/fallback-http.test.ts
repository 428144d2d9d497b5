import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { FallbackWire, post, type FallbackKind, type OpenBody } from './helpers/fallback-wire.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

/**
 * The fallback transport's wire (docs/protocol.md §5) against a real server, without the bundled
 * client: the handshake, acks, resume and topics over an event stream and over long polls; the
 * outgoing cap (4001, as for a socket); an idle poller treated as gone; hostile POSTs answered with
 * a clear 4xx while everything else keeps working.
 */
interface Context {
  ts: TestServer;
}
const test = anyTest as TestFn<Context>;

const SEND_BUFFER_BYTES = 65_536;
const POLL_IDLE_MS = 1500;

test.before(async (t) => {
  const ts = await startTestServer({ socketSendBufferBytes: SEND_BUFFER_BYTES, replayBufferSize: 3000, fallback: { pollHoldMs: 1000, pollIdleMs: POLL_IDLE_MS } });
  t.context = { ts };
});

test.after.always(async (t) => {
  await t.context.ts?.close();
});

let ids = 0;
const unique = (name: string): string => `fh-${name}-${++ids}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A wire that records everything, with a helper to wait on it. */
function open(ts: TestServer, kind: FallbackKind, body: OpenBody) {
  const frames: unknown[][] = [];
  let closed: [number, string] | undefined;
  let listener = (): void => undefined;
  const wire = new FallbackWire(ts.httpUrl, kind, body, {
    open: () => listener(),
    frame: (f) => {
      frames.push(f);
      listener();
    },
    close: (code, reason) => {
      closed = [code, reason];
      listener();
    },
  });
  const until = (predicate: () => boolean, what: string, ms = 8000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${JSON.stringify({ frames: frames.slice(-5), closed })}`)), ms);
      listener = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        listener = () => undefined;
        resolve();
      };
      listener();
    });
  return { wire, frames, closed: () => closed, until };
}

async function presence(ts: TestServer, clientId: string): Promise<boolean> {
  const res = await ts.rpc.getPresence({ clientIds: [clientId] });
  return res.clients[0]!.connected;
}

for (const kind of ['sse', 'poll'] as const) {
  test.serial(`fallback http (${kind}) - welcome, messages in order, acks, the client's close; a fresh open starts after the acked seq`, async (t) => {
    const { ts } = t.context;
    const id = unique(`basic-${kind}`);
    const { token } = await ts.createChannel(id);
    const first = await ts.send(id, 'one');
    await ts.send(id, 'two');
    const c = open(ts, kind, { token });
    await c.until(() => c.frames.length >= 3, 'welcome and two messages');
    t.deepEqual(c.frames, [[0, first.epoch, 0, true], [1, 1, 'one'], [1, 2, 'two']]);
    t.true(await presence(ts, id), 'the fallback connection counts as connected');
    await ts.send(id, 'three');
    await c.until(() => c.frames.length >= 4, 'a live message');
    t.deepEqual(c.frames[3], [1, 3, 'three']);
    t.is(await c.wire.send([[3, 3]]), 204);
    t.is(await c.wire.send([], true), 204);
    await c.until(() => c.closed() !== undefined, 'the close');
    t.deepEqual(c.closed(), [1000, '']);
    t.false(await presence(ts, id));
    const again = open(ts, kind, { token });
    await again.until(() => again.frames.length >= 1, 'the welcome');
    t.deepEqual(again.frames[0], [0, first.epoch, 3, true], 'the ack came through');
    again.wire.cut();
  });

  test.serial(`fallback http (${kind}) - resume with epoch and seq gets what was missed; outside the window "not recovered"`, async (t) => {
    const { ts } = t.context;
    const id = unique(`resume-${kind}`);
    const { token } = await ts.createChannel(id);
    const sent = await ts.send(id, 'm1');
    for (let n = 2; n <= 4; n++) await ts.send(id, `m${n}`);
    const c = open(ts, kind, { token, epoch: sent.epoch, seq: 2 });
    await c.until(() => c.frames.length >= 3, 'the welcome and the missed');
    t.deepEqual(c.frames, [[0, sent.epoch, 2, true], [1, 3, 'm3'], [1, 4, 'm4']]);
    c.wire.cut();
    const other = open(ts, kind, { token, epoch: 'not-this-epoch', seq: 2 });
    await other.until(() => other.frames.length >= 1, 'the welcome');
    t.like(other.frames[0], { 0: 0, 3: false });
    other.wire.cut();
  });

  test.serial(`fallback http (${kind}) - topics: the topic welcome and broadcasts; a reconnect resumes the topic with its resume frame`, async (t) => {
    const { ts } = t.context;
    const id = unique(`topic-${kind}`);
    const topic = unique('news');
    const { token } = await ts.createChannel(id);
    await ts.rpc.subscribe({ clientIds: [id], topic });
    const c = open(ts, kind, { token });
    await c.until(() => c.frames.some((f) => f[0] === 4), 'the topic welcome');
    const b1 = await ts.rpc.broadcast({ message: 'b1', clientIds: [], topics: [topic] });
    await c.until(() => c.frames.some((f) => f[0] === 2), 'a topic message');
    t.deepEqual(c.frames.find((f) => f[0] === 2), [2, topic, 1, 'b1']);
    const epoch = c.frames[0]![1] as string;
    const topicEpoch = b1.topics[0]!.epoch;
    c.wire.cut();
    await ts.rpc.broadcast({ message: 'b2', clientIds: [], topics: [topic] });
    const r = open(ts, kind, { token, epoch, seq: 0, topics: true });
    await r.until(() => r.wire.ref !== undefined, 'the open');
    t.is(await r.wire.send([[5, [[topic, topicEpoch, 1]]], [3, 1, topic]]), 204, 'the topic resume frame, then an ack, in one POST');
    await r.until(() => r.frames.some((f) => f[0] === 2), 'the missed topic message');
    t.deepEqual(r.frames.filter((f) => f[0] === 4 || f[0] === 2), [[4, topic, topicEpoch, 1, true], [2, topic, 2, 'b2']]);
    r.wire.cut();
  });
}

test.serial('fallback http (poll) - an answer lost on the way comes again: a poll that repeats its seen count gets the same frames', async (t) => {
  const { ts } = t.context;
  const id = unique('repoll');
  const { token } = await ts.createChannel(id);
  await ts.send(id, 'x');
  const url = `${ts.httpUrl}/_ah/channel/poll`;
  const first = (await (await post(url, { token })).json()) as { id: string; key: string; next: number; frames: unknown[] };
  t.is(first.frames.length, 2, 'the welcome and the message');
  const ref = { id: first.id, key: first.key };
  await ts.send(id, 'y');
  const a = (await (await post(url, { ...ref, seen: first.next })).json()) as { next: number; frames: unknown[] };
  t.deepEqual(a.frames, [[1, 2, 'y']]);
  const b = (await (await post(url, { ...ref, seen: first.next })).json()) as { next: number; frames: unknown[] };
  t.deepEqual(b, a, 'the same answer again');
  const empty = (await (await post(url, { ...ref, seen: b.next })).json()) as { next: number; frames: unknown[] };
  t.deepEqual(empty, { next: b.next, frames: [] }, 'held, then answered empty');
  await post(`${ts.httpUrl}/_ah/channel/send`, { ...ref, close: true });
});

test.serial('fallback http (poll) - a client that stops polling is disconnected after the idle time', async (t) => {
  const { ts } = t.context;
  const id = unique('idle');
  const { token } = await ts.createChannel(id);
  const disconnected = new Promise<string>((resolve) => {
    const stop = ts.server.hub.presence.onPresenceChange((change) => {
      if (change.clientId !== id || change.state !== 'disconnected') return;
      stop();
      resolve(change.reason);
    });
  });
  const res = (await (await post(`${ts.httpUrl}/_ah/channel/poll`, { token })).json()) as { id: string; key: string };
  t.true(await presence(ts, id));
  const started = performance.now();
  t.is(await disconnected, 'socket-closed');
  const waited = performance.now() - started;
  t.true(waited >= POLL_IDLE_MS - 200 && waited < POLL_IDLE_MS + 3000, `disconnected after ${waited.toFixed(0)} ms`);
  const late = await post(`${ts.httpUrl}/_ah/channel/poll`, { ...res, seen: 1 });
  t.is(late.status, 404, 'the connection is gone');
});

// ---- the outgoing cap --------------------------------------------------------------------------

const BIG = 'x'.repeat(30_000);
const GIVE_UP_BYTES = 40 * 1024 * 1024;

/** An event stream read over raw TCP, so the test can stop reading it: chunked transfer decoded by hand. */
function rawStream(port: number, body: string) {
  const socket = tcpConnect(port, '127.0.0.1');
  let raw = Buffer.alloc(0);
  let headerDone = false;
  let chunkEnd = false;
  let text = '';
  let ended = false;
  socket.on('data', (chunk: Buffer) => {
    raw = Buffer.concat([raw, chunk]);
    if (!headerDone) {
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      headerDone = true;
      raw = raw.subarray(end + 4);
    }
    for (;;) {
      // A chunk's closing CRLF may come with the next write.
      if (chunkEnd) {
        if (raw.length < 2) return;
        raw = raw.subarray(2);
        chunkEnd = false;
      }
      const line = raw.indexOf('\r\n');
      if (line < 0) return;
      const size = parseInt(raw.subarray(0, line).toString('latin1'), 16);
      if (size === 0) {
        ended = true;
        return;
      }
      if (raw.length < line + 2 + size) return;
      text += raw.subarray(line + 2, line + 2 + size).toString('utf8');
      raw = raw.subarray(line + 2 + size);
      chunkEnd = true;
    }
  });
  socket.on('end', () => (ended = true));
  socket.on('error', () => (ended = true));
  socket.write(`POST /_ah/channel/sse HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  return {
    socket,
    text: () => text,
    ended: () => ended,
    events: () =>
      text
        .split('\n\n')
        .filter((e) => e !== '' && !e.startsWith(':'))
        .map((e) => ({ type: /^event: (.*)$/m.exec(e)?.[1] ?? 'message', data: JSON.parse(/^data: (.*)$/m.exec(e)?.[1] ?? 'null') as unknown })),
  };
}

async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function watchSlow(ts: TestServer, clientId: string, onSlow: () => void): () => boolean {
  let slow = false;
  const stop = ts.server.hub.presence.onPresenceChange((change) => {
    if (change.clientId !== clientId || change.reason !== 'slow-consumer') return;
    slow = true;
    stop();
    onSlow();
  });
  return () => slow;
}

function assertContiguous(t: ExecutionContext<Context>, seqs: readonly number[]): void {
  t.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'no frame skipped before the close');
}

test.serial('fallback http (sse) - a reader that stops reading is closed with 4001 Slow+consumer., as a socket is, with nothing skipped; the resume gets the rest', async (t) => {
  const { ts } = t.context;
  const id = unique('slow-sse');
  const { token } = await ts.createChannel(id);
  const s = rawStream(ts.server.httpPort, JSON.stringify({ token }));
  await until(() => s.text().includes('data: [0,'), 'the welcome');
  s.socket.pause();
  // Reading resumes the moment the server gives up, so the close event behind the backlog gets out.
  const slow = watchSlow(ts, id, () => s.socket.resume());
  let sent = 0;
  let epoch = '';
  for (; !slow() && sent * BIG.length < GIVE_UP_BYTES; sent++) epoch = (await ts.send(id, BIG)).epoch;
  t.true(slow(), `closed as slow after ${sent} messages of 30 kB (cap ${SEND_BUFFER_BYTES} B)`);
  await until(() => s.ended(), 'the end of the stream');
  const events = s.events();
  t.deepEqual(events.at(-1), { type: 'close', data: [4001, 'Slow+consumer.'] });
  const seqs = events.filter((e) => e.type === 'message' && (e.data as unknown[])[0] === 1).map((e) => (e.data as number[])[1]!);
  assertContiguous(t, seqs);
  t.true(seqs.length < sent, `${seqs.length} of ${sent} messages got out before the close`);
  const r = open(ts, 'sse', { token, epoch, seq: seqs.at(-1) ?? 0 });
  await r.until(() => r.frames.filter((f) => f[0] === 1).length >= sent - seqs.length, 'the rest', 20_000);
  const rest = r.frames.filter((f) => f[0] === 1).map((f) => f[1] as number);
  t.deepEqual(rest, Array.from({ length: sent - seqs.length }, (_, i) => seqs.length + 1 + i), 'the resume gets every message after the last one read');
  t.like(r.frames[0], { 0: 0, 3: true });
  r.wire.cut();
});

test.serial('fallback http (sse) - a reader that keeps up is not closed while 90 times the cap flows through it', async (t) => {
  const { ts } = t.context;
  const id = unique('keeps-up');
  const { token } = await ts.createChannel(id);
  const c = open(ts, 'sse', { token });
  await c.until(() => c.frames.length >= 1, 'the welcome');
  const total = 200;
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < total) {
      next++;
      await ts.send(id, BIG);
    }
  }));
  await c.until(() => c.frames.length >= total + 1 || c.closed() !== undefined, 'every message', 20_000);
  t.is(c.closed(), undefined);
  t.deepEqual(c.frames.slice(1).map((f) => f[1]), Array.from({ length: total }, (_, i) => i + 1));
  c.wire.cut();
});

test.serial('fallback http (poll) - a poller whose unfetched frames go over the cap gets 4001 Slow+consumer. at its next poll', async (t) => {
  const { ts } = t.context;
  const id = unique('slow-poll');
  const { token } = await ts.createChannel(id);
  const url = `${ts.httpUrl}/_ah/channel/poll`;
  const first = (await (await post(url, { token })).json()) as { id: string; key: string; next: number };
  const slow = watchSlow(ts, id, () => undefined);
  let sent = 0;
  for (; !slow() && sent < 100; sent++) await ts.send(id, BIG);
  t.true(slow(), `closed as slow after ${sent} messages`);
  t.true(sent * BIG.length > SEND_BUFFER_BYTES && sent * BIG.length < SEND_BUFFER_BYTES + 2 * BIG.length, 'right at the cap');
  const answer = (await (await post(url, { id: first.id, key: first.key, seen: first.next })).json()) as { frames: unknown[]; close?: unknown };
  t.deepEqual(answer.frames, [], 'what was over the cap is dropped (the resume reads it from history)');
  t.deepEqual(answer.close, [4001, 'Slow+consumer.']);
});

// ---- hostile input -----------------------------------------------------------------------------

test.serial('fallback http - hostile POSTs get a clear 4xx, and nothing else breaks', async (t) => {
  const { ts } = t.context;
  const id = unique('hostile');
  const { token } = await ts.createChannel(id);
  const c = open(ts, 'sse', { token });
  await c.until(() => c.frames.length >= 1, 'the welcome');
  const ref = c.wire.ref!;
  const send = `${ts.httpUrl}/_ah/channel/send`;
  const sse = `${ts.httpUrl}/_ah/channel/sse`;
  const poll = `${ts.httpUrl}/_ah/channel/poll`;
  const answers: [string, string, unknown, number, RegExp][] = [
    ['send: not JSON', send, '{not json', 400, /one JSON object/],
    ['send: an array', send, '[]', 400, /one JSON object/],
    ['send: no id', send, { key: ref.key }, 400, /"id" must be/],
    ['send: an unknown id', send, { id: 'nope', key: ref.key, frames: [] }, 404, /no such connection/],
    ['send: the wrong key', send, { id: ref.id, key: `${ref.key.slice(0, -1)}A`, frames: [[3, 0]] }, 404, /no such connection/],
    ['send: a short key', send, { id: ref.id, key: 'x', frames: [] }, 404, /no such connection/],
    ['send: too many frames', send, { ...ref, frames: Array.from({ length: 65 }, () => [3, 0]) }, 400, /at most 64 frames/],
    ['send: close not true', send, { ...ref, close: 'yes' }, 400, /"close" may only be true/],
    ['send: oversize', send, 'x'.repeat(100_000), 413, /over 20480 bytes/],
    ['sse: no token', sse, {}, 400, /"token" must be/],
    ['sse: epoch without seq', sse, { token, epoch: 'e' }, 400, /together/],
    ['sse: a negative seq', sse, { token, epoch: 'e', seq: -1 }, 400, /"seq" must be a non-negative integer/],
    ['sse: oversize', sse, 'x'.repeat(100_000), 413, /over 20480 bytes/],
    ['poll: seen ahead', poll, { ...ref, seen: 5 }, 404, /no such connection/],
    ['poll: seen not a number', poll, { ...ref, seen: 'a' }, 400, /"seen" must be/],
    ['poll: a forged token', poll, { token: 'AAAA.BBBB' }, 401, /Invalid\+token\./],
  ];
  for (const [what, url, body, status, text] of answers) {
    const res = await post(url, body);
    const answer = await res.text();
    t.is(res.status, status, `${what}: ${answer}`);
    const parsed = JSON.parse(answer) as { error?: string; reason?: string };
    t.regex(parsed.error ?? parsed.reason ?? '', text, what);
    if (status !== 401) t.is(res.headers.get('content-type'), 'application/json; charset=utf-8', what);
  }
  // The connection the hostile POSTs named still works.
  await ts.send(id, 'still here');
  await c.until(() => c.frames.some((f) => f[1] === 1), 'a message after the hostile POSTs');
  t.is(c.closed(), undefined);
  t.is(await c.wire.send([[3, 1]]), 204);
  // A frame the protocol does not allow, from the connection's own client, closes it with 4504 (as on a socket).
  const bad = await post(send, { ...ref, frames: [[9, 'x']] });
  t.is(bad.status, 400);
  t.regex(await bad.text(), /4504/);
  await c.until(() => c.closed() !== undefined, 'the close');
  t.deepEqual(c.closed(), [4504, 'Protocol+error.']);
  t.is((await post(send, { ...ref, frames: [] })).status, 404, 'the closed connection is gone');
  // A poll connection's seen count ahead of what was sent.
  const p = (await (await post(poll, { token })).json()) as { id: string; key: string; next: number };
  const ahead = await post(poll, { id: p.id, key: p.key, seen: p.next + 10 });
  t.is(ahead.status, 400);
  t.regex(await ahead.text(), /only \d+ frames were sent/);
  await post(send, { id: p.id, key: p.key, close: true });
  // The server serves sockets and new fallback connections as before.
  const other = unique('after-hostile');
  const { token: otherToken } = await ts.createChannel(other);
  const ws = new RawSocket(ts.wsUrl, otherToken);
  await ws.until(() => ws.welcome !== undefined, 'a socket welcome');
  ws.close();
  const fresh = open(ts, 'sse', { token: otherToken });
  await fresh.until(() => fresh.frames.length >= 1, 'a fresh fallback welcome');
  fresh.wire.cut();
});

// ---- the rest of a socket's life -----------------------------------------------------------------

test.serial('fallback http - CloseChannel ends a fallback connection with 4503 Channel+closed., as a socket', async (t) => {
  const { ts } = t.context;
  for (const kind of ['sse', 'poll'] as const) {
    const id = unique(`closed-${kind}`);
    const { token } = await ts.createChannel(id);
    const c = open(ts, kind, { token });
    await c.until(() => c.frames.length >= 1, 'the welcome');
    await ts.rpc.closeChannel({ clientId: id });
    await c.until(() => c.closed() !== undefined, 'the close');
    t.deepEqual(c.closed(), [4503, 'Channel+closed.'], kind);
  }
});

test.serial('fallback http (sse) - an idle event stream gets a heartbeat comment', async (t) => {
  const ts = await startTestServer({ fallback: { heartbeatMs: 300 } });
  t.teardown(() => ts.close());
  const { token } = await ts.createChannel(unique('heartbeat'));
  const s = rawStream(ts.server.httpPort, JSON.stringify({ token }));
  await until(() => s.text().includes('data: [0,'), 'the welcome');
  const at = s.text().length;
  await until(() => s.text().slice(at).includes(':\n\n'), 'a heartbeat', 3000);
  t.regex(s.text(), /"heartbeatMs":300/, 'the open event says how often');
  s.socket.destroy();
});

test.serial('fallback http - a node shutting down ends its fallback connections with 1001 Going+away., as its sockets', async (t) => {
  const ts = await startTestServer({ fallback: { pollHoldMs: 60_000 } });
  const ids = [unique('down-sse'), unique('down-poll')];
  const tokens = await Promise.all(ids.map((id) => ts.createChannel(id)));
  const conns = (['sse', 'poll'] as const).map((kind, i) => open(ts, kind, { token: tokens[i]!.token }));
  await Promise.all(conns.map((c) => c.until(() => c.frames.length >= 1, 'the welcome')));
  const closing = ts.close();
  await Promise.all(conns.map((c) => c.until(() => c.closed() !== undefined, 'the close')));
  await closing;
  t.deepEqual(conns[0]!.closed(), [1001, 'Going+away.'], 'the event stream');
  // A held poll is answered as the node stops listening; the next poll finds the close, or nobody (lost, 1006).
  t.true([1001, 1006].includes(conns[1]!.closed()![0]), `the poller: ${JSON.stringify(conns[1]!.closed())}`);
});

test.serial("fallback http - the operator's socket limits apply to fallback opens: allowed origins (403) and the sockets a node holds (503)", async (t) => {
  const ts = await startTestServer({ maxSockets: 1, allowedOrigins: ['https://app.example'] });
  t.teardown(() => ts.close());
  const { token } = await ts.createChannel(unique('limits'));
  const withOrigin = (path: string, body: unknown, origin: string) =>
    fetch(`${ts.httpUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { origin, 'content-type': 'text/plain' } });
  for (const path of ['/_ah/channel/sse', '/_ah/channel/poll']) {
    const res = await withOrigin(path, { token }, 'https://evil.example');
    t.is(res.status, 403, path);
    t.regex(((await res.json()) as { error: string }).error, /origin may not open/);
  }
  const abort = new AbortController();
  const first = await fetch(`${ts.httpUrl}/_ah/channel/sse`, { method: 'POST', body: JSON.stringify({ token }), headers: { origin: 'https://app.example' }, signal: abort.signal });
  t.is(first.status, 200);
  const second = await withOrigin('/_ah/channel/poll', { token }, 'https://app.example');
  t.is(second.status, 503, 'the node holds as many as it may');
  t.is(second.headers.get('retry-after'), '5');
  const upgrade = await new Promise<number>((resolve) => {
    const ws = new WebSocket(ts.wsUrl, ['channeld.v1', `token.${token}`], { origin: 'https://app.example' });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => resolve(0));
  });
  t.is(upgrade, 503, 'the fallback connection counts against the limit a WebSocket upgrade meets');
  abort.abort();
  // Once it is gone, there is room again.
  await until(async () => (await withOrigin('/_ah/channel/poll', { token }, 'https://app.example')).status === 200, 'room for a new connection', 5000);
});

test.serial('fallback http - the upgrade rate per address counts opens only: polls and sends of an open connection do not use it up', async (t) => {
  const ts = await startTestServer({ upgradeRatePerIp: 1, upgradeBurstPerIp: 2, fallback: { pollHoldMs: 50 } });
  t.teardown(() => ts.close());
  const { token } = await ts.createChannel(unique('rate'));
  const poll = `${ts.httpUrl}/_ah/channel/poll`;
  const first = (await (await post(poll, { token })).json()) as { id: string; key: string; next: number };
  for (let i = 0; i < 5; i++) {
    t.is((await post(poll, { id: first.id, key: first.key, seen: first.next })).status, 200, `poll ${i}`);
    t.is((await post(`${ts.httpUrl}/_ah/channel/send`, { id: first.id, key: first.key, frames: [] })).status, 204, `send ${i}`);
  }
  const second = await post(poll, { token });
  t.is(second.status, 200, 'the burst allows a second open');
  const third = await post(`${ts.httpUrl}/_ah/channel/sse`, { token });
  t.is(third.status, 429, 'a third open at once is over the rate');
  t.regex(((await third.json()) as { error: string }).error, /too many/);
  t.is(third.headers.get('retry-after'), '1');
});

test.serial('fallback http - a POST with no body at all is a 400, not a hang', async (t) => {
  const { ts } = t.context;
  for (const path of ['/_ah/channel/sse', '/_ah/channel/poll', '/_ah/channel/send']) {
    const res = await fetch(`${ts.httpUrl}${path}`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    t.is(res.status, 400, path);
  }
});
