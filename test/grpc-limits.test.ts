import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import type { SendMessageRequest, StreamMessagesRequest, StreamMessagesResponse } from '../gen/ts/channel/v1/channel.js';
import { MAX_REQUEST_BYTES } from '../src/core/limits.js';
import { PresenceStream, rejectsExactly, rejectsWith, toClient, toToken } from './helpers/grpc.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

/**
 * Every string and repeated field of every request has a limit, refused with INVALID_ARGUMENT
 * naming the field and the limit, so no request can make the server hold more than it allows.
 * (The limits the core checked already are tested in grpc-validation, grpc-batch, presence and
 * topics tests; these are the rest.)
 */

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer();
});
test.after.always(async () => {
  await ts?.close();
});

let uniq = 0;
function id(name: string): string {
  return `${name}-${++uniq}`;
}

async function stillServes(t: ExecutionContext): Promise<void> {
  const created = await ts.createChannel(id('after-limit'));
  const sent = await ts.rpc.sendMessage(toToken(created.token, 'still here'));
  t.is(sent.seq, 1, 'a follow-up SendMessage succeeds');
}

/** The error a watch is refused with at the start; undefined when it started (its snapshot completed). */
async function refusedWatch(request: ConstructorParameters<typeof PresenceStream>[1]): Promise<grpc.ServiceError | undefined> {
  const stream = new PresenceStream(ts.client, { ...request, snapshot: true }, ts.metadata);
  await stream.until(() => stream.ended || stream.snapshotComplete !== undefined, 'a refusal or a snapshot');
  if (stream.ended) return stream.error;
  stream.cancel();
  await stream.done;
  return undefined;
}

/** A watch that starts: its snapshot completes; then it is cancelled. */
async function acceptedWatch(t: ExecutionContext, request: ConstructorParameters<typeof PresenceStream>[1]): Promise<void> {
  const stream = new PresenceStream(ts.client, { ...request, snapshot: true }, ts.metadata);
  await stream.untilSnapshotComplete();
  t.is(stream.error, undefined);
  stream.cancel();
  await stream.done;
}

function expectRefusal(t: ExecutionContext, error: grpc.ServiceError | undefined, details: string): void {
  t.is(error?.code, grpc.status.INVALID_ARGUMENT, `status (details: ${error?.details})`);
  t.is(error?.details, details);
}

// ---- WatchPresence -----------------------------------------------------------------------------

test('watchPresence - client_id_prefix: 256 bytes is accepted; 257 and 9,000,000 are INVALID_ARGUMENT naming the limit', async (t) => {
  await acceptedWatch(t, { clientIdPrefix: 'p'.repeat(256) });
  expectRefusal(t, await refusedWatch({ clientIdPrefix: 'p'.repeat(257) }), 'client_id_prefix is 257 bytes; the limit is 256');
  expectRefusal(t, await refusedWatch({ clientIdPrefix: 'p'.repeat(9_000_000) }), 'client_id_prefix is 9000000 bytes; the limit is 256');
  await stillServes(t);
});

test('watchPresence - client_ids: 1000 are accepted; 1001 are INVALID_ARGUMENT naming the limit', async (t) => {
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `w-${i}`);
  await acceptedWatch(t, { clientIds: ids(1000) });
  expectRefusal(t, await refusedWatch({ clientIds: ids(1001) }), 'client_ids has 1001 items; it must have 0 to 1000');
  await stillServes(t);
});

test('watchPresence - cursor: 16384 bytes is taken (and fails to resume); 16385 is INVALID_ARGUMENT naming the limit', async (t) => {
  const stream = new PresenceStream(ts.client, { cursor: 'c'.repeat(16_384) }, ts.metadata);
  await stream.untilSnapshotComplete();
  t.true(stream.snapshotComplete?.resumeFailed, 'an unknown cursor resumes as a snapshot');
  stream.cancel();
  await stream.done;
  expectRefusal(t, await refusedWatch({ cursor: 'c'.repeat(16_385) }), 'cursor is 16385 bytes; the limit is 16384');
  expectRefusal(t, await refusedWatch({ cursor: 'c'.repeat(1_000_000) }), 'cursor is 1000000 bytes; the limit is 16384');
  await stillServes(t);
});

// ---- token -------------------------------------------------------------------------------------

test('token - the longest token minted (a 256-byte client id) fits the limit and works', async (t) => {
  const clientId = '€'.repeat(85) + 'a'; // 256 bytes
  const { socket, token } = await connect(ts, clientId);
  t.true(Buffer.byteLength(token) <= 512, `token is ${Buffer.byteLength(token)} bytes`);
  const sent = await ts.rpc.sendMessage(toToken(token, 'by token'));
  t.true(sent.connected);
  socket.close();
  await socket.closed;
});

