import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import type { ChannelError } from '../src/core/errors.js';
import type { PresenceItem, PresenceSink } from '../src/core/presence-feed.js';
import { PresenceStream, brief, rejectsExactly } from './helpers/grpc.js';
import { ManualClock } from './helpers/manual-clock.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const MINUTE = 60_000;

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer();
});
test.after.always(async () => {
  await ts?.close();
});

/** A watch that is live: its snapshot (of matching clients) has been sent, so no change is missed. */
async function liveWatch(server: TestServer, request: ConstructorParameters<typeof PresenceStream>[1]): Promise<PresenceStream> {
  const stream = new PresenceStream(server.client, { ...request, snapshot: true }, server.metadata);
  await stream.untilSnapshotComplete();
  return stream;
}

/** Opens and closes a socket for `clientId`, waiting until the watch saw both changes. */
async function blink(server: TestServer, watch: PresenceStream, clientId: string): Promise<void> {
  const before = watch.eventsFor(clientId).length;
  const { socket } = await connect(server, clientId);
  await watch.untilEventsFor(clientId, before + 1);
  socket.close();
  await socket.closed;
  await watch.untilEventsFor(clientId, before + 2);
}

// ---- live changes ------------------------------------------------------------------------------

test('watchPresence - CONNECTED on open and DISCONNECTED (SOCKET_CLOSED) on close, once each, in order', async (t) => {
  const watch = await liveWatch(ts, { clientIds: ['w-open'] });
  t.teardown(() => watch.cancel());
  t.deepEqual(watch.summary(), [['complete', false]], 'nobody is connected yet');
  await blink(ts, watch, 'w-open');
  // A second round is the barrier: had the first produced an extra event, it would sit in between.
  await blink(ts, watch, 'w-open');
  const events = watch.eventsFor('w-open');
  t.deepEqual(brief(events), [
    ['w-open', 'CONNECTED', 'SOCKET_OPENED'],
    ['w-open', 'DISCONNECTED', 'SOCKET_CLOSED'],
    ['w-open', 'CONNECTED', 'SOCKET_OPENED'],
    ['w-open', 'DISCONNECTED', 'SOCKET_CLOSED'],
  ]);
  t.is(new Set(events.map((e) => e.cursor)).size, 4, 'every event has its own cursor');
  const times = events.map((e) => e.time?.getTime() ?? 0);
  t.true(times.every((time, i) => time > 0 && (i === 0 || time >= times[i - 1]!)), `times in order: ${times.join(', ')}`);
});

test('watchPresence - a second socket for the same client id displaces the first (4502) with no extra presence', async (t) => {
  const watch = await liveWatch(ts, { clientIds: ['w-dup'] });
  t.teardown(() => watch.cancel());
  const first = await connect(ts, 'w-dup');
  await watch.untilEventsFor('w-dup', 1);
  const second = await connect(ts, 'w-dup');
  t.deepEqual(await first.socket.closed, { code: 4502, reason: 'Replaced+by+newer+socket.' });
  const presence = await ts.rpc.getPresence({ clientIds: ['w-dup'] });
  t.true(presence.clients[0]?.connected, 'still connected through the second socket');
  const sent = await ts.send('w-dup', 'to the newest');
  t.true(sent.connected);
  await second.socket.untilMessages(1);
  t.deepEqual(second.socket.messages, [{ seq: 1, data: 'to the newest' }]);
  t.deepEqual(first.socket.messages, []);
  second.socket.close();
  await second.socket.closed;
  await watch.untilEventsFor('w-dup', 2);
  await blink(ts, watch, 'w-dup'); // barrier
  t.deepEqual(brief(watch.eventsFor('w-dup')), [
    ['w-dup', 'CONNECTED', 'SOCKET_OPENED'],
    ['w-dup', 'DISCONNECTED', 'SOCKET_CLOSED'],
    ['w-dup', 'CONNECTED', 'SOCKET_OPENED'],
    ['w-dup', 'DISCONNECTED', 'SOCKET_CLOSED'],
  ]);
});

// ---- snapshot ----------------------------------------------------------------------------------

