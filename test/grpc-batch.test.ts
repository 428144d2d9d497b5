import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import type { SendMessageRequest, SendMessageResult, SendMessageResponse } from '../gen/ts/channel/v1/channel.js';
import { rejectsExactly, toClient, toToken } from './helpers/grpc.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer();
});
test.after.always(async () => {
  await ts?.close();
});

function sent(result: SendMessageResult | undefined): SendMessageResponse {
  if (result?.result?.$case !== 'sent') throw new Error(`expected a sent result, got ${JSON.stringify(result)}`);
  return result.result.value;
}

// ---- SendMessages ------------------------------------------------------------------------------

test('sendMessages - one result per item, in order, each with its own seq', async (t) => {
  const { socket } = await connect(ts, 'batch-order');
  const requests = ['a', 'b', 'c', 'd'].map((m) => toClient('batch-order', m));
  const { results } = await ts.rpc.sendMessages({ requests });
  t.is(results.length, 4);
  t.deepEqual(
    results.map((r) => sent(r).seq),
    [1, 2, 3, 4],
  );
  t.true(results.every((r) => sent(r).connected));
  await socket.untilMessages(4);
  t.deepEqual(
    socket.messages.map((m) => m.data),
    ['a', 'b', 'c', 'd'],
  );
  socket.close();
  await socket.closed;
});

test('sendMessages - a bad item in the middle yields its error; the others are sent with consecutive seqs', async (t) => {
  const { socket } = await connect(ts, 'batch-bad');
  const { results } = await ts.rpc.sendMessages({
    requests: [toClient('batch-bad', 'first'), toClient('batch-bad', ''), toClient('batch-bad', 'third')],
  });
  t.is(results.length, 3);
  t.is(sent(results[0]).seq, 1);
  t.deepEqual(results[1]?.result, {
    $case: 'error',
    value: { code: grpc.status.INVALID_ARGUMENT, message: 'requests[1]: message is empty; it must be 1 to 32767 bytes of UTF-8' },
  });
  t.is(sent(results[2]).seq, 2);
  await socket.untilMessages(2);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'first' },
    { seq: 2, data: 'third' },
  ]);
  socket.close();
  await socket.closed;
});

test('sendMessages - each kind of bad item gets its own code and an index-prefixed message', async (t) => {
  const { token } = await ts.createChannel('batch-kinds');
  await ts.rpc.closeChannel({ clientId: 'batch-kinds' }); // revokes `token`
  const noTarget: SendMessageRequest = { target: undefined, message: 'x', idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined };
  const { results } = await ts.rpc.sendMessages({
    requests: [noTarget, toToken('forged.token', 'x'), toToken(token, 'x'), toClient('batch-kinds-ok', 'x'), toClient('', 'x')],
  });
  t.deepEqual(
    results.map((r) => (r.result?.$case === 'error' ? [r.result.value.code, r.result.value.message.replace(/ at .*$/, ' at …')] : 'sent')),
    [
      [grpc.status.INVALID_ARGUMENT, 'requests[0]: target is missing: set client_id or token'],
      [grpc.status.INVALID_ARGUMENT, 'requests[1]: token is not a valid channel token'],
      [grpc.status.FAILED_PRECONDITION, 'requests[2]: token was revoked by CloseChannel at …'],
      'sent',
      [grpc.status.INVALID_ARGUMENT, 'requests[4]: client_id is empty; it must be 1 to 256 bytes of UTF-8'],
    ],
  );
});

test('sendMessages - items addressed by token and by client id to one channel keep the batch order', async (t) => {
  const { socket, token } = await connect(ts, 'batch-mixed');
  const { results } = await ts.rpc.sendMessages({
    requests: [toToken(token, 'one'), toClient('batch-mixed', 'two'), toToken(token, 'three'), toClient('batch-mixed', 'four')],
  });
  t.deepEqual(
    results.map((r) => sent(r).seq),
    [1, 2, 3, 4],
  );
  await socket.untilMessages(4);
  t.deepEqual(
    socket.messages.map((m) => m.data),
    ['one', 'two', 'three', 'four'],
  );
  socket.close();
  await socket.closed;
});

test('sendMessages - an empty batch is INVALID_ARGUMENT', async (t) => {
  await rejectsExactly(t, ts.rpc.sendMessages({ requests: [] }), grpc.status.INVALID_ARGUMENT, 'requests has 0 items; it must have 1 to 1000');
  const after = await ts.rpc.sendMessages({ requests: [toClient('batch-after-empty', 'x')] });
  t.is(sent(after.results[0]).seq, 1);
});

test('sendMessages - 1000 items are sent; 1001 are INVALID_ARGUMENT and none is sent', async (t) => {
  const many = (n: number, clientId: string): SendMessageRequest[] => Array.from({ length: n }, (_, i) => toClient(clientId, `m${i}`));
  const ok = await ts.rpc.sendMessages({ requests: many(1000, 'batch-1000') });
  t.is(ok.results.length, 1000);
  t.is(sent(ok.results[999]).seq, 1000);
  await rejectsExactly(
    t,
    ts.rpc.sendMessages({ requests: many(1001, 'batch-1001') }),
    grpc.status.INVALID_ARGUMENT,
    'requests has 1001 items; it must have 1 to 1000',
  );
  const next = await ts.send('batch-1001', 'first for real');
  t.is(next.seq, 1, 'the refused batch appended nothing');
});

// ---- idempotency_key ---------------------------------------------------------------------------

test('idempotency - a repeated SendMessage with the same key returns the same result and is delivered once', async (t) => {
  const { socket } = await connect(ts, 'idem');
  const first = await ts.rpc.sendMessage(toClient('idem', 'charge card', 'order-17'));
  const retry = await ts.rpc.sendMessage(toClient('idem', 'charge card', 'order-17'));
  t.deepEqual(retry, first);
  // A later message is the barrier: once it arrived, a duplicate would have arrived before it.
  const later = await ts.rpc.sendMessage(toClient('idem', 'later'));
  t.is(later.seq, first.seq + 1);
  await socket.untilMessages(2);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'charge card' },
    { seq: 2, data: 'later' },
  ]);
  socket.close();
  await socket.closed;
});

test('idempotency - keys are per client id, and a different key sends again', async (t) => {
  const a = await ts.rpc.sendMessage(toClient('idem-a', 'x', 'k'));
  const b = await ts.rpc.sendMessage(toClient('idem-b', 'x', 'k'));
  t.is(a.seq, 1);
  t.is(b.seq, 1);
  t.not(a.epoch, b.epoch);
  const other = await ts.rpc.sendMessage(toClient('idem-a', 'x', 'k2'));
  t.is(other.seq, 2);
  const retryByToken = await ts.rpc.sendMessage(toToken((await ts.createChannel('idem-a')).token, 'x', 'k'));
  t.deepEqual(retryByToken, a, 'the key is per channel, whichever way it is addressed');
});

test('idempotency - a key repeated inside one batch sends once', async (t) => {
  const { socket } = await connect(ts, 'idem-batch');
  const { results } = await ts.rpc.sendMessages({
    requests: [toClient('idem-batch', 'once', 'dup'), toClient('idem-batch', 'once', 'dup'), toClient('idem-batch', 'after')],
  });
  t.is(sent(results[0]).seq, 1);
  t.deepEqual(sent(results[1]), sent(results[0]));
  t.is(sent(results[2]).seq, 2);
  await socket.untilMessages(2);
  t.deepEqual(
    socket.messages.map((m) => m.data),
    ['once', 'after'],
  );
  socket.close();
  await socket.closed;
});
