import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { CreateChannelResponse, type SendMessageRequest } from '../gen/ts/channel/v1/channel.js';
import { ChannelError } from '../src/core/errors.js';
import { rejectsExactly, rejectsWith, toClient, toToken } from './helpers/grpc.js';
import { ManualClock } from './helpers/manual-clock.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const MINUTE = 60_000;
const EURO = '€'; // 3 bytes of UTF-8, 1 UTF-16 unit
const E_ACUTE = 'é'; // 2 bytes of UTF-8, 1 UTF-16 unit

// A clock that never moves on its own makes expire_time exact.
const clock = new ManualClock();
let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ clock });
});
test.after.always(async () => {
  await ts?.close();
});

let uniq = 0;
/** A client id no other test uses. */
function id(name: string): string {
  return `${name}-${++uniq}`;
}

/** The follow-up every error test ends with: the same server still mints and sends. */
async function stillServes(t: ExecutionContext, server: TestServer = ts): Promise<void> {
  const clientId = id('after-error');
  const created = await server.createChannel(clientId);
  t.true(created.token.length > 0, 'a follow-up CreateChannel succeeds');
  const sent = await server.rpc.sendMessage(toToken(created.token, 'still here'));
  t.is(sent.seq, 1, 'a follow-up SendMessage succeeds');
}

// ---- client_id ---------------------------------------------------------------------------------

test('client_id - empty is INVALID_ARGUMENT naming the field and the limit', async (t) => {
  await rejectsExactly(t, ts.createChannel(''), grpc.status.INVALID_ARGUMENT, 'client_id is empty; it must be 1 to 256 bytes of UTF-8');
  await stillServes(t);
});

test('client_id - exactly 256 bytes of multi-byte UTF-8 is accepted and works end to end', async (t) => {
  const clientId = EURO.repeat(85) + 'a';
  t.is(Buffer.byteLength(clientId), 256);
  t.is(clientId.length, 86);
  const { socket, token } = await connect(ts, clientId);
  const byToken = await ts.rpc.sendMessage(toToken(token, 'by token'));
  const byId = await ts.rpc.sendMessage(toClient(clientId, 'by id'));
  t.true(byToken.connected);
  t.is(byId.seq, byToken.seq + 1);
  await socket.untilMessages(2);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'by token' },
    { seq: 2, data: 'by id' },
  ]);
  socket.close();
  await socket.closed;
});

test('client_id - 257 bytes is INVALID_ARGUMENT counting bytes, not characters', async (t) => {
  const clientId = E_ACUTE.repeat(128) + 'a';
  t.is(clientId.length, 129);
  await rejectsExactly(t, ts.createChannel(clientId), grpc.status.INVALID_ARGUMENT, 'client_id is 257 bytes; the limit is 256');
  // 86 characters, far under 256, but 258 bytes.
  await rejectsExactly(t, ts.createChannel(EURO.repeat(86)), grpc.status.INVALID_ARGUMENT, 'client_id is 258 bytes; the limit is 256');
  await stillServes(t);
});

test('client_id - the same limits apply to a SendMessage target', async (t) => {
  await rejectsExactly(t, ts.rpc.sendMessage(toClient('', 'x')), grpc.status.INVALID_ARGUMENT, 'client_id is empty; it must be 1 to 256 bytes of UTF-8');
  await rejectsExactly(
    t,
    ts.rpc.sendMessage(toClient(E_ACUTE.repeat(129), 'x')),
    grpc.status.INVALID_ARGUMENT,
    'client_id is 258 bytes; the limit is 256',
  );
  await stillServes(t);
});

test('client_id - a lone surrogate is refused by the core, naming the field', async (t) => {
  const hub = ts.server.hub.api;
  const err = await t.throwsAsync(hub.createChannel('abc\ud800', 0), { instanceOf: ChannelError });
  t.is(err?.code, 'invalid-argument');
  t.is(err?.message, 'client_id is not valid UTF-8 (it holds a lone surrogate)');
  const send = await t.throwsAsync(hub.sendMessage({ target: { clientId: 'x' }, message: '\udc00 tail', idempotencyKey: '' }), {
    instanceOf: ChannelError,
  });
  t.is(send?.message, 'message is not valid UTF-8 (it holds a lone surrogate)');
  await stillServes(t);
});

