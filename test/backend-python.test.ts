import { join } from 'node:path';
import test from 'ava';
import { TokenAuthority } from '../src/core/tokens.js';
import { PYTHONPATH, PythonProcess, ROOT, pythonAvailability } from './helpers/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const API_KEY = 'python-backend-test-key';
const TOKEN_SECRET = 'python-backend-token-secret';
const availability = pythonAvailability();

if (!availability.run && availability.fail) {
  test('backend python - the Python toolchain is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING Python backend tests: ${availability.why} !!!\n`);
}
const pythonTest = availability.run ? test.serial : test.skip;

let ts: TestServer | undefined;
let py: PythonProcess | undefined;
let socket: RawSocket | undefined;

test.before(async () => {
  if (!availability.run) return;
  ts = await startTestServer({ apiKeys: [API_KEY], tokenSecrets: [TOKEN_SECRET] });
  const hour = 3_600_000;
  const now = Date.now();
  py = new PythonProcess(join(ROOT, 'test', 'python', 'backend_check.py'), ['py-backend'], {
    // The documented way: gen/python and sdk/python on PYTHONPATH.
    PYTHONPATH,
    CHANNELD_GRPC_ADDR: `127.0.0.1:${ts.server.grpcPort}`,
    CHANNELD_API_KEY: API_KEY,
    // Tokens for py-backend that this server no longer takes, minted the way the server mints.
    CHANNELD_TEST_EXPIRED_TOKEN: new TokenAuthority([TOKEN_SECRET]).mint('py-backend', now - 2 * hour, now - hour),
    CHANNELD_TEST_FOREIGN_TOKEN: new TokenAuthority(['another-deployments-secret']).mint('py-backend', now, now + hour),
  });
});
test.after.always(async () => {
  socket?.close();
  await py?.stop();
  await ts?.close();
});

function mustHave<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('test.before did not set up the server and the Python process');
  return value;
}

pythonTest('backend python - stubs import from gen/python and the module from sdk/python', async (t) => {
  const imports = await mustHave(py).next('imports');
  t.is(imports['pb2'], join(ROOT, 'gen', 'python', 'channel', 'v1', 'channel_pb2.py'));
  t.is(imports['module'], join(ROOT, 'sdk', 'python', 'channeld_channel', '__init__.py'));
});

pythonTest('backend python - create_channel mints a token a real WebSocket opens, seen as CONNECTED', async (t) => {
  const p = mustHave(py);
  t.deepEqual(await p.next('snapshot'), { event: 'snapshot', complete: true }, 'WatchPresence starts with its snapshot marker');
  const { token } = await p.next('token');
  t.is(typeof token, 'string');
  socket = new RawSocket(mustHave(ts).wsUrl, String(token));
  await socket.until(() => socket?.welcome !== undefined || socket?.closeCode !== undefined, 'the welcome');
  t.not(socket.welcome, undefined, `socket refused: ${socket.closeCode} ${socket.closeReason}`);
  const connected = await p.next('presence');
  t.like(connected, { clientId: 'py-backend', state: 'PRESENCE_STATE_CONNECTED', reason: 'PRESENCE_REASON_SOCKET_OPENED' });
});

pythonTest('backend python - send_message by client id and by token, and the generated stub, reach the socket in order; dead tokens reach nobody', async (t) => {
  const s = mustHave(socket);
  await s.untilMessages(4);
  t.deepEqual(s.messages, [
    { seq: 1, data: 'hello from python \u2713' },
    { seq: 2, data: '{"via": "gen/python"}' },
    { seq: 3, data: 'by token \u2713' },
    // An expired token, a revoked one and another server's token for py-backend were sent to in
    // between: nothing of theirs arrived before this last message.
    { seq: 4, data: 'after the tokens that are not live' },
  ]);
  t.like(await mustHave(py).next('sent'), { seq: 2, connected: true });
});

pythonTest('backend python - closing the socket is seen as DISCONNECTED', async (t) => {
  const s = mustHave(socket);
  s.close();
  await s.closed;
  t.like(await mustHave(py).next('presence', 1), { clientId: 'py-backend', state: 'PRESENCE_STATE_DISCONNECTED', reason: 'PRESENCE_REASON_SOCKET_CLOSED' });
});

/** What each bad-input case of backend_check.py did: [case, exception or "returned", gRPC code]. */
async function outcomes(prefix: string): Promise<[string, string, unknown][]> {
  const p = mustHave(py);
  await p.next('done');
  return p.lines
    .filter((l) => (l.event === 'raised' || l.event === 'returned') && String(l['case']).startsWith(prefix))
    .map((l) => [String(l['case']), l.event === 'raised' ? String(l['exception']) : 'returned', l['code'] ?? null]);
}

pythonTest('backend python - a token-shaped string that is no live token is a client id, as on App Engine: silent, delivered to that id', async (t) => {
  t.deepEqual(await outcomes('token'), [
    ['token expired', 'returned', null],
    ['token revoked', 'returned', null],
    ['token of another server', 'returned', null],
    // Then the client id rules apply to it.
    ['token shaped, 300 bytes', 'InvalidChannelClientIdError', null],
    ['token shaped, 256 bytes', 'returned', null],
  ]);
  // The channel whose client id is the other server's token got that message.
  const { token } = await mustHave(py).next('foreign channel');
  const foreign = new RawSocket(mustHave(ts).wsUrl, String(token));
  t.teardown(() => foreign.close());
  await foreign.untilMessages(1);
  t.deepEqual(foreign.messages, [{ seq: 1, data: 'to the client id that looks like a token' }]);
});

