import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import {
  SendMessageRequest,
  SendMessageResponse,
  SendMessagesRequest,
  SendMessagesResponse,
} from '../gen/ts/channel/v1/channel.js';
import { MAX_REQUEST_BYTES } from '../src/core/limits.js';
import { PresenceReason, PresenceState } from '../src/core/types.js';
import { apiCall, HttpPresenceStream, SERVICE_PATH } from './helpers/http-api.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { toClient } from './helpers/grpc.js';
import { RawSocket } from './helpers/socket.js';

const KEY = 'http-api-test-key-0123456789';
let ts: TestServer;
let base: string;

test.before(async () => {
  ts = await startTestServer({ apiKeys: [KEY], apiHeartbeatSeconds: 1 });
  base = ts.httpUrl;
});
test.after.always(async () => {
  await ts?.close();
});

const call = (method: string, body: unknown, headers: Record<string, string> = {}) => apiCall(base, method, body, { key: KEY, headers });

// ---- every method ---------------------------------------------------------------------------------

test('http api - CreateChannel mints a token a socket opens with; SendMessage (JSON, Bearer) reaches it', async (t) => {
  const created = await call('CreateChannel', { clientId: 'h-alice', durationMinutes: 5 });
  t.is(created.status, 200);
  t.is(created.headers.get('content-type'), 'application/json; charset=utf-8');
  t.is(created.json?.['durationMinutes'], 5);
  t.regex(String(created.json?.['expireTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const socket = new RawSocket(ts.wsUrl, String(created.json?.['token']));
  t.teardown(() => socket.close());
  await socket.until(() => socket.welcome !== undefined, 'the welcome');

  const sent = await call('SendMessage', { clientId: 'h-alice', message: 'over http' });
  t.is(sent.status, 200);
  // 64-bit integers are strings in the proto's JSON mapping; every field is there, defaults too.
  t.deepEqual(Object.keys(sent.json ?? {}), ['seq', 'epoch', 'connected', 'delivered']);
  t.is(sent.json?.['seq'], '1');
  t.is(sent.json?.['connected'], true);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: 'over http' }]);
});

test('http api - field names as in the proto (client_id) and in JSON (clientId) both work, as protobuf parses them', async (t) => {
  const snake = await call('SendMessage', { client_id: 'h-names', message: 'a', idempotency_key: 'k1' });
  const camel = await call('SendMessage', { clientId: 'h-names', message: 'a', idempotencyKey: 'k1' });
  t.is(snake.status, 200);
  t.is(camel.status, 200);
  t.deepEqual(camel.json, snake.json, 'the same idempotency key under either name is the same send');
  const duration = await call('CreateChannel', { client_id: 'h-names', duration_minutes: '7' });
  t.is(duration.json?.['durationMinutes'], 7, 'an int32 may be a JSON string, as in the proto JSON mapping');
});

test('http api - SendMessage by token; an unset duration is 120 minutes', async (t) => {
  const created = await call('CreateChannel', { clientId: 'h-token' });
  t.is(created.json?.['durationMinutes'], 120);
  const sent = await call('SendMessage', { token: created.json?.['token'], message: 'by token' });
  t.is(sent.status, 200);
  t.is(sent.json?.['seq'], '1');
  t.is(sent.json?.['connected'], false);
});

test('http api - SendMessages answers each item in order; a bad item fails alone with its index (the load generator shape)', async (t) => {
  const answer = await call('SendMessages', {
    requests: [
      { clientId: 'h-batch', message: 'one' },
      { clientId: 'h-batch', message: '' },
      { clientId: 'h-batch', message: 'three' },
    ],
  });
  t.is(answer.status, 200);
  const results = answer.json?.['results'] as Record<string, Record<string, unknown>>[];
  t.is(results.length, 3);
  t.deepEqual(results[0]?.['sent'], { seq: '1', epoch: results[0]?.['sent']?.['epoch'], connected: false, delivered: false });
  t.deepEqual(results[1], { error: { code: 3, message: 'requests[1]: message is empty; it must be 1 to 32767 bytes of UTF-8' } });
  t.is(results[2]?.['sent']?.['seq'], '2');
});