/**
 * Protobuf string fields must hold valid UTF-8, but the generated decoder replaces bad bytes with
 * U+FFFD, so the core's lone-surrogate check never sees them and the request is served under a
 * client id the backend never sent. The gRPC layer decodes strictly and refuses such requests.
 */
test('client_id - bytes that are not UTF-8 on the wire (a CESU-8 lone surrogate) are INVALID_ARGUMENT', async (t) => {
  const raw = new grpc.Client(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  const loneSurrogate = Buffer.from([0x61, 0xed, 0xa0, 0x80]); // "a" + U+D800 encoded as if it were a code point
  const request = Buffer.concat([Buffer.from([0x0a, loneSurrogate.length]), loneSurrogate]);
  const call = new Promise<CreateChannelResponse>((resolve, reject) =>
    raw.makeUnaryRequest(
      '/channel.v1.ChannelService/CreateChannel',
      (b: Buffer) => b,
      (b: Buffer) => CreateChannelResponse.decode(b),
      request,
      (err, res) => (err || res === undefined ? reject(err) : resolve(res)),
    ),
  );
  await rejectsWith(t, call, grpc.status.INVALID_ARGUMENT, 'client_id', 'UTF-8');
});

// ---- message -----------------------------------------------------------------------------------

test('message - empty is INVALID_ARGUMENT naming the field and the limit', async (t) => {
  await rejectsExactly(t, ts.send(id('m-empty'), ''), grpc.status.INVALID_ARGUMENT, 'message is empty; it must be 1 to 32767 bytes of UTF-8');
  await stillServes(t);
});

test('message - exactly 32767 bytes of multi-byte UTF-8 is sent and arrives intact', async (t) => {
  const clientId = id('m-max');
  const message = E_ACUTE.repeat(16383) + 'a';
  t.is(Buffer.byteLength(message), 32767);
  const { socket } = await connect(ts, clientId);
  const sent = await ts.send(clientId, message);
  t.true(sent.connected);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: sent.seq, data: message }]);
  socket.close();
  await socket.closed;
});

test('message - 32768 bytes is INVALID_ARGUMENT "message is 32768 bytes; the limit is 32767"', async (t) => {
  const clientId = id('m-over');
  const message = E_ACUTE.repeat(16384); // 16384 characters, 32768 bytes
  await rejectsExactly(t, ts.send(clientId, message), grpc.status.INVALID_ARGUMENT, 'message is 32768 bytes; the limit is 32767');
  // Nothing was appended: the next message is the channel's first.
  const next = await ts.send(clientId, 'fits');
  t.is(next.seq, 1);
  await stillServes(t);
});

// ---- duration_minutes --------------------------------------------------------------------------

test('duration_minutes - 0 (unset) means 120, reported back with an exact expire_time', async (t) => {
  const created = await ts.createChannel(id('d0'), 0);
  t.is(created.durationMinutes, 120);
  t.is(created.expireTime?.getTime(), clock.nowMs() + 120 * MINUTE);
});

test('duration_minutes - 1 and 1440 are accepted as given', async (t) => {
  const one = await ts.createChannel(id('d1'), 1);
  t.is(one.durationMinutes, 1);
  t.is(one.expireTime?.getTime(), clock.nowMs() + MINUTE);
  const day = await ts.createChannel(id('d1440'), 1440);
  t.is(day.durationMinutes, 1440);
  t.is(day.expireTime?.getTime(), clock.nowMs() + 1440 * MINUTE);
});

for (const minutes of [-1, 1441]) {
  test(`duration_minutes - ${minutes} is INVALID_ARGUMENT naming the value and the range`, async (t) => {
    await rejectsExactly(
      t,
      ts.createChannel(id('d-bad'), minutes),
      grpc.status.INVALID_ARGUMENT,
      `duration_minutes is ${minutes}; it must be 1 to 1440 (or 0 for 120)`,
    );
    await stillServes(t);
  });
}

// ---- SendMessage target ------------------------------------------------------------------------

test('target - a SendMessage with neither client_id nor token is INVALID_ARGUMENT', async (t) => {
  const request: SendMessageRequest = { target: undefined, message: 'x', idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined };
  await rejectsExactly(t, ts.rpc.sendMessage(request), grpc.status.INVALID_ARGUMENT, 'target is missing: set client_id or token');
  await stillServes(t);
});

test('target - an empty token is INVALID_ARGUMENT', async (t) => {
  await rejectsExactly(t, ts.rpc.sendMessage(toToken('', 'x')), grpc.status.INVALID_ARGUMENT, 'token is empty');
  await stillServes(t);
});