test('watchPresence - snapshot lists connected clients, then snapshot_complete, then live changes', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const a = await connect(server, 's-a');
  const b = await connect(server, 's-b');
  const gone = await connect(server, 's-gone');
  gone.socket.close();
  await gone.socket.closed;
  const since = await server.rpc.getPresence({ clientIds: ['s-a', 's-b', 's-gone'] });
  t.deepEqual(
    since.clients.map((c) => c.connected),
    [true, true, false],
  );

  const watch = new PresenceStream(server.client, { snapshot: true });
  t.teardown(() => watch.cancel());
  await watch.untilSnapshotComplete();
  const snapshot = watch.events;
  t.deepEqual(brief(snapshot).sort(), [
    ['s-a', 'CONNECTED', 'SNAPSHOT'],
    ['s-b', 'CONNECTED', 'SNAPSHOT'],
  ]);
  for (const event of snapshot) {
    const connectedSince = since.clients.find((c) => c.clientId === event.clientId)?.connectedSince;
    t.deepEqual(event.time, connectedSince, `${event.clientId}: a snapshot event carries when the socket connected`);
  }
  const complete = watch.snapshotComplete;
  t.false(complete?.resumeFailed);
  t.true((complete?.cursor ?? '') !== '');
  t.is(watch.responses.length, 3, 'the marker comes right after the snapshot');

  const c = await connect(server, 's-c');
  a.socket.close();
  await watch.untilEventsFor('s-a', 2);
  t.deepEqual(watch.summary().slice(2), [
    ['complete', false],
    ['s-c', 'CONNECTED', 'SOCKET_OPENED'],
    ['s-a', 'DISCONNECTED', 'SOCKET_CLOSED'],
  ]);
  b.socket.close();
  c.socket.close();
});

test('watchPresence - without snapshot, only changes after the start are sent, with no marker', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const early = await connect(server, 'n-early');
  const plain = new PresenceStream(server.client, {});
  t.teardown(() => plain.cancel());
  // Started after `plain` on the same connection: once it is live, so is `plain`.
  const sync = await liveWatch(server, {});
  t.teardown(() => sync.cancel());
  const late = await connect(server, 'n-late');
  early.socket.close();
  await sync.untilEventsFor('n-early', 2);
  await plain.untilEventsFor('n-early', 1);
  t.deepEqual(plain.summary(), [
    ['n-late', 'CONNECTED', 'SOCKET_OPENED'],
    ['n-early', 'DISCONNECTED', 'SOCKET_CLOSED'],
  ]);
  late.socket.close();
});

// ---- filters -----------------------------------------------------------------------------------

test('watchPresence - a client_ids filter passes only those client ids', async (t) => {
  const watch = await liveWatch(ts, { clientIds: ['f-1', 'f-3'] });
  t.teardown(() => watch.cancel());
  const all = await liveWatch(ts, { clientIdPrefix: 'f-' });
  t.teardown(() => all.cancel());
  for (const id of ['f-1', 'f-2', 'f-3']) await blink(ts, all, id);
  await watch.untilEventsFor('f-3', 2);
  t.deepEqual(watch.summary(), [
    ['complete', false],
    ['f-1', 'CONNECTED', 'SOCKET_OPENED'],
    ['f-1', 'DISCONNECTED', 'SOCKET_CLOSED'],
    ['f-3', 'CONNECTED', 'SOCKET_OPENED'],
    ['f-3', 'DISCONNECTED', 'SOCKET_CLOSED'],
  ]);
  t.is(all.eventsFor('f-2').length, 2, 'f-2 did come and go');
});

test('watchPresence - a client_id_prefix filter passes only ids starting with it (and combines with client_ids)', async (t) => {
  const prefixed = await liveWatch(ts, { clientIdPrefix: 'px-' });
  t.teardown(() => prefixed.cancel());
  const both = await liveWatch(ts, { clientIdPrefix: 'px-', clientIds: ['px-2', 'py-1'] });
  t.teardown(() => both.cancel());
  const all = await liveWatch(ts, { clientIds: ['px-1', 'py-1', 'px', 'px-2'] });
  t.teardown(() => all.cancel());
  for (const id of ['px-1', 'py-1', 'px', 'px-2']) await blink(ts, all, id);
  await prefixed.untilEventsFor('px-2', 2);
  await both.untilEventsFor('px-2', 2);
  t.deepEqual(
    prefixed.events.map((e) => e.clientId),
    ['px-1', 'px-1', 'px-2', 'px-2'],
  );
  t.deepEqual(
    both.events.map((e) => e.clientId),
    ['px-2', 'px-2'],
  );
});

