import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import type { SendMessageRequest, StreamMessagesRequest, StreamMessagesResponse } from '../gen/ts/channel/v1/channel.js';
import { toClient, toToken } from './helpers/grpc.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ replayBufferSize: 10_000 });
});
test.after.always(async () => {
  await ts?.close();
});

/** Writes every request (waiting for 'drain' when the client buffer is full), half-closes, collects every response. */
async function streamRaw(requests: StreamMessagesRequest[]): Promise<StreamMessagesResponse[]> {
  const call = ts.client.streamMessages(ts.metadata);
  const results: StreamMessagesResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: StreamMessagesResponse) => results.push(r));
    call.on('end', () => resolve());
    call.on('error', reject);
  });
  for (const r of requests) {
    if (!call.write(r)) await new Promise<void>((resolve) => call.once('drain', () => resolve()));
  }
  call.end();
  await done;
  return results;
}

/** One message per request. */
function stream(requests: { id: number; clientId: string; message: string }[]): Promise<StreamMessagesResponse[]> {
  return streamRaw(requests.map((r) => ({ id: r.id, request: toClient(r.clientId, r.message), requests: [] })));
}

function batch(id: number, requests: SendMessageRequest[]): StreamMessagesRequest {
  return { id, request: undefined, requests };
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

test('streamMessages - a batch is answered by one response with a result per item, in order; bad items fail alone', async (t) => {
  const { socket, token } = await connect(ts, 'batcher');
  const responses = await streamRaw([
    { id: 1, request: toClient('batcher', 'one'), requests: [] },
    batch(2, [toToken(token, 'two'), toClient('batcher', ''), toClient('batcher', 'three'), toClient('', 'x'), toToken('nope', 'y')]),
    { id: 3, request: toClient('batcher', 'four'), requests: [] },
    batch(4, [toClient('batcher', 'five')]),
  ]);
  t.deepEqual(responses.map((r) => Number(r.id)), [1, 2, 3, 4]);
  t.is(responses[0]!.result?.result?.$case, 'sent');
  t.deepEqual(responses[0]!.results, []);
  const items = responses[1]!.results;
  t.is(responses[1]!.result, undefined);
  t.deepEqual(items.map((r) => r.result?.$case), ['sent', 'error', 'sent', 'error', 'error']);
  // Worded as a single SendMessage would be: the item's place in the hub's batch is not mentioned.
  const empty = items[1]!.result;
  t.like(empty?.$case === 'error' ? empty.value : {}, { code: grpc.status.INVALID_ARGUMENT, message: 'message is empty; it must be 1 to 32767 bytes of UTF-8' });
  const badToken = items[4]!.result;
  t.like(badToken?.$case === 'error' ? badToken.value : {}, { code: grpc.status.INVALID_ARGUMENT, message: 'token is not a valid channel token' });
  t.deepEqual(responses[3]!.results.map((r) => r.result?.$case), ['sent']);
  await socket.untilMessages(5);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'one' },
    { seq: 2, data: 'two' },
    { seq: 3, data: 'three' },
    { seq: 4, data: 'four' },
    { seq: 5, data: 'five' },
  ]);
  socket.close();
  await socket.closed;
});

test('streamMessages - a request with both request and requests set is refused alone', async (t) => {
  const { socket } = await connect(ts, 'both');
  const responses = await streamRaw([
    { id: 7, request: toClient('both', 'a'), requests: [toClient('both', 'b')] },
    { id: 8, request: toClient('both', 'c'), requests: [] },
  ]);
  t.deepEqual(responses.map((r) => Number(r.id)), [7, 8]);
  const refused = responses[0]!.result?.result;
  t.like(refused?.$case === 'error' ? refused.value : {}, { code: grpc.status.INVALID_ARGUMENT, message: 'set request or requests, not both' });
  t.is(responses[1]!.result?.result?.$case, 'sent');
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: 'c' }]);
  socket.close();
  await socket.closed;
});

test('streamMessages - 30,000 messages in batches of up to 1,000 arrive complete and in order', async (t) => {
  const { socket } = await connect(ts, 'bulk-batches');
  const count = 30_000;
  const requests: StreamMessagesRequest[] = [];
  // Uneven sizes, up to the 1,000-item limit (as SendMessages); several fill the in-flight bound.
  const sizes = [1, 1000, 7, 999, 1000, 1000, 250];
  for (let sent = 0, k = 0; sent < count; k++) {
    const size = Math.min(sizes[k % sizes.length]!, count - sent);
    requests.push(batch(k, Array.from({ length: size }, (_, i) => toClient('bulk-batches', `m${sent + i}`))));
    sent += size;
  }
  const responses = await streamRaw(requests);
  t.deepEqual(responses.map((r) => Number(r.id)), requests.map((r) => r.id));
  t.true(responses.every((r, k) => r.results.length === requests[k]!.requests.length && r.results.every((x) => x.result?.$case === 'sent')));
  await socket.untilMessages(count);
  t.true(socket.messages.every((m, i) => m.seq === i + 1 && m.data === `m${i}`));
  t.is(socket.messages.length, count);
  socket.close();
  await socket.closed;
});

/** Polls `count` until it has not changed for `quietMs`; returns the value it settled on. */
async function settled(count: () => number, quietMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (last > 0 && Date.now() - since >= quietMs) {
      return last;
    }
  }
  throw new Error(`count never settled (last ${last})`);
}

test('streamMessages - a backend that stops reading responses stops being read; when it reads again, nothing is lost', async (t) => {
  const { socket } = await connect(ts, 'deaf-backend');
  const call = ts.client.streamMessages(ts.metadata);
  const responses: StreamMessagesResponse[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    call.on('data', (r: StreamMessagesResponse) => responses.push(r));
    call.on('end', () => resolve());
    call.on('error', reject);
  });
  // Awaited below; a failed assertion before that must not turn its rejection into a crash.
  ended.catch(() => undefined);
  t.teardown(() => call.cancel());
  // The backend stops taking responses at once: its stream buffer fills (16), grpc-js stops
  // reading the HTTP/2 stream, and the window closes on the server's responses.
  call.pause();
  const total = 30_000;
  let written = 0;
  const writer = (async () => {
    for (; written < total; written++) {
      if (!call.write({ id: written, request: toClient('deaf-backend', `m${written}`), requests: [] })) {
        await new Promise<void>((resolve) => call.once('drain', () => resolve()));
      }
    }
    call.end();
  })();
  // What the server took from the stream is what reached the channel.
  const delivered = (): number => socket.messages.length;
  const stalled = await settled(delivered, 1500, 60_000);
  t.log(`server processed ${stalled} of ${written} written before it stopped reading`);
  // In flight (1,024) + the response stream's buffer + what HTTP/2 windows hold, far below all.
  t.true(stalled < 10_000, `the server processed ${stalled} requests while no response was read`);
  t.is(responses.length, 0, 'the backend took no response while paused');
  call.resume();
  await writer;
  await ended;
  t.is(responses.length, total);
  t.true(
    responses.every((r, i) => Number(r.id) === i && r.result?.result?.$case === 'sent' && r.result.result.value.seq === i + 1),
    'every response, in order, each with the next seq',
  );
  await socket.until(() => socket.messages.length >= total, `${total} messages`, 30_000);
  t.true(socket.messages.every((m, i) => m.seq === i + 1 && m.data === `m${i}`));
  socket.close();
  await socket.closed;
});
