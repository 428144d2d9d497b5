import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer();
});
test.after.always(async () => {
  await ts?.close();
});

test('delivery - messages sent before the first socket arrive when it connects, then live ones, in order', async (t) => {
  const { token } = await ts.createChannel('early');
  const before = await ts.send('early', 'one');
  t.false(before.connected);
  t.is(before.seq, 1);
  await ts.send('early', 'two');
  const socket = new RawSocket(ts.wsUrl, token);
  await socket.untilMessages(2);
  t.deepEqual(socket.welcome, [0, before.epoch, 0, true]);
  const live = await ts.send('early', '{"n":3}');
  t.true(live.connected);
  await socket.untilMessages(3);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'one' },
    { seq: 2, data: 'two' },
    { seq: 3, data: '{"n":3}' },
  ]);
  socket.close();
  await socket.closed;
});

test('delivery - a message addressed by token reaches the token\'s client id', async (t) => {
  const { token } = await ts.createChannel('by-token');
  const socket = new RawSocket(ts.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined, 'welcome');
  const sent = await new Promise<{ connected: boolean }>((resolve, reject) =>
    ts.client.sendMessage({ target: { $case: 'token', value: token }, message: 'hi', idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
  t.true(sent.connected);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: 'hi' }]);
  socket.close();
});
