import test from 'ava';
import { connect, startTestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

test('drop-when-disconnected - a fresh open gets only what is sent after its welcome; a reconnect still resumes', async (t) => {
  const ts = await startTestServer({ dropWhenDisconnected: true });
  t.teardown(() => ts.close());
  const { token } = await ts.createChannel('old-app');
  const before = await ts.send('old-app', 'before any socket');
  t.false(before.connected, 'SendMessage still says nobody listened');
  const first = new RawSocket(ts.wsUrl, token);
  await first.until(() => first.welcome !== undefined, 'the welcome');
  t.is(first.welcome![2], before.seq, 'the welcome starts after the message sent while disconnected');
  await ts.send('old-app', 'while open');
  await first.untilMessages(1);
  t.deepEqual(first.messages.map((m) => m.data), ['while open']);

  // A socket that drops and reconnects with its position is not a fresh open: nothing is lost.
  first.ws.terminate();
  await first.closed;
  await ts.send('old-app', 'while away');
  const again = new RawSocket(ts.wsUrl, token, { resume: { epoch: first.welcome![1] as string, seq: first.messages.at(-1)!.seq } });
  await again.untilMessages(1);
  t.deepEqual(again.messages.map((m) => m.data), ['while away']);
  again.close();

  // Without the setting, the same send waits for the next socket (channeld's default).
  const keeping = await startTestServer();
  t.teardown(() => keeping.close());
  await keeping.createChannel('new-app');
  await keeping.send('new-app', 'kept for you');
  const { socket } = await connect(keeping, 'new-app');
  await socket.untilMessages(1);
  t.deepEqual(socket.messages.map((m) => m.data), ['kept for you']);
  socket.close();
});
