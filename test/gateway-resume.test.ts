import test from 'ava';
import { ManualClock } from './helpers/manual-clock.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const clock = new ManualClock();
let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ clock, replayBufferSize: 5, replayWindowSeconds: 60 });
});
test.after.always(async () => {
  await ts?.close();
});

test.serial('resume - a dropped socket reconnects with its position and gets exactly what it missed', async (t) => {
  const { token } = await ts.createChannel('resumer');
  const first = new RawSocket(ts.wsUrl, token);
  await first.until(() => first.welcome !== undefined, 'welcome');
  await ts.send('resumer', 'a');
  await ts.send('resumer', 'b');
  await first.untilMessages(2);
  const epoch = first.welcome![1] as string;
  first.ws.terminate();
  await first.closed;
  await ts.send('resumer', 'c');
  await ts.send('resumer', 'd');
  const second = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: 2 } });
  await second.untilMessages(2);
  t.deepEqual(second.welcome, [0, epoch, 2, true]);
  t.deepEqual(second.messages, [
    { seq: 3, data: 'c' },
    { seq: 4, data: 'd' },
  ]);
  second.close();
  await second.closed;
});

test.serial('resume - outside the window by count the client is told "not recovered" and gets what is kept', async (t) => {
  const { token } = await ts.createChannel('overflow');
  const first = new RawSocket(ts.wsUrl, token);
  await first.until(() => first.welcome !== undefined, 'welcome');
  const epoch = first.welcome![1] as string;
  first.ws.terminate();
  await first.closed;
  for (let i = 1; i <= 8; i++) await ts.send('overflow', `m${i}`);
  const second = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: 0 } });
  await second.untilMessages(5);
  t.deepEqual(second.welcome, [0, epoch, 3, false]);
  t.deepEqual(
    second.messages.map((m) => m.seq),
    [4, 5, 6, 7, 8],
  );
  second.close();
  await second.closed;
});

test.serial('resume - outside the window by age the client is told "not recovered"', async (t) => {
  const { token } = await ts.createChannel('aged');
  await ts.send('aged', 'old');
  const first = new RawSocket(ts.wsUrl, token);
  await first.untilMessages(1);
  const epoch = first.welcome![1] as string;
  first.ws.terminate();
  await first.closed;
  await ts.send('aged', 'missed');
  clock.advance(61_000);
  await ts.send('aged', 'new');
  const second = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: 1 } });
  await second.untilMessages(1);
  t.deepEqual(second.welcome, [0, epoch, 2, false]);
  t.deepEqual(second.messages, [{ seq: 3, data: 'new' }]);
  second.close();
  await second.closed;
});

test.serial('resume - a wrong epoch is "not recovered" and starts from what is kept', async (t) => {
  const { token } = await ts.createChannel('epoch');
  await ts.send('epoch', 'x');
  const socket = new RawSocket(ts.wsUrl, token, { resume: { epoch: 'not-this-one', seq: 7 } });
  await socket.untilMessages(1);
  t.is(socket.welcome![3], false);
  t.deepEqual(socket.messages, [{ seq: 1, data: 'x' }]);
  socket.close();
  await socket.closed;
});

test.serial('resume - a fresh open does not replay acknowledged messages', async (t) => {
  const { token } = await ts.createChannel('fresh');
  const first = new RawSocket(ts.wsUrl, token);
  await first.until(() => first.welcome !== undefined, 'welcome');
  await ts.send('fresh', '1');
  await ts.send('fresh', '2');
  await first.untilMessages(2);
  first.ack(2);
  first.close();
  await first.closed;
  await ts.send('fresh', '3');
  const second = new RawSocket(ts.wsUrl, token);
  await second.untilMessages(1);
  t.is(second.welcome![2], 2);
  t.deepEqual(second.messages, [{ seq: 3, data: '3' }]);
  second.close();
  await second.closed;
});

test.serial('resume - a reconnect racing with sends sees every message exactly once, in order', async (t) => {
  const { token } = await ts.createChannel('race');
  const first = new RawSocket(ts.wsUrl, token);
  await first.until(() => first.welcome !== undefined, 'welcome');
  const epoch = first.welcome![1] as string;
  first.ws.terminate();
  await first.closed;
  // Sends in flight while the second socket attaches and reads its history.
  const second = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: 0 } });
  const sends = ['r1', 'r2', 'r3', 'r4', 'r5'].map((m) => ts.send('race', m));
  await Promise.all(sends);
  await second.untilMessages(5);
  t.deepEqual(
    second.messages.map((m) => m.seq),
    [1, 2, 3, 4, 5],
  );
  second.close();
  await second.closed;
});
