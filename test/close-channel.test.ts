import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { PresenceStream, brief, rejectsExactly, rejectsWith, toClient, toToken } from './helpers/grpc.js';
import { ManualClock } from './helpers/manual-clock.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

// Time stands still, so every CreateChannel and CloseChannel here falls in the same millisecond:
// the hardest case for revoking tokens by their issue time.
let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ clock: new ManualClock() });
});
test.after.always(async () => {
  await ts?.close();
});

/** Opens a socket with `token`; resolves with its close, or with 'welcomed' if it was accepted. */
async function tryOpen(token: string): Promise<{ code: number; reason: string } | 'welcomed'> {
  const socket = new RawSocket(ts.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'welcome or close');
  if (socket.welcome === undefined) return socket.closed;
  socket.close();
  return 'welcomed';
}

async function liveWatch(clientIds: string[]): Promise<PresenceStream> {
  const stream = new PresenceStream(ts.client, { clientIds, snapshot: true });
  await stream.untilSnapshotComplete();
  return stream;
}

test('closeChannel - closes the socket with 4503, says it was connected, and reports CHANNEL_CLOSED once', async (t) => {
  const watch = await liveWatch(['cc-live']);
  t.teardown(() => watch.cancel());
  const { socket } = await connect(ts, 'cc-live');
  await watch.untilEventsFor('cc-live', 1);
  const reply = await ts.rpc.closeChannel({ clientId: 'cc-live' });
  t.deepEqual(reply, { wasConnected: true });
  t.deepEqual(await socket.closed, { code: 4503, reason: 'Channel+closed.' });
  await watch.untilEventsFor('cc-live', 2);
  // Barrier: a new socket's CONNECTED comes after anything the close could still have produced.
  const again = await connect(ts, 'cc-live');
  await watch.untilEventsFor('cc-live', 3);
  t.deepEqual(brief(watch.eventsFor('cc-live')), [
    ['cc-live', 'CONNECTED', 'SOCKET_OPENED'],
    ['cc-live', 'DISCONNECTED', 'CHANNEL_CLOSED'],
    ['cc-live', 'CONNECTED', 'SOCKET_OPENED'],
  ]);
  const { clients } = await ts.rpc.getPresence({ clientIds: ['cc-live'] });
  t.true(clients[0]?.connected);
  again.socket.close();
});

test('closeChannel - without a socket it says was_connected=false and emits no presence', async (t) => {
  const watch = await liveWatch(['cc-idle', 'cc-unknown']);
  t.teardown(() => watch.cancel());
  await ts.createChannel('cc-idle');
  t.deepEqual(await ts.rpc.closeChannel({ clientId: 'cc-idle' }), { wasConnected: false });
  t.deepEqual(await ts.rpc.closeChannel({ clientId: 'cc-unknown' }), { wasConnected: false });
  // A disconnected socket does not count either.
  const { socket } = await connect(ts, 'cc-idle');
  socket.close();
  await watch.untilEventsFor('cc-idle', 2);
  t.deepEqual(await ts.rpc.closeChannel({ clientId: 'cc-idle' }), { wasConnected: false });
  const barrier = await connect(ts, 'cc-idle');
  await watch.untilEventsFor('cc-idle', 3);
  t.deepEqual(brief(watch.events), [
    ['cc-idle', 'CONNECTED', 'SOCKET_OPENED'],
    ['cc-idle', 'DISCONNECTED', 'SOCKET_CLOSED'],
    ['cc-idle', 'CONNECTED', 'SOCKET_OPENED'],
  ]);
  barrier.socket.close();
});

test('closeChannel - the old token no longer opens a socket (4500) nor addresses a SendMessage', async (t) => {
  const { socket, token } = await connect(ts, 'cc-revoke');
  const spare = (await ts.createChannel('cc-revoke')).token; // minted before the close, never used
  await ts.rpc.closeChannel({ clientId: 'cc-revoke' });
  await socket.closed;
  for (const old of [token, spare]) {
    t.deepEqual(await tryOpen(old), { code: 4500, reason: 'Invalid+token.' });
    await rejectsWith(t, ts.rpc.sendMessage(toToken(old, 'x')), grpc.status.FAILED_PRECONDITION, 'token was revoked by CloseChannel at ');
  }
});

test('closeChannel - a token minted afterwards works, on a new history without the old messages', async (t) => {
  const { socket } = await connect(ts, 'cc-new');
  const before = await ts.send('cc-new', 'before');
  await socket.untilMessages(1);
  await ts.rpc.closeChannel({ clientId: 'cc-new' });
  await socket.closed;
  const { token } = await ts.createChannel('cc-new');
  const fresh = new RawSocket(ts.wsUrl, token);
  await fresh.until(() => fresh.welcome !== undefined || fresh.closeCode !== undefined, 'welcome');
  t.is(fresh.closeCode, undefined);
  const after = await ts.rpc.sendMessage(toToken(token, 'after'));
  t.true(after.connected);
  t.is(after.seq, 1, 'the history starts again');
  t.not(after.epoch, before.epoch);
  await fresh.untilMessages(1);
  t.deepEqual(fresh.messages, [{ seq: 1, data: 'after' }]);
  t.is(fresh.welcome?.[1], after.epoch);
  fresh.close();
});

test('closeChannel - a second close revokes a token minted after the first one', async (t) => {
  await ts.rpc.closeChannel({ clientId: 'cc-twice' });
  const { socket, token } = await connect(ts, 'cc-twice');
  t.deepEqual(await ts.rpc.closeChannel({ clientId: 'cc-twice' }), { wasConnected: true });
  t.deepEqual(await socket.closed, { code: 4503, reason: 'Channel+closed.' });
  t.deepEqual(await tryOpen(token), { code: 4500, reason: 'Invalid+token.' });
  await rejectsWith(t, ts.rpc.sendMessage(toToken(token, 'x')), grpc.status.FAILED_PRECONDITION, 'token was revoked by CloseChannel at ');
  const { socket: third } = await connect(ts, 'cc-twice');
  t.is(third.closeCode, undefined, 'a token minted after the second close works');
  third.close();
});

test('closeChannel - messages sent between the close and the next socket still wait for it', async (t) => {
  await ts.createChannel('cc-gap');
  await ts.send('cc-gap', 'dropped with the channel');
  await ts.rpc.closeChannel({ clientId: 'cc-gap' });
  const kept = await ts.rpc.sendMessage(toClient('cc-gap', 'kept'));
  t.false(kept.connected);
  const { socket } = await connect(ts, 'cc-gap');
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: kept.seq, data: 'kept' }]);
  socket.close();
});

test('closeChannel - an empty client_id is INVALID_ARGUMENT, and the server goes on', async (t) => {
  await rejectsExactly(t, ts.rpc.closeChannel({ clientId: '' }), grpc.status.INVALID_ARGUMENT, 'client_id is empty; it must be 1 to 256 bytes of UTF-8');
  t.deepEqual(await ts.rpc.closeChannel({ clientId: 'cc-after-error' }), { wasConnected: false });
});