test('http api - GetPresence, Subscribe, Broadcast, Unsubscribe, CloseChannel', async (t) => {
  const { socket } = await connect(ts, 'h-member');
  t.teardown(() => socket.close());
  const presence = await call('GetPresence', { clientIds: ['h-member', 'h-nobody'] });
  t.is(presence.status, 200);
  const clients = presence.json?.['clients'] as Record<string, unknown>[];
  t.is(clients[0]?.['connected'], true);
  t.regex(String(clients[0]?.['connectedSince']), /Z$/);
  t.deepEqual(clients[1], { clientId: 'h-nobody', connected: false });

  t.deepEqual((await call('Subscribe', { clientIds: ['h-member'], topic: 'h-room' })).json, { added: 1 });
  const broadcast = await call('Broadcast', { message: 'to all', clientIds: ['h-nobody'], topics: ['h-room'] });
  t.is(broadcast.status, 200);
  t.deepEqual(Object.keys(broadcast.json ?? {}), ['clients', 'clientsConnected', 'topics']);
  t.is(broadcast.json?.['clients'], 1);
  t.is(broadcast.json?.['clientsConnected'], 0);
  const topics = broadcast.json?.['topics'] as Record<string, unknown>[];
  t.is(topics[0]?.['topic'], 'h-room');
  t.is(topics[0]?.['seq'], '1');
  t.is(topics[0]?.['members'], 1);
  await socket.until(() => socket.topicMessages('h-room').length === 1, 'the topic message');
  t.deepEqual((await call('Unsubscribe', { client_ids: ['h-member'], topic: 'h-room' })).json, { removed: 1 });

  const closed = await call('CloseChannel', { clientId: 'h-member' });
  t.deepEqual(closed.json, { wasConnected: true });
  await socket.closed;
});

// ---- the same rules and texts as gRPC ---------------------------------------------------------------

test('http api - every core refusal has the status, code name and exact message gRPC gives', async (t) => {
  const cases: [method: string, json: unknown, grpcCall: () => Promise<unknown>][] = [
    ['SendMessage', { clientId: 'h-v', message: 'x'.repeat(40_000) }, () => ts.rpc.sendMessage(toClient('h-v', 'x'.repeat(40_000)))],
    ['SendMessage', { message: 'no target' }, () => ts.rpc.sendMessage({ target: undefined, message: 'no target', idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined })],
    ['SendMessage', { token: 'not-a-token', message: 'x' }, () => ts.rpc.sendMessage({ target: { $case: 'token', value: 'not-a-token' }, message: 'x', idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined })],
    ['CreateChannel', { clientId: 'h-v', durationMinutes: 2000 }, () => ts.rpc.createChannel({ clientId: 'h-v', durationMinutes: 2000 })],
    ['CreateChannel', { clientId: 'x'.repeat(257) }, () => ts.rpc.createChannel({ clientId: 'x'.repeat(257), durationMinutes: 0 })],
    ['CreateChannel', { clientId: '\ud800' }, () => Promise.reject(new Error('skip'))],
    ['GetPresence', { clientIds: [] }, () => ts.rpc.getPresence({ clientIds: [] })],
    ['Subscribe', { clientIds: ['a'], topic: 'bad topic!' }, () => ts.rpc.subscribe({ clientIds: ['a'], topic: 'bad topic!' })],
    ['Broadcast', { message: 'm' }, () => ts.rpc.broadcast({ message: 'm', clientIds: [], topics: [] })],
    ['SendMessages', { requests: [] }, () => ts.rpc.sendMessages({ requests: [] })],
    ['SendMessages', { requests: Array.from({ length: 1001 }, () => ({ clientId: 'a', message: 'm' })) }, () =>
      ts.rpc.sendMessages({ requests: Array.from({ length: 1001 }, () => toClient('a', 'm')) })],
  ];
  for (const [method, json, grpcCall] of cases) {
    const answer = await call(method, json);
    const grpcError = await grpcCall().then(
      () => undefined,
      (err: unknown) => err as grpc.ServiceError,
    );
    if (grpcError !== undefined && grpcError.details !== undefined) {
      t.is(answer.json?.['message'], grpcError.details, `${method}: the same text as gRPC`);
      t.is(answer.json?.['code'], grpc.status[grpcError.code], `${method}: the same code as gRPC`);
    } else {
      // gRPC cannot carry a lone surrogate at all; in JSON protobuf's parser refuses it.
      t.is(answer.json?.['message'], 'cannot decode field channel.v1.CreateChannelRequest.client_id from JSON: expected string: invalid UTF8');
    }
    const expected = answer.json?.['code'] === 'FAILED_PRECONDITION' || answer.json?.['code'] === 'INVALID_ARGUMENT' ? 400 : 0;
    t.is(answer.status, expected, `${method}: ${answer.text.slice(0, 200)}`);
  }
});

