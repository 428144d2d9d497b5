import { BinaryWriter } from '@bufbuild/protobuf/wire';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import {
  SendMessageRequest,
  SendMessagesResponse,
  StreamMessagesRequest,
  StreamMessagesResponse,
  type SendMessageResult,
} from '../gen/ts/channel/v1/channel.js';
import { toClient } from './helpers/grpc.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

/**
 * Bytes that are not UTF-8 cannot be written through the generated encoders (a JS string always
 * encodes to valid UTF-8), so these tests build the wire form themselves: a string field is
 * length-delimited bytes on the wire, so a raw field of the same number is what a buggy backend
 * in another language would send.
 */
const NOT_UTF8 = Buffer.from([0x61, 0xff, 0x62]); // "a", a byte no UTF-8 sequence starts with, "b"
const CESU8_SURROGATE = Buffer.from([0xed, 0xa0, 0x80]); // U+D800 spelled as if it were a code point

// Field numbers from proto/channel/v1/channel.proto.
const SEND_CLIENT_ID = 1;
const SEND_MESSAGE = 3;
const SEND_IDEMPOTENCY_KEY = 4;
const BATCH_REQUESTS = 1;
const STREAM_ID = 1;
const STREAM_REQUEST = 2;
const STREAM_REQUESTS = 3;

function tag(field: number): number {
  return (field << 3) | 2; // wire type 2: length-delimited
}

/** A SendMessageRequest whose field `field` holds `raw` instead of a string. */
function rawItem(clientId: string, message: string, field: number, raw: Uint8Array): Uint8Array {
  const writer = new BinaryWriter();
  if (field !== SEND_CLIENT_ID) writer.uint32(tag(SEND_CLIENT_ID)).string(clientId);
  if (field !== SEND_MESSAGE) writer.uint32(tag(SEND_MESSAGE)).string(message);
  return writer.uint32(tag(field)).bytes(raw).finish();
}

function goodItem(clientId: string, message: string): Uint8Array {
  return SendMessageRequest.encode(toClient(clientId, message)).finish();
}

function streamSingle(id: number, item: Uint8Array): Buffer {
  return Buffer.from(new BinaryWriter().uint32(STREAM_ID << 3).uint64(id).uint32(tag(STREAM_REQUEST)).bytes(item).finish());
}

function streamBatch(id: number, items: Uint8Array[]): Buffer {
  const writer = new BinaryWriter().uint32(STREAM_ID << 3).uint64(id);
  for (const item of items) writer.uint32(tag(STREAM_REQUESTS)).bytes(item);
  return Buffer.from(writer.finish());
}

function batch(items: Uint8Array[]): Buffer {
  const writer = new BinaryWriter();
  for (const item of items) writer.uint32(tag(BATCH_REQUESTS)).bytes(item);
  return Buffer.from(writer.finish());
}