test('watchPresence - a bad client id in the filter is INVALID_ARGUMENT naming its index', async (t) => {
  const watch = new PresenceStream(ts.client, { clientIds: ['fine', ''] });
  const err = await watch.done;
  t.is(err?.code, grpc.status.INVALID_ARGUMENT);
  t.is(err?.details, 'client_ids[1] is empty; it must be 1 to 256 bytes of UTF-8');
  const after = await liveWatch(ts, { clientIds: ['fine'] });
  after.cancel();
  t.deepEqual(after.summary(), [['complete', false]], 'the next watch works');
});

// ---- resume ------------------------------------------------------------------------------------

test('watchPresence - resuming with an event cursor gets exactly the events after it, then live ones', async (t) => {
  const watch = await liveWatch(ts, { clientIds: ['r-1'] });
  t.teardown(() => watch.cancel());
  const other = await liveWatch(ts, { clientIds: ['r-other'] });
  t.teardown(() => other.cancel());
  const first = await connect(ts, 'r-1');
  await watch.untilEventsFor('r-1', 1);
  first.socket.close();
  await watch.untilEventsFor('r-1', 2);
  await blink(ts, other, 'r-other'); // changes of another client id in between
  const second = await connect(ts, 'r-1');
  await watch.untilEventsFor('r-1', 3);
  const seen = watch.eventsFor('r-1');

  const resumed = new PresenceStream(ts.client, { clientIds: ['r-1'], cursor: seen[0]!.cursor });
  t.teardown(() => resumed.cancel());
  await resumed.untilEventsFor('r-1', 2);
  second.socket.close();
  await resumed.untilEventsFor('r-1', 3);
  await watch.untilEventsFor('r-1', 4);
  t.deepEqual(resumed.events, watch.eventsFor('r-1').slice(1), 'the same events, cursors and all');
  t.is(resumed.snapshotComplete, undefined, 'a successful resume sends no snapshot');

  // The snapshot marker's cursor works as well: everything after the snapshot.
  const fromMarker = new PresenceStream(ts.client, { clientIds: ['r-1'], cursor: watch.snapshotComplete!.cursor });
  t.teardown(() => fromMarker.cancel());
  await fromMarker.untilEventsFor('r-1', 4);
  t.deepEqual(fromMarker.events, watch.eventsFor('r-1'));
});

test('watchPresence - a replay honours the filter like live changes do', async (t) => {
  const watch = await liveWatch(ts, { clientIds: ['rf-1', 'rf-2'] });
  t.teardown(() => watch.cancel());
  await blink(ts, watch, 'rf-1');
  await blink(ts, watch, 'rf-2');
  await blink(ts, watch, 'rf-1');
  const resumed = new PresenceStream(ts.client, { clientIds: ['rf-1'], cursor: watch.events[0]!.cursor });
  t.teardown(() => resumed.cancel());
  await resumed.untilEventsFor('rf-1', 3);
  await blink(ts, watch, 'rf-1'); // barrier: live events after the replay
  await resumed.untilEventsFor('rf-1', 5);
  t.deepEqual(
    resumed.events.map((e) => e.clientId),
    ['rf-1', 'rf-1', 'rf-1', 'rf-1', 'rf-1'],
  );
});

test('watchPresence - an unknown cursor falls back to a snapshot marked resume_failed', async (t) => {
  const other = await startTestServer();
  t.teardown(() => other.close());
  const foreign = await liveWatch(other, {});
  t.teardown(() => foreign.cancel());
  const { socket } = await connect(ts, 'u-1');
  t.teardown(() => socket.close());
  const own = await liveWatch(ts, { clientIds: ['u-none'] });
  own.cancel();
  const [epoch, n] = own.snapshotComplete!.cursor.split('.');
  const future = `${epoch}.${Number(n) + 1_000_000}`;
  for (const cursor of ['bogus', foreign.snapshotComplete!.cursor, future]) {
    const watch = new PresenceStream(ts.client, { clientIds: ['u-1'], cursor });
    await watch.untilSnapshotComplete();
    t.deepEqual(watch.summary(), [['u-1', 'CONNECTED', 'SNAPSHOT'], ['complete', true]], `cursor ${cursor}`);
    t.not(watch.snapshotComplete?.cursor, cursor);
    watch.cancel();
  }
});