test('http api - bad JSON, a body that is not an object, and invalid UTF-8 are 400 INVALID_ARGUMENT saying so', async (t) => {
  const broken = await call('SendMessage', '{"clientId": "a", ');
  t.is(broken.status, 400);
  t.is(broken.json?.['code'], 'INVALID_ARGUMENT');
  t.regex(String(broken.json?.['message']), /^body is not valid JSON: /);
  const array = await call('SendMessage', '[]');
  t.deepEqual(array.json, { code: 'INVALID_ARGUMENT', message: 'body must be a JSON object (a channel.v1.SendMessageRequest), not an array' });
  const notUtf8 = await call('SendMessage', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
  t.deepEqual(notUtf8.json, { code: 'INVALID_ARGUMENT', message: 'body is not valid UTF-8' });
  const empty = await call('CreateChannel', '');
  t.deepEqual(empty.json, { code: 'INVALID_ARGUMENT', message: 'client_id is empty; it must be 1 to 256 bytes of UTF-8' }, 'an empty body is the empty message, as in gRPC');
});

test('http api - unknown fields, wrong types and a oneof set twice are refused, never coerced', async (t) => {
  const expectations: [string, unknown, string][] = [
    ['SendMessage', { clientId: 'a', message: 'm', mesage: 'typo' }, 'cannot decode message channel.v1.SendMessageRequest from JSON: key "mesage" is unknown'],
    ['SendMessage', { clientId: 123, message: 'm' }, 'cannot decode field channel.v1.SendMessageRequest.client_id from JSON: expected string, got 123'],
    ['SendMessage', { clientId: 'a', token: 't', message: 'm' }, 'cannot decode oneof channel.v1.SendMessageRequest.target from JSON: oneof set multiple times by client_id and token'],
    ['SendMessage', { clientId: 'a', client_id: 'b', message: 'm' }, 'cannot decode field channel.v1.SendMessageRequest.client_id from JSON: set multiple times'],
    ['CreateChannel', { clientId: 'a', durationMinutes: 1.5 }, 'cannot decode field channel.v1.CreateChannelRequest.duration_minutes from JSON: expected number (int32), got 1.5'],
    ['CreateChannel', { clientId: 'a', durationMinutes: 1e10 }, 'cannot decode field channel.v1.CreateChannelRequest.duration_minutes from JSON: expected number (int32): 10000000000 out of range'],
    ['GetPresence', { clientIds: 'a' }, 'cannot decode field channel.v1.GetPresenceRequest.client_ids from JSON: expected Array, got "a"'],
    ['SendMessages', { requests: [{ clientId: 'a', message: 7 }] }, 'cannot decode field channel.v1.SendMessageRequest.message from JSON: expected string, got 7'],
    ['WatchPresence', { snapshot: 'false' }, 'cannot decode field channel.v1.WatchPresenceRequest.snapshot from JSON: expected boolean, got "false"'],
  ];
  for (const [method, body, message] of expectations) {
    const answer = await call(method, body);
    t.is(answer.status, 400, method);
    t.deepEqual(answer.json, { code: 'INVALID_ARGUMENT', message });
  }
  // Nothing of a refused request was sent.
  const presence = await call('SendMessage', { clientId: 'a', message: 'after' });
  t.is(presence.json?.['seq'], '1');
});

// ---- transport refusals ------------------------------------------------------------------------------

test('http api - a missing, malformed or wrong API key is 401 UNAUTHENTICATED with the gRPC texts', async (t) => {
  const missing = await apiCall(base, 'SendMessage', { clientId: 'a', message: 'm' });
  t.is(missing.status, 401);
  t.is(missing.headers.get('www-authenticate'), 'Bearer');
  t.deepEqual(missing.json, { code: 'UNAUTHENTICATED', message: 'missing "authorization: Bearer <api key>" header' });
  const basic = await apiCall(base, 'SendMessage', { clientId: 'a', message: 'm' }, { headers: { authorization: 'Basic abc' } });
  t.deepEqual(basic.json, { code: 'UNAUTHENTICATED', message: 'authorization header must be "Bearer <api key>"' });
  const wrong = await apiCall(base, 'SendMessage', { clientId: 'a', message: 'm' }, { key: 'not-the-key' });
  t.is(wrong.status, 401);
  t.deepEqual(wrong.json, { code: 'UNAUTHENTICATED', message: 'API key is not valid' });
  const lower = await apiCall(base, 'GetPresence', { clientIds: ['a'] }, { headers: { authorization: `bearer ${KEY}` } });
  t.is(lower.status, 200, 'the scheme is case-insensitive, as for gRPC');
});

test('http api - an unknown method is 404, a GET is 405 with Allow: POST, a form body is 415', async (t) => {
  const unknown = await call('StreamMessages', {});
  t.is(unknown.status, 404);
  t.is(unknown.json?.['code'], 'NOT_FOUND');
  t.regex(String(unknown.json?.['message']), /^channel\.v1\.ChannelService has no method "StreamMessages" over HTTP; it has CreateChannel, SendMessage, /);
  const get = await apiCall(base, 'SendMessage', undefined, { key: KEY, method: 'GET' });
  t.is(get.status, 405);
  t.is(get.headers.get('allow'), 'POST');
  t.deepEqual(get.json, { code: 'UNIMPLEMENTED', message: '/channel.v1.ChannelService/SendMessage takes POST, not GET' });
  const form = await call('SendMessage', 'clientId=a', { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(form.status, 415);
  t.deepEqual(form.json, { code: 'INVALID_ARGUMENT', message: 'content-type "application/x-www-form-urlencoded" is not supported; send application/json or application/proto' });
});

test('http api - a Content-Length over the limit is 413 at once, before any of the body is sent', async (t) => {
  const limit = 2 * MAX_REQUEST_BYTES;
  const answer = await new Promise<{ status: number | undefined; body: string; connection: string | undefined }>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: ts.server.httpPort,
      path: `${SERVICE_PATH}/SendMessages`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(limit + 1), authorization: `Bearer ${KEY}` },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.flushHeaders(); // the headers only; not one byte of the body
  });
  t.is(answer.status, 413);
  t.is(answer.connection, 'close');
  t.deepEqual(JSON.parse(answer.body), { code: 'RESOURCE_EXHAUSTED', message: `body is ${limit + 1} bytes; the limit is ${limit} for JSON` });
  const proto = await call('SendMessages', 'x', { 'content-type': 'application/proto', 'content-length': String(MAX_REQUEST_BYTES + 1) }).catch((err: unknown) => err);
  // fetch refuses to send a body shorter than its Content-Length; what matters is the server's limit for binary, checked below.
  t.truthy(proto);
});