pythonTest('backend python - unlike App Engine, a message sent while no client is connected waits for its next socket', async (t) => {
  const { token } = await mustHave(py).next('offline channel');
  const later = new RawSocket(mustHave(ts).wsUrl, String(token));
  t.teardown(() => later.close());
  await later.untilMessages(1);
  t.deepEqual(later.messages, [{ seq: 1, data: 'sent before the browser connected' }]);
});

pythonTest('backend python - client ids are checked as App Engine did: a str of at most 256 bytes', async (t) => {
  t.deepEqual(await outcomes('client id'), [
    ['client id not a string', 'InvalidChannelClientIdError', null],
    ['client id None on send', 'InvalidChannelClientIdError', null],
    ['client id 257 bytes', 'InvalidChannelClientIdError', null],
    ['client id 129 two-byte chars', 'InvalidChannelClientIdError', null],
    ['client id 256 bytes', 'returned', null],
    // App Engine left the empty id to its server; channeld refuses it and the module maps the status.
    ['client id empty', 'InvalidChannelClientIdError', 'INVALID_ARGUMENT'],
  ]);
});

pythonTest('backend python - durations are checked as App Engine did: an integer 1 to 1440', async (t) => {
  t.deepEqual(await outcomes('duration'), [
    ['duration 0', 'InvalidChannelTokenDurationError', null],
    ['duration 1441', 'InvalidChannelTokenDurationError', null],
    ['duration not integral', 'InvalidChannelTokenDurationError', null],
    ['duration string', 'InvalidChannelTokenDurationError', null],
    ['duration 1', 'returned', null],
    ['duration 1440', 'returned', null],
    ['duration True', 'returned', null],
    ['duration False', 'InvalidChannelTokenDurationError', null],
  ]);
  t.like(await mustHave(py).next('duration on the wire'), { durationMinutes: 1 }, 'True is sent as the int 1, not refused by protobuf');
});

pythonTest('backend python - the module exports every name google.appengine.api.channel had', async (t) => {
  const exports = await mustHave(py).next('exports');
  const names = exports['names'] as string[];
  for (const name of [
    'MAXIMUM_CLIENT_ID_LENGTH',
    'MAXIMUM_MESSAGE_LENGTH',
    'MAXIMUM_TOKEN_DURATION_MINUTES',
    'create_channel',
    'send_message',
  ]) {
    t.true(names.includes(name), name);
  }
  t.deepEqual(exports['errors'], [
    'AppIdAliasRequired',
    'Error',
    'InvalidChannelClientIdError',
    'InvalidChannelTokenDurationError',
    'InvalidMessageError',
  ]);
});

/** What each case raised, as the text of the exception. */
async function texts(prefix: string): Promise<[string, string][]> {
  const p = mustHave(py);
  await p.next('done');
  return p.lines
    .filter((l) => l.event === 'raised' && String(l['case']).startsWith(prefix))
    .map((l) => [String(l['case']), String(l['message'])]);
}

pythonTest("backend python - App Engine's own texts for what its module checked; the server's detail for what only its server did", async (t) => {
  t.deepEqual(await texts('client id'), [
    ['client id not a string', '"42" is not a string.'],
    ['client id None on send', '"None" is not a string.'],
    ['client id 257 bytes', 'Client id length 257 is greater than max length 256'],
    ['client id 129 two-byte chars', 'Client id length 258 is greater than max length 256'],
    ['client id empty', 'client_id is empty; it must be 1 to 256 bytes of UTF-8'],
  ]);
  t.deepEqual(await texts('duration'), [
    ['duration 0', 'Argument duration_minutes must not be less than 1'],
    ['duration 1441', 'Argument duration_minutes must be less than 1441'],
    ['duration not integral', 'Argument duration_minutes must be integral'],
    ['duration string', 'Argument duration_minutes must be integral'],
    ['duration False', 'Argument duration_minutes must not be less than 1'],
  ]);
  t.deepEqual(await texts('message'), [
    ['message not a string', 'Message must be a string'],
    ['message 32768 bytes', 'Message must be no longer than 32767 chars'],
    ['message empty', 'message is empty; it must be 1 to 32767 bytes of UTF-8'],
    ['message not UTF-8 bytes', 'Message must be UTF-8'],
  ]);
});

pythonTest('backend python - messages are checked as App Engine did: a str of at most 32767 bytes', async (t) => {
  t.deepEqual(await outcomes('message'), [
    ['message not a string', 'InvalidMessageError', null],
    ['message 32768 bytes', 'InvalidMessageError', null],
    ['message 32767 bytes', 'returned', null],
    ['message empty', 'InvalidMessageError', 'INVALID_ARGUMENT'],
    ['message not UTF-8 bytes', 'InvalidMessageError', null],
  ]);
});

pythonTest('backend python - server refusals and outages raise the base Error with the gRPC code', async (t) => {
  t.deepEqual(await outcomes('server'), [
    ['server: wrong api key', 'Error', 'UNAUTHENTICATED'],
    ['server: unreachable', 'Error', 'UNAVAILABLE'],
  ]);
  const p = mustHave(py);
  const raised = p.all('raised');
  t.true(raised.length > 0 && raised.every((l) => l['isChannelError'] === true), 'every exception is a channeld_channel.Error');
  t.is(await p.exited(), 0, p.stderr);
});
