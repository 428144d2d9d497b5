import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import type { StreamMessagesResponse } from '../gen/ts/channel/v1/channel.js';
import { toClient } from './helpers/grpc.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ replayBufferSize: 10_000 });
});
test.after.always(async () => {
  await ts?.close();
});

/** Writes every request (waiting for 'drain' when the client buffer is full), half-closes, collects every result. */
async function stream(requests: { id: number; clientId: string; message: string }[]): Promise<StreamMessagesResponse[]> {
  const call = ts.client.streamMessages(ts.metadata);
  const results: StreamMessagesResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: StreamMessagesResponse) => results.push(r));
    call.on('end', () => resolve());
    call.on('error', reject);
  });
  for (const r of requests) {
    if (!call.write({ id: r.id, request: toClient(r.clientId, r.message) })) {
      await new Promise<void>((resolve) => call.once('drain', () => resolve()));
    }
  }
  call.end();
  await done;
  return results;
}

test('streamMessages - one result per request, in order, with its id; a bad item fails alone', async (t) => {
  const { socket } = await connect(ts, 'firehose');
  const results = await stream([
    { id: 10, clientId: 'firehose', message: 'a' },
    { id: 11, clientId: 'firehose', message: '' },
    { id: 12, clientId: 'firehose', message: 'b' },
    { id: 13, clientId: '', message: 'c' },
  ]);
  t.deepEqual(results.map((r) => Number(r.id)), [10, 11, 12, 13]);
  t.is(results[0]!.result?.result?.$case, 'sent');
  const bad = results[1]!.result?.result;
  t.is(bad?.$case, 'error');
  t.like(bad?.$case === 'error' ? bad.value : {}, { code: grpc.status.INVALID_ARGUMENT, message: 'message is empty; it must be 1 to 32767 bytes of UTF-8' });
  t.is(results[3]!.result?.result?.$case, 'error');
  await socket.untilMessages(2);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'a' },
    { seq: 2, data: 'b' },
  ]);
  socket.close();
  await socket.closed;
});

test('streamMessages - 20,000 messages through flow control arrive complete and in order', async (t) => {
  const { socket } = await connect(ts, 'bulk');
  const count = 20_000;
  const results = await stream(Array.from({ length: count }, (_, i) => ({ id: i, clientId: 'bulk', message: `m${i}` })));
  t.is(results.length, count);
  t.true(results.every((r, i) => Number(r.id) === i && r.result?.result?.$case === 'sent'));
  await socket.untilMessages(count);
  t.deepEqual(
    socket.messages.map((m) => m.seq),
    Array.from({ length: count }, (_, i) => i + 1),
  );
  socket.close();
  await socket.closed;
});