test('http api - a chunked body is counted as it streams and refused with 413 as soon as it passes the limit', async (t) => {
  const limit = MAX_REQUEST_BYTES;
  const chunk = Buffer.alloc(1 << 20, 0x41);
  const outcome = await new Promise<{ status: number | undefined; body: string; writtenWhenAnswered: number }>((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = httpRequest({
      host: '127.0.0.1',
      port: ts.server.httpPort,
      path: `${SERVICE_PATH}/SendMessages`,
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'transfer-encoding': 'chunked', authorization: `Bearer ${KEY}` },
    });
    req.on('response', (res) => {
      answered = true;
      const writtenWhenAnswered = written;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body, writtenWhenAnswered }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pump = (): void => {
      // Twice the limit if the server let it; it must answer long before.
      while (!answered && written < 2 * limit) {
        written += chunk.byteLength;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
  t.is(outcome.status, 413);
  t.true(outcome.writtenWhenAnswered < 2 * limit, `answered after ${outcome.writtenWhenAnswered} bytes`);
  const body = JSON.parse(outcome.body) as Record<string, unknown>;
  t.is(body['code'], 'RESOURCE_EXHAUSTED');
  t.regex(String(body['message']), new RegExp(`^body is over \\d+ bytes; the limit is ${limit} for application/proto$`));
  const after = await call('GetPresence', { clientIds: ['a'] });
  t.is(after.status, 200, 'the server goes on');
});

// ---- binary protobuf -----------------------------------------------------------------------------------

async function protoCall(method: string, body: Uint8Array): Promise<{ status: number; type: string | null; bytes: Uint8Array }> {
  const response = await fetch(`${base}${SERVICE_PATH}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/proto', authorization: `Bearer ${KEY}` },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), bytes: new Uint8Array(await response.arrayBuffer()) };
}

test('http api - binary protobuf (application/proto) round-trips SendMessage and SendMessages', async (t) => {
  const one = await protoCall('SendMessage', SendMessageRequest.encode(toClient('h-proto', 'binary')).finish());
  t.is(one.status, 200);
  t.is(one.type, 'application/proto');
  const sent = SendMessageResponse.decode(one.bytes);
  t.is(sent.seq, 1);
  t.false(sent.connected);
  const batch = await protoCall('SendMessages', SendMessagesRequest.encode({ requests: [toClient('h-proto', 'two'), toClient('', 'bad')] }).finish());
  const results = SendMessagesResponse.decode(batch.bytes).results;
  t.is(results[0]?.result?.$case, 'sent');
  t.deepEqual(results[1]?.result, { $case: 'error', value: { code: 3, message: 'requests[1]: client_id is empty; it must be 1 to 256 bytes of UTF-8' } });
});

test('http api - a binary body with invalid UTF-8 or that is not protobuf is 400 naming the problem (errors are JSON)', async (t) => {
  // field 1 (client_id), length 2, bytes ff fe; field 3 (message) "m"
  const notUtf8 = await protoCall('SendMessage', new Uint8Array([0x0a, 0x02, 0xff, 0xfe, 0x1a, 0x01, 0x6d]));
  t.is(notUtf8.status, 400);
  t.is(notUtf8.type, 'application/json; charset=utf-8');
  t.deepEqual(JSON.parse(Buffer.from(notUtf8.bytes).toString()), { code: 'INVALID_ARGUMENT', message: 'client_id is not valid UTF-8' });
  const batchItem = await protoCall('SendMessages', new Uint8Array([0x0a, 0x07, 0x0a, 0x02, 0xff, 0xfe, 0x1a, 0x01, 0x6d]));
  t.deepEqual(SendMessagesResponse.decode(batchItem.bytes).results[0]?.result, { $case: 'error', value: { code: 3, message: 'requests[0]: client_id is not valid UTF-8' } });
  const garbage = await protoCall('SendMessage', new Uint8Array([0x0a, 0x7f, 0x01]));
  t.is(garbage.status, 400);
  t.regex(Buffer.from(garbage.bytes).toString(), /body is not a valid channel\.v1\.SendMessageRequest in binary protobuf: /);
});

// ---- access without keys ---------------------------------------------------------------------------

test('http api - without API keys it answers loopback only: a forwarded request is 403 PERMISSION_DENIED', async (t) => {
  const open = await startTestServer({ demo: false });
  t.teardown(() => open.close());
  const local = await apiCall(open.httpUrl, 'GetPresence', { clientIds: ['a'] });
  t.is(local.status, 200);
  const forwarded = await apiCall(open.httpUrl, 'GetPresence', { clientIds: ['a'] }, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.is(forwarded.status, 403);
  t.deepEqual(forwarded.json, {
    code: 'PERMISSION_DENIED',
    message: 'without API keys the HTTP API answers this machine only; start channeld with --api-key to open it to others',
  });
});

test('http api - --api-port serves it on a listener of its own; --no-http-api takes it off the HTTP port', async (t) => {
  const split = await startTestServer({ apiKeys: [KEY], apiPort: 0, httpApi: false });
  t.teardown(() => split.close());
  t.true(split.server.apiPort !== undefined && split.server.apiPort > 0);
  const onApiPort = await apiCall(`http://127.0.0.1:${split.server.apiPort}`, 'GetPresence', { clientIds: ['a'] }, { key: KEY });
  t.is(onApiPort.status, 200);
  const elsewhere = await apiCall(`http://127.0.0.1:${split.server.apiPort}`, '../healthz', undefined, { method: 'GET' });
  t.is(elsewhere.status, 404);
  const onHttpPort = await apiCall(split.httpUrl, 'GetPresence', { clientIds: ['a'] }, { key: KEY });
  t.is(onHttpPort.status, 404);
  t.is(onHttpPort.text, 'not found\n');
});

// ---- metrics ----------------------------------------------------------------------------------------

test('http api - calls are counted by method and code, and accepted messages by RPC', async (t) => {
  const counted = await startTestServer({ apiKeys: [KEY] });
  t.teardown(() => counted.close());
  const c = (method: string, body: unknown) => apiCall(counted.httpUrl, method, body, { key: KEY });
  await c('SendMessage', { clientId: 'm', message: 'a' });
  await c('SendMessage', { clientId: 'm', message: 'b' });
  await c('SendMessage', { clientId: 'm', message: '' });
  await c('SendMessages', { requests: [{ clientId: 'm', message: 'c' }, { clientId: 'm', message: 'd' }] });
  await apiCall(counted.httpUrl, 'SendMessage', {}, { key: 'wrong' });
  await c('Nope', {});
  const metrics = await (await fetch(`${counted.httpUrl}/metrics`)).text();
  const line = (name: string): string | undefined => metrics.split('\n').find((l) => l.startsWith(name));
  t.is(line('channeld_http_api_calls_total{service="channel.v1.ChannelService",method="SendMessage",code="OK"}'), 'channeld_http_api_calls_total{service="channel.v1.ChannelService",method="SendMessage",code="OK"} 2');
  t.truthy(line('channeld_http_api_calls_total{service="channel.v1.ChannelService",method="SendMessage",code="INVALID_ARGUMENT"} 1'));
  t.truthy(line('channeld_http_api_calls_total{service="channel.v1.ChannelService",method="SendMessage",code="UNAUTHENTICATED"} 1'));
  t.truthy(line('channeld_http_api_calls_total{service="channel.v1.ChannelService",method="unknown",code="NOT_FOUND"} 1'));
  t.truthy(line('channeld_http_api_messages_accepted_total{rpc="SendMessage"} 2'));
  t.truthy(line('channeld_http_api_messages_accepted_total{rpc="SendMessages"} 2'));
  t.truthy(line('channeld_http_api_call_duration_seconds_count{service="channel.v1.ChannelService",method="SendMessages"} 1'));
  t.falsy(line('channeld_grpc_calls_total{service="channel.v1.ChannelService",method="SendMessage"'), 'HTTP calls are not counted as gRPC ones');
});

// ---- WatchPresence ----------------------------------------------------------------------------------

test('http api - WatchPresence as NDJSON: snapshot, its marker, live changes; heartbeats while idle', async (t) => {
  const { socket } = await connect(ts, 'hw-first');
  const stream = new HttpPresenceStream(base, { clientIdPrefix: 'hw-', snapshot: true }, { key: KEY });
  t.teardown(() => stream.close());
  await stream.until(() => stream.items.some((i) => 'snapshotComplete' in i), 'the snapshot marker');
  t.is(stream.status, 200);
  t.is(stream.contentType, 'application/x-ndjson');
  t.deepEqual(stream.events.map((e) => [e['clientId'], e['state'], e['reason']]), [['hw-first', 'PRESENCE_STATE_CONNECTED', 'PRESENCE_REASON_SNAPSHOT']]);
  socket.close();
  await stream.until(() => stream.events.length === 2, 'the DISCONNECTED');
  t.deepEqual(stream.events[1] && [stream.events[1]['clientId'], stream.events[1]['state'], stream.events[1]['reason']], [
    'hw-first',
    'PRESENCE_STATE_DISCONNECTED',
    'PRESENCE_REASON_SOCKET_CLOSED',
  ]);
  t.regex(String(stream.events[1]?.['cursor']), /.+/);
  const heartbeats = stream.items.filter((i) => 'heartbeat' in i).length;
  await stream.until(() => stream.items.filter((i) => 'heartbeat' in i).length > heartbeats, 'a heartbeat (1 s)');
  t.pass();
});

test('http api - WatchPresence over SSE resumes from a cursor (body or Last-Event-ID) with exactly the events after it', async (t) => {
  const first = new HttpPresenceStream(base, { clientIdPrefix: 'hr-' }, { key: KEY, sse: true });
  await first.until(() => first.items.length > 0, 'the stream to start');
  t.is(first.contentType, 'text/event-stream; charset=utf-8');
  const a = await connect(ts, 'hr-a');
  await first.until(() => first.events.length === 1, 'hr-a CONNECTED');
  const seen = first.items.find((i) => i['event'] === 'presence');
  const cursor = String(seen?.['id']);
  t.is((seen?.['data'] as Record<string, unknown>)['cursor'], cursor, 'the SSE id is the event cursor');
  first.close();

  a.socket.close();
  const b = await connect(ts, 'hr-b');
  t.teardown(() => b.socket.close());

  const byBody = new HttpPresenceStream(base, { clientIdPrefix: 'hr-', cursor }, { key: KEY, sse: true });
  t.teardown(() => byBody.close());
  const byHeader = new HttpPresenceStream(base, { clientIdPrefix: 'hr-' }, { key: KEY, sse: true, headers: { 'last-event-id': cursor } });
  t.teardown(() => byHeader.close());
  for (const stream of [byBody, byHeader]) {
    await stream.until(() => stream.events.length === 2, 'the two missed events');
    t.deepEqual(stream.events.map((e) => [e['clientId'], e['state']]), [
      ['hr-a', 'PRESENCE_STATE_DISCONNECTED'],
      ['hr-b', 'PRESENCE_STATE_CONNECTED'],
    ]);
  }
});

test('http api - a bad WatchPresence request is a plain 400 before any stream starts', async (t) => {
  const stream = new HttpPresenceStream(base, { cursor: 'c'.repeat(16_385) }, { key: KEY });
  await stream.until(() => stream.ended, 'the answer');
  t.is(stream.status, 400);
  t.deepEqual(stream.items, [{ code: 'INVALID_ARGUMENT', message: 'cursor is 16385 bytes; the limit is 16384' }]);
});

test('http api - a presence stream the client drops is unwatched', async (t) => {
  const own = await startTestServer({ apiKeys: [KEY] });
  t.teardown(() => own.close());
  const before = own.server.hub.presence.watcherCount;
  const stream = new HttpPresenceStream(own.httpUrl, {}, { key: KEY });
  await stream.until(() => stream.items.length > 0, 'the stream to start');
  t.is(own.server.hub.presence.watcherCount, before + 1);
  stream.close();
  const deadline = Date.now() + 5000;
  while (own.server.hub.presence.watcherCount !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.is(own.server.hub.presence.watcherCount, before);
  const metrics = await (await fetch(`${own.httpUrl}/metrics`)).text();
  t.true(metrics.includes('channeld_http_api_calls_total{service="channel.v1.ChannelService",method="WatchPresence",code="CANCELLED"} 1'));
});

test('http api - a reader that stops reading is cut off with a final error event naming the cursor; the server goes on', async (t) => {
  const slow = await startTestServer({ apiKeys: [KEY], presenceWatcherQueue: 50 });
  t.teardown(() => slow.close());
  const stream = new HttpPresenceStream(slow.httpUrl, {}, { key: KEY });
  t.teardown(() => stream.close());
  await stream.until(() => stream.items.length > 0, 'the stream to start');
  // Stop reading: the kernel buffers fill, then uWS says false and the watcher queues, then cuts off.
  const socket = (stream as unknown as { request: { socket: { pause(): void; resume(): void } } }).request.socket;
  socket.pause();
  const longId = 'x'.repeat(250);
  const injected = 40_000;
  for (let i = 0; i < injected; i++) {
    // What an engine hands the hub for every presence change (the core's queue bound is what is tested).
    slow.server.hub.onPresence({
      clientId: `${longId}${i}`,
      state: i % 2 === 0 ? PresenceState.Connected : PresenceState.Disconnected,
      reason: i % 2 === 0 ? PresenceReason.SocketOpened : PresenceReason.SocketClosed,
      timeMs: Date.now(),
      cursor: `0.${i + 1}`,
    });
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  t.is(slow.server.hub.presence.watcherCount, 0, 'the watcher was cut off');
  const other = await apiCall(slow.httpUrl, 'GetPresence', { clientIds: ['a'] }, { key: KEY });
  t.is(other.status, 200, 'the server answers meanwhile');
  socket.resume();
  await stream.until(() => stream.ended, 'the end of the stream', 20_000);
  const last = stream.items.at(-1);
  const error = last?.['error'] as Record<string, unknown> | undefined;
  t.is(error?.['code'], 'RESOURCE_EXHAUSTED');
  t.regex(String(error?.['message']), /^presence watcher fell 50 events behind and was cut off; resume with cursor "0\.\d+"$/);
  t.true(stream.events.length < injected / 2, `${stream.events.length} events were written before the cut-off`);
  const cursor = /"(0\.\d+)"/.exec(String(error?.['message']))?.[1];
  t.is(stream.events.at(-1)?.['cursor'], cursor, 'the cursor named is that of the last event the reader got');
});

test('http api - a client that goes away mid-body is counted CANCELLED; the server goes on', async (t) => {
  const own = await startTestServer({ apiKeys: [KEY] });
  t.teardown(() => own.close());
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection(own.server.httpPort, '127.0.0.1', () => {
      socket.write(
        `POST ${SERVICE_PATH}/SendMessage HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: 1000\r\n\r\n{"clientId":"a",`,
        () => setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100),
      );
    });
    socket.on('error', reject);
  });
  const after = await apiCall(own.httpUrl, 'SendMessage', { clientId: 'a', message: 'still here' }, { key: KEY });
  t.is(after.status, 200);
  t.is(after.json?.['seq'], '1', 'the half-sent message was not sent');
  const metrics = await (await fetch(`${own.httpUrl}/metrics`)).text();
  t.true(metrics.includes('channeld_http_api_calls_total{service="channel.v1.ChannelService",method="SendMessage",code="CANCELLED"} 1'), metrics.split('\n').filter((l) => l.includes('http_api_calls')).join('\n'));
});

test('http api - a graceful shutdown ends open presence streams cleanly (no error line) and does not wait on them', async (t) => {
  const own = await startTestServer({ apiKeys: [KEY] });
  const stream = new HttpPresenceStream(own.httpUrl, { snapshot: true }, { key: KEY });
  await stream.until(() => stream.items.some((i) => 'snapshotComplete' in i), 'the snapshot marker');
  const started = Date.now();
  await own.close();
  await stream.until(() => stream.ended, 'the end of the stream');
  t.true(Date.now() - started < 2000, 'the shutdown grace was not spent waiting for the stream');
  t.false(stream.items.some((i) => 'error' in i));
});

test('http api - after a refused request with a small body the connection serves the next request', async (t) => {
  const body = '{"clientId":"ka","message":"m"}';
  const request = (key: string): string =>
    `POST ${SERVICE_PATH}/SendMessage HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: Bearer ${key}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const text = await new Promise<string>((resolve, reject) => {
    let received = '';
    const socket = createConnection(ts.server.httpPort, '127.0.0.1', () => socket.write(request('wrong') + request(KEY)));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if ((received.match(/HTTP\/1\.1 /g) ?? []).length === 2 && received.endsWith('}')) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  t.deepEqual(statuses, ['401', '200'], text);
  t.regex(text, /"seq":"1"/);
});