let ts: TestServer;
let raw: grpc.Client;
test.before(async () => {
  ts = await startTestServer();
  raw = new grpc.Client(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
});
test.after.always(async () => {
  raw?.close();
  await ts?.close();
});

/** One StreamMessages call with pre-encoded requests: every response, or the error that ended it. */
async function streamRaw(requests: Buffer[]): Promise<{ responses: StreamMessagesResponse[]; error: grpc.ServiceError | undefined }> {
  const call = raw.makeBidiStreamRequest(
    '/channel.v1.ChannelService/StreamMessages',
    (b: Buffer) => b,
    (b: Buffer) => StreamMessagesResponse.decode(b),
    ts.metadata,
  );
  const responses: StreamMessagesResponse[] = [];
  const done = new Promise<grpc.ServiceError | undefined>((resolve) => {
    call.on('data', (r: StreamMessagesResponse) => responses.push(r));
    call.on('end', () => resolve(undefined));
    call.on('error', (err: grpc.ServiceError) => resolve(err));
  });
  for (const request of requests) call.write(request);
  call.end();
  return { responses, error: await done };
}

function sendMessagesRaw(request: Buffer): Promise<SendMessagesResponse> {
  return new Promise((resolve, reject) =>
    raw.makeUnaryRequest(
      '/channel.v1.ChannelService/SendMessages',
      (b: Buffer) => b,
      (b: Buffer) => SendMessagesResponse.decode(b),
      request,
      ts.metadata,
      (err, res) => (err || res === undefined ? reject(err) : resolve(res)),
    ),
  );
}

/** `'sent'`, or the error's `[code, message]`. */
function outcome(result: SendMessageResult | undefined): 'sent' | [number, string] | undefined {
  const r = result?.result;
  if (r === undefined) return undefined;
  return r.$case === 'sent' ? 'sent' : [r.value.code, r.value.message];
}

test('streamMessages - an item that is not UTF-8 gets its own INVALID_ARGUMENT naming the field; the stream goes on', async (t) => {
  const { socket } = await connect(ts, 'utf8-stream');
  const { responses, error } = await streamRaw([
    streamSingle(1, goodItem('utf8-stream', 'first')),
    streamSingle(2, rawItem('utf8-stream', '', SEND_MESSAGE, NOT_UTF8)),
    streamSingle(3, goodItem('utf8-stream', 'second')),
    streamSingle(4, rawItem('', 'to nobody', SEND_CLIENT_ID, CESU8_SURROGATE)),
    streamBatch(5, [
      goodItem('utf8-stream', 'third'),
      rawItem('utf8-stream', 'keyed', SEND_IDEMPOTENCY_KEY, NOT_UTF8),
      goodItem('utf8-stream', 'fourth'),
    ]),
    streamSingle(6, goodItem('utf8-stream', 'fifth')),
  ]);
  t.is(error, undefined, `the stream ended with ${error?.message}`);
  t.deepEqual(
    responses.map((r) => Number(r.id)),
    [1, 2, 3, 4, 5, 6],
  );
  t.deepEqual(
    responses.map((r) => (r.results.length > 0 ? r.results.map(outcome) : outcome(r.result))),
    [
      'sent',
      [grpc.status.INVALID_ARGUMENT, 'message is not valid UTF-8'],
      'sent',
      [grpc.status.INVALID_ARGUMENT, 'client_id is not valid UTF-8'],
      ['sent', [grpc.status.INVALID_ARGUMENT, 'idempotency_key is not valid UTF-8'], 'sent'],
      'sent',
    ],
  );
  await socket.untilMessages(5);
  t.deepEqual(
    socket.messages.map((m) => m.data),
    ['first', 'second', 'third', 'fourth', 'fifth'],
  );
  socket.close();
  await socket.closed;
});

test('streamMessages - a valid U+FFFD is a character like any other, not a decoding error', async (t) => {
  const { socket } = await connect(ts, 'utf8-replacement');
  const { responses, error } = await streamRaw([streamSingle(1, goodItem('utf8-replacement', 'a\uFFFDb'))]);
  t.is(error, undefined);
  t.deepEqual(responses.map((r) => outcome(r.result)), ['sent']);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: 'a\uFFFDb' }]);
  socket.close();
  await socket.closed;
});

test('sendMessages - an item that is not UTF-8 fails alone with its index and field; the others are sent', async (t) => {
  const { socket } = await connect(ts, 'utf8-batch');
  const { results } = await sendMessagesRaw(
    batch([
      goodItem('utf8-batch', 'one'),
      rawItem('utf8-batch', '', SEND_MESSAGE, CESU8_SURROGATE),
      goodItem('utf8-batch', ''),
      goodItem('utf8-batch', 'two'),
    ]),
  );
  t.deepEqual(results.map(outcome), [
    'sent',
    [grpc.status.INVALID_ARGUMENT, 'requests[1]: message is not valid UTF-8'],
    [grpc.status.INVALID_ARGUMENT, 'requests[2]: message is empty; it must be 1 to 32767 bytes of UTF-8'],
    'sent',
  ]);
  await socket.untilMessages(2);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'one' },
    { seq: 2, data: 'two' },
  ]);
  socket.close();
  await socket.closed;
});

test('sendMessages - a batch whose only item is not UTF-8 still answers that item', async (t) => {
  const { results } = await sendMessagesRaw(batch([rawItem('utf8-lone', 'x', SEND_CLIENT_ID, NOT_UTF8)]));
  t.deepEqual(results.map(outcome), [[grpc.status.INVALID_ARGUMENT, 'requests[0]: client_id is not valid UTF-8']]);
});

test('the hand-built wire form is what the generated decoders read', (t) => {
  // Guards the hand-built wire form above against drifting from the proto.
  const decoded = StreamMessagesRequest.decode(streamBatch(9, [goodItem('x', 'y')]));
  t.is(Number(decoded.id), 9);
  t.deepEqual(decoded.requests, [toClient('x', 'y')]);
  t.deepEqual(SendMessageRequest.decode(rawItem('c', 'm', SEND_IDEMPOTENCY_KEY, Buffer.from('k'))), toClient('c', 'm', 'k'));
});