test('watchPresence - a cursor older than the kept history falls back to a snapshot marked resume_failed', async (t) => {
  const server = await startTestServer({ presenceHistorySize: 1 });
  t.teardown(() => server.close());
  const watch = await liveWatch(server, {});
  t.teardown(() => watch.cancel());
  await blink(server, watch, 'old-1');
  const { socket } = await connect(server, 'old-1');
  t.teardown(() => socket.close());
  await watch.untilEventsFor('old-1', 3);
  // The newest event is still kept: resuming after the one before it works.
  const recent = new PresenceStream(server.client, { cursor: watch.events[1]!.cursor });
  t.teardown(() => recent.cancel());
  await recent.untilEventsFor('old-1', 1);
  t.deepEqual(recent.summary(), [['old-1', 'CONNECTED', 'SOCKET_OPENED']]);
  const stale = new PresenceStream(server.client, { cursor: watch.events[0]!.cursor });
  t.teardown(() => stale.cancel());
  await stale.untilSnapshotComplete();
  t.deepEqual(stale.summary(), [['old-1', 'CONNECTED', 'SNAPSHOT'], ['complete', true]]);
});

// ---- GetPresence -------------------------------------------------------------------------------

test('getPresence - says connected or not, with connected_since for connected clients', async (t) => {
  const watch = await liveWatch(ts, { clientIds: ['g-1'] });
  t.teardown(() => watch.cancel());
  const { socket } = await connect(ts, 'g-1');
  await watch.untilEventsFor('g-1', 1);
  const { clients } = await ts.rpc.getPresence({ clientIds: ['g-1', 'g-never', 'g-1'] });
  t.deepEqual(clients, [
    { clientId: 'g-1', connected: true, connectedSince: watch.events[0]!.time },
    { clientId: 'g-never', connected: false, connectedSince: undefined },
    { clientId: 'g-1', connected: true, connectedSince: watch.events[0]!.time },
  ]);
  socket.close();
  await watch.untilEventsFor('g-1', 2);
  const after = await ts.rpc.getPresence({ clientIds: ['g-1'] });
  t.deepEqual(after.clients, [{ clientId: 'g-1', connected: false, connectedSince: undefined }]);
});

test('getPresence - 0 ids and 1001 ids are INVALID_ARGUMENT; 1000 are answered', async (t) => {
  await rejectsExactly(t, ts.rpc.getPresence({ clientIds: [] }), grpc.status.INVALID_ARGUMENT, 'client_ids has 0 items; it must have 1 to 1000');
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `gp-${i}`);
  await rejectsExactly(
    t,
    ts.rpc.getPresence({ clientIds: ids(1001) }),
    grpc.status.INVALID_ARGUMENT,
    'client_ids has 1001 items; it must have 1 to 1000',
  );
  const { clients } = await ts.rpc.getPresence({ clientIds: ids(1000) });
  t.is(clients.length, 1000);
  t.is(clients[999]?.clientId, 'gp-999');
});

test('getPresence - a bad client id is INVALID_ARGUMENT naming its index and the limit', async (t) => {
  await rejectsExactly(
    t,
    ts.rpc.getPresence({ clientIds: ['ok', 'x'.repeat(257)] }),
    grpc.status.INVALID_ARGUMENT,
    'client_ids[1] is 257 bytes; the limit is 256',
  );
  const { clients } = await ts.rpc.getPresence({ clientIds: ['ok'] });
  t.is(clients.length, 1);
});

// ---- slow watchers -----------------------------------------------------------------------------

