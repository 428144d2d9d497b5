import test from 'ava';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ socketSendBufferBytes: 65_536 });
});
test.after.always(async () => {
  await ts?.close();
});

async function openLive(clientId: string): Promise<{ socket: RawSocket; token: string }> {
  const { token } = await ts.createChannel(clientId);
  const socket = new RawSocket(ts.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined, 'welcome');
  return { socket, token };
}

test('sockets - the server selects the channeld.v1 subprotocol', async (t) => {
  const { socket } = await openLive('proto');
  t.is(socket.ws.protocol, 'channeld.v1');
  socket.close();
  await socket.closed;
});

test('sockets - the newest socket wins; the replaced one is closed with 4502 and the new one gets messages', async (t) => {
  const { socket: old, token } = await openLive('twice');
  const fresh = new RawSocket(ts.wsUrl, token);
  t.deepEqual(await old.closed, { code: 4502, reason: 'Replaced+by+newer+socket.' });
  await fresh.until(() => fresh.welcome !== undefined, 'welcome');
  await ts.send('twice', 'to the new one');
  await fresh.untilMessages(1);
  t.deepEqual(fresh.messages, [{ seq: 1, data: 'to the new one' }]);
  t.is(old.messages.length, 0);
  fresh.close();
  await fresh.closed;
});

test('sockets - a forged token opens and is closed at once with 4500 Invalid+token.', async (t) => {
  const { token } = await ts.createChannel('forger');
  const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'AB' : 'AA'}`;
  const socket = new RawSocket(ts.wsUrl, forged);
  t.deepEqual(await socket.closed, { code: 4500, reason: 'Invalid+token.' });
  t.is(socket.frames.length, 0);
});

test('sockets - garbage that is not a token at all is closed with 4500', async (t) => {
  const socket = new RawSocket(ts.wsUrl, 'not-a-token');
  t.deepEqual(await socket.closed, { code: 4500, reason: 'Invalid+token.' });
});

test('sockets - an upgrade without the channeld.v1 subprotocol is refused with 400', async (t) => {
  const socket = new RawSocket(ts.wsUrl, undefined, { protocols: ['token.abc'] });
  await t.throwsAsync(socket.opened, { message: /400/ });
});

test('sockets - an upgrade without a token is refused with 401', async (t) => {
  const socket = new RawSocket(ts.wsUrl, undefined);
  await t.throwsAsync(socket.opened, { message: /401/ });
});

test('sockets - a half-given resume position is refused with 400', async (t) => {
  const { token } = await ts.createChannel('half');
  const ws = new WebSocket(`${ts.wsUrl}?seq=3`, ['channeld.v1', `token.${token}`]);
  const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  t.is(status, 400);
});

for (const [name, payload] of [
  ['invalid JSON', 'hello'],
  ['an unknown frame type', '[9,1]'],
  ['an ack with a negative seq', '[3,-1]'],
  ['a binary frame', Buffer.from([1, 2, 3])],
  ['a frame over the 16 KiB limit', `[3,${'1'.repeat(20_000)}]`],
  ['a frame over uWS\'s 64 KiB limit', `[3,${'1'.repeat(100_000)}]`],
] as const) {
  test(`sockets - ${name} closes that socket only and the server keeps serving`, async (t) => {
    const { socket: bad } = await openLive(`bad-${name}`);
    const { socket: good } = await openLive(`good-${name}`);
    bad.ws.send(payload);
    const closed = await bad.closed;
    // uWS cuts the TCP connection for frames over its limit: no close frame.
    if (payload.length > 65_536) t.is(closed.code, 1006);
    else t.deepEqual(closed, { code: 4504, reason: 'Protocol+error.' });
    await ts.send(`good-${name}`, 'still here');
    await good.untilMessages(1);
    t.is(good.messages[0]!.data, 'still here');
    good.close();
    await good.closed;
  });
}

test.serial('sockets - a socket that does not read is closed with 4001 once over its send buffer, and resumes without loss', async (t) => {
  const { socket, token } = await openLive('slow');
  const epoch = socket.welcome![1] as string;
  const socketStream = (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socketStream.pause();
  const big = 'x'.repeat(30_000);
  let slowClosed = false;
  const stopListening = ts.server.hub.presence.onPresenceChange((change) => {
    if (change.clientId === 'slow' && change.reason === 'slow-consumer') slowClosed = true;
  });
  let sent = 0;
  // Send until the server gives up on the socket, then read promptly: the 4001 close frame waits
  // behind the buffered data, and uWS cuts sockets that take seconds to drain it.
  while (!slowClosed && sent < 2000) {
    await ts.send('slow', `${sent}:${big}`);
    sent++;
  }
  stopListening();
  t.true(slowClosed, 'the server should close the socket as a slow consumer');
  socketStream.resume();
  const closed = await socket.closed;
  // The 4001 close frame waits behind the unread data and must survive it (the pinned uWS build
  // once lost large frames' payloads on EAGAIN, which showed here as a 1006; see socket-writer.ts).
  t.deepEqual(closed, { code: 4001, reason: 'Slow+consumer.' });
  const got = socket.messages.length;
  const again = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: socket.messages.at(-1)?.seq ?? 0 } });
  await again.until(() => again.welcome !== undefined, 'welcome');
  await again.until(() => again.messages.length + got >= sent, 'the rest after resume', 20_000);
  const seqs = [...socket.messages, ...again.messages].map((m) => m.seq);
  t.deepEqual(seqs, Array.from({ length: sent }, (_, i) => i + 1));
  t.is(again.welcome![3], true);
  again.close();
  await again.closed;
});

test('assets - /_ah/channel/jsapi is served as JavaScript to any origin, with caching and ETag revalidation', async (t) => {
  const res = await fetch(`${ts.httpUrl}/_ah/channel/jsapi`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/javascript; charset=utf-8');
  t.is(res.headers.get('access-control-allow-origin'), '*');
  t.regex(res.headers.get('cache-control') ?? '', /max-age=\d+/);
  const body = await res.text();
  t.true(body.includes('appengine'));
  const etag = res.headers.get('etag');
  t.truthy(etag);
  const again = await fetch(`${ts.httpUrl}/_ah/channel/jsapi`, { headers: { 'if-none-match': etag! } });
  t.is(again.status, 304);
});

test('assets - the ES module is served as JavaScript', async (t) => {
  const res = await fetch(`${ts.httpUrl}/_ah/channel/channeld.mjs`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.regex(await res.text(), /export\s*\{/);
});

test('assets - unknown paths are 404 and the demo is off unless asked for', async (t) => {
  t.is((await fetch(`${ts.httpUrl}/nope`)).status, 404);
  t.is((await fetch(`${ts.httpUrl}/demo/channels`, { method: 'POST', body: '{}' })).status, 404);
});