test('token - 513 bytes is INVALID_ARGUMENT naming the limit, in SendMessage, SendMessages and StreamMessages', async (t) => {
  const long = 'A'.repeat(513);
  await rejectsExactly(t, ts.rpc.sendMessage(toToken(long, 'x')), grpc.status.INVALID_ARGUMENT, 'token is 513 bytes; the limit is 512');
  await rejectsExactly(
    t,
    ts.rpc.sendMessage(toToken('A'.repeat(4_000_000), 'x')),
    grpc.status.INVALID_ARGUMENT,
    'token is 4000000 bytes; the limit is 512',
  );
  const clientId = id('token-batch');
  const { results } = await ts.rpc.sendMessages({ requests: [toToken(long, 'x'), toClient(clientId, 'y')] });
  t.deepEqual(
    results.map((r) => (r.result?.$case === 'error' ? r.result.value.message : r.result?.$case)),
    ['requests[0]: token is 513 bytes; the limit is 512', 'sent'],
  );
  const responses = await stream([{ id: 1, request: toToken(long, 'x'), requests: [] }]);
  const refused = responses[0]?.result?.result;
  t.deepEqual(refused?.$case === 'error' ? refused.value : undefined, {
    code: grpc.status.INVALID_ARGUMENT,
    message: 'token is 513 bytes; the limit is 512',
  });
  await stillServes(t);
});

// ---- StreamMessages ----------------------------------------------------------------------------

/** Writes every request, half-closes, collects every response. */
async function stream(requests: StreamMessagesRequest[]): Promise<StreamMessagesResponse[]> {
  const call = ts.client.streamMessages(ts.metadata);
  const responses: StreamMessagesResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: StreamMessagesResponse) => responses.push(r));
    call.on('end', () => resolve());
    call.on('error', reject);
  });
  for (const r of requests) {
    if (!call.write(r)) await new Promise<void>((resolve) => call.once('drain', () => resolve()));
  }
  call.end();
  await done;
  return responses;
}

test('streamMessages - a batch of 1000 items is served; 1001 is refused alone with one error result; the stream goes on', async (t) => {
  const clientId = id('stream-limit');
  const { socket } = await connect(ts, clientId);
  const items = (n: number, tag: string): SendMessageRequest[] => Array.from({ length: n }, (_, i) => toClient(clientId, `${tag}${i}`));
  const responses = await stream([
    { id: 1, request: undefined, requests: items(1000, 'a') },
    { id: 2, request: undefined, requests: items(1001, 'b') },
    { id: 3, request: toClient(clientId, 'after'), requests: [] },
  ]);
  t.deepEqual(
    responses.map((r) => Number(r.id)),
    [1, 2, 3],
  );
  t.is(responses[0]!.results.length, 1000);
  t.true(responses[0]!.results.every((r) => r.result?.$case === 'sent'));
  t.deepEqual(responses[1]!.results, []);
  const refused = responses[1]!.result?.result;
  t.deepEqual(refused?.$case === 'error' ? refused.value : undefined, {
    code: grpc.status.INVALID_ARGUMENT,
    message: 'requests has 1001 items; it must have 1 to 1000',
  });
  const after = responses[2]!.result?.result;
  t.is(after?.$case === 'sent' ? after.value.seq : undefined, 1001, 'nothing of the refused batch was sent');
  await socket.until(() => socket.messages.length >= 1001, '1001 messages', 30_000);
  t.is(socket.messages.at(-1)?.data, 'after');
  socket.close();
  await socket.closed;
});

// ---- the whole request -------------------------------------------------------------------------

test('request size - the largest valid SendMessages (1000 maximal items) is received', async (t) => {
  // Each item as long as it may be: a 512-byte token, a 32767-byte message, a 128-byte key.
  const item = toToken('A'.repeat(512), 'm'.repeat(32_767), 'k'.repeat(128));
  const { results } = await ts.rpc.sendMessages({ requests: Array.from({ length: 1000 }, () => item) });
  t.is(results.length, 1000);
  // Received and answered item by item (the token is not a real one).
  t.true(results.every((r) => r.result?.$case === 'error' && r.result.value.message.endsWith('token is not a valid channel token')));
});

test('request size - a request over the server maximum is RESOURCE_EXHAUSTED naming both sizes; the server goes on', async (t) => {
  const err = await rejectsWith(t, ts.createChannel('a'.repeat(MAX_REQUEST_BYTES)), grpc.status.RESOURCE_EXHAUSTED, 'larger than max');
  t.true(err.details.includes(String(MAX_REQUEST_BYTES)), err.details);
  await stillServes(t);
});