test('watchPresence - a watcher that never drains is cut off (resource-exhausted); delivery goes on', async (t) => {
  const server = await startTestServer({ presenceWatcherQueue: 5 });
  t.teardown(() => server.close());
  const reader = await connect(server, 'reader');
  const grpcWatch = await liveWatch(server, { clientIdPrefix: 'slow-' });
  t.teardown(() => grpcWatch.cancel());

  const written: PresenceItem[] = [];
  let drainCallbacks = 0;
  let endWith: (error: ChannelError | undefined) => void = () => undefined;
  const ended = new Promise<ChannelError | undefined>((resolve) => (endWith = resolve));
  const sink: PresenceSink = {
    write: (item) => {
      written.push(item);
      return false; // the transport's buffer is full, and stays full
    },
    onDrain: () => void drainCallbacks++,
    end: (error) => endWith(error),
  };
  const watcher = await server.server.hub.api.watchPresence(
    { filter: { clientIds: new Set(), prefix: 'slow-' }, snapshot: false, cursor: '' },
    sink,
  );

  // One event is written, five wait in the queue, the seventh is one too many.
  for (let i = 0; i < 4; i++) {
    await blink(server, grpcWatch, `slow-${i}`);
    const sent = await server.send('reader', `while stuck ${i}`);
    t.true(sent.connected);
  }
  const error = await ended;
  t.is(error?.code, 'resource-exhausted');
  const firstCursor = written[0]?.kind === 'change' ? written[0].change.cursor : 'none';
  t.is(error?.message, `presence watcher fell 5 events behind and was cut off; resume with cursor "${firstCursor}"`);
  t.is(written.length, 1, 'nothing is written after write() said false');
  t.is(drainCallbacks, 1);
  t.true(watcher.isEnded);

  await reader.socket.untilMessages(4);
  t.deepEqual(
    reader.socket.messages.map((m) => m.data),
    ['while stuck 0', 'while stuck 1', 'while stuck 2', 'while stuck 3'],
  );
  const late = await server.send('reader', 'after the cut-off');
  t.true(late.connected);
  await reader.socket.untilMessages(5);
  t.is(grpcWatch.events.length, 8, 'a watcher that keeps up is not affected');
  t.false(grpcWatch.ended);
  reader.socket.close();
});

// ---- token expiry and shutdown -----------------------------------------------------------------

test('watchPresence - token expiry closes the socket (4501) and reports DISCONNECTED with TOKEN_EXPIRED', async (t) => {
  const clock = new ManualClock();
  const server = await startTestServer({ clock });
  t.teardown(() => server.close());
  const watch = await liveWatch(server, { clientIds: ['te'] });
  t.teardown(() => watch.cancel());
  const { token } = await server.createChannel('te', 1);
  const socket = new RawSocket(server.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined, 'welcome');
  await watch.untilEventsFor('te', 1);
  clock.advance(MINUTE - 1);
  t.is(socket.closeCode, undefined, 'still open a millisecond before expiry');
  clock.advance(1);
  t.deepEqual(await socket.closed, { code: 4501, reason: 'Token+timed+out.' });
  await watch.untilEventsFor('te', 2);
  t.deepEqual(brief(watch.eventsFor('te')), [
    ['te', 'CONNECTED', 'SOCKET_OPENED'],
    ['te', 'DISCONNECTED', 'TOKEN_EXPIRED'],
  ]);
  const { clients } = await server.rpc.getPresence({ clientIds: ['te'] });
  t.false(clients[0]?.connected);
  // The expired token cannot open another socket.
  const again = new RawSocket(server.wsUrl, token);
  t.deepEqual(await again.closed, { code: 4501, reason: 'Token+timed+out.' });
  t.is(again.welcome, undefined);
});

test('watchPresence - a server shutdown reports DISCONNECTED with SHUTDOWN, then ends the stream cleanly', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const watch = await liveWatch(server, {});
  const { socket } = await connect(server, 'sd');
  await watch.untilEventsFor('sd', 1);
  await server.close();
  t.deepEqual(await socket.closed, { code: 1001, reason: 'Going+away.' });
  t.is(await watch.done, undefined);
  t.deepEqual(brief(watch.eventsFor('sd')), [
    ['sd', 'CONNECTED', 'SOCKET_OPENED'],
    ['sd', 'DISCONNECTED', 'SHUTDOWN'],
  ]);
});