test('target - forged and malformed tokens are INVALID_ARGUMENT', async (t) => {
  const { token } = await ts.createChannel(id('forged'));
  const dot = token.indexOf('.');
  const flip = (c: string): string => (c === 'A' ? 'B' : 'A');
  const badMac = token.slice(0, -1) + flip(token.slice(-1));
  const badPayload = flip(token[0]!) + token.slice(1);
  const noMac = token.slice(0, dot);
  const candidates = [badMac, badPayload, noMac, 'not-a-token', `${token}.x`, 'a.b'];
  for (const forged of candidates) {
    await rejectsExactly(t, ts.rpc.sendMessage(toToken(forged, 'x')), grpc.status.INVALID_ARGUMENT, 'token is not a valid channel token');
  }
  await stillServes(t);
});

test('target - a token signed by another server (another secret) is INVALID_ARGUMENT', async (t) => {
  const other = await startTestServer();
  t.teardown(() => other.close());
  const { token } = await other.createChannel('elsewhere');
  await rejectsExactly(t, ts.rpc.sendMessage(toToken(token, 'x')), grpc.status.INVALID_ARGUMENT, 'token is not a valid channel token');
  await stillServes(t);
});

test('target - an expired token is FAILED_PRECONDITION naming the expiry time', async (t) => {
  const expiryClock = new ManualClock();
  const server = await startTestServer({ clock: expiryClock });
  t.teardown(() => server.close());
  const created = await server.createChannel('expiring', 1);
  const before = await server.rpc.sendMessage(toToken(created.token, 'in time'));
  t.is(before.seq, 1);
  expiryClock.advance(MINUTE - 1);
  const last = await server.rpc.sendMessage(toToken(created.token, 'just in time'));
  t.is(last.seq, 2);
  expiryClock.advance(1);
  await rejectsExactly(
    t,
    server.rpc.sendMessage(toToken(created.token, 'too late')),
    grpc.status.FAILED_PRECONDITION,
    `token expired at ${created.expireTime?.toISOString()}`,
  );
  await stillServes(t, server);
});

test('target - a client id with no socket is OK with connected=false, and the message waits', async (t) => {
  const clientId = id('nobody');
  const never = await ts.send(id('never-created'), 'into the void');
  t.false(never.connected);
  t.is(never.seq, 1);
  const sent = await ts.send(clientId, 'waiting');
  t.false(sent.connected);
  t.is(sent.seq, 1);
  t.true(sent.epoch.length > 0);
  const { socket } = await connect(ts, clientId);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: 'waiting' }]);
  socket.close();
  await socket.closed;
});

// ---- idempotency_key ---------------------------------------------------------------------------

test('idempotency_key - 128 bytes is accepted, 129 bytes is INVALID_ARGUMENT', async (t) => {
  const clientId = id('idem-len');
  const ok = await ts.rpc.sendMessage(toClient(clientId, 'x', E_ACUTE.repeat(64)));
  t.is(ok.seq, 1);
  await rejectsExactly(
    t,
    ts.rpc.sendMessage(toClient(clientId, 'y', E_ACUTE.repeat(64) + 'a')),
    grpc.status.INVALID_ARGUMENT,
    'idempotency_key is 129 bytes; the limit is 128',
  );
  await stillServes(t);
});

// ---- CreateChannel -----------------------------------------------------------------------------

test('createChannel - each call mints a new, different token, and every one of them works', async (t) => {
  const clientId = id('many-tokens');
  const created = await Promise.all([1, 2, 3].map(() => ts.createChannel(clientId)));
  const tokens = created.map((c) => c.token);
  t.is(new Set(tokens).size, 3);
  const seqs: number[] = [];
  const epochs = new Set<string>();
  for (const token of tokens) {
    const sent = await ts.rpc.sendMessage(toToken(token, token.slice(0, 8)));
    seqs.push(sent.seq);
    epochs.add(sent.epoch);
  }
  t.deepEqual(seqs, [1, 2, 3], 'all three tokens address the same channel');
  t.is(epochs.size, 1);
  // The first token still opens a socket, which gets what was sent through all three.
  const socket = new RawSocket(ts.wsUrl, tokens[0]);
  await socket.untilMessages(3);
  t.deepEqual(
    socket.messages.map((m) => m.seq),
    [1, 2, 3],
  );
  socket.close();
  await socket.closed;
});
