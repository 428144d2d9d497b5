import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { GRPCURL, grpcurlAvailability, LineProcess, ROOT, run, type Ran } from './helpers/go.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const API_KEY = 'grpcurl-test-key';
const availability = grpcurlAvailability();

if (!availability.run && availability.fail) {
  test('grpcurl - grpcurl is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING grpcurl tests: ${availability.why} !!!\n`);
}
const grpcurlTest = availability.run ? test : test.skip;

let server: TestServer | undefined;
const watchers: LineProcess[] = [];
const sockets: RawSocket[] = [];

test.before(async () => {
  if (availability.run) server = await startTestServer({ apiKeys: [API_KEY] });
});

test.after.always(async () => {
  for (const s of sockets) s.close();
  await Promise.all(watchers.map((w) => w.stop()));
  await server?.close();
});

function ts(): TestServer {
  if (server === undefined) throw new Error('test.before did not start the server');
  return server;
}

/** The environment the scripts document, pointing at the test server. */
function env(apiKey: string | undefined = API_KEY): Record<string, string> {
  return { CHANNELD_GRPC_ADDR: `127.0.0.1:${ts().server.grpcPort}`, CHANNELD_API_KEY: apiKey ?? '', GRPCURL };
}

function script(name: string, args: readonly string[], apiKey?: string, input?: string): Promise<Ran> {
  return run(join(ROOT, 'examples', 'grpcurl', name), args, { env: env(apiKey), ...(input === undefined ? {} : { input }) });
}

function json(ran: Ran): Record<string, unknown> {
  if (ran.code !== 0) throw new Error(`exit ${ran.code}: ${ran.stderr}`);
  return JSON.parse(ran.stdout) as Record<string, unknown>;
}

grpcurlTest('grpcurl - list.sh finds ChannelService and health through reflection', async (t) => {
  const services = await script('list.sh', []);
  t.is(services.code, 0, services.stderr);
  t.deepEqual(services.stdout.trim().split('\n').sort(), ['channel.v1.ChannelService', 'grpc.health.v1.Health']);
  const methods = await script('list.sh', ['channel.v1.ChannelService']);
  for (const rpc of ['CreateChannel', 'SendMessage', 'WatchPresence', 'GetPresence', 'CloseChannel']) {
    t.true(methods.stdout.includes(`channel.v1.ChannelService.${rpc}\n`), rpc);
  }
});

grpcurlTest('grpcurl - describe.sh shows the service with its comments and streaming RPCs', async (t) => {
  const ran = await script('describe.sh', []);
  t.is(ran.code, 0, ran.stderr);
  t.true(ran.stdout.startsWith('channel.v1.ChannelService is a service:\n'));
  t.true(ran.stdout.includes('rpc CreateChannel ( .channel.v1.CreateChannelRequest ) returns ( .channel.v1.CreateChannelResponse );'));
  t.true(ran.stdout.includes('rpc WatchPresence ( .channel.v1.WatchPresenceRequest ) returns ( stream .channel.v1.WatchPresenceResponse );'));
  t.true(ran.stdout.includes('// CreateChannel mints a new, independent token for a client id.'), 'proto comments come through reflection');
  const message = await script('describe.sh', ['channel.v1.CreateChannelRequest']);
  t.true(message.stdout.includes('int32 duration_minutes = 2;'));
});

grpcurlTest('grpcurl - create-channel.sh mints a token that a real WebSocket opens', async (t) => {
  const created = json(await script('create-channel.sh', ['curl-alice', '30']));
  t.is(created['durationMinutes'], 30);
  t.is(typeof created['token'], 'string');
  t.true(Date.parse(String(created['expireTime'])) > Date.now() + 29 * 60_000);
  const socket = new RawSocket(ts().wsUrl, String(created['token']));
  sockets.push(socket);
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'the welcome');
  t.not(socket.welcome, undefined, `socket refused: ${socket.closeCode} ${socket.closeReason}`);
  t.is(json(await script('create-channel.sh', ['curl-alice']))['durationMinutes'], 120, 'no duration means 120');
});

grpcurlTest('grpcurl - send-message.sh reaches the socket, quotes and newlines intact', async (t) => {
  const { socket } = await connect(ts(), 'curl-bob');
  sockets.push(socket);
  const message = 'say "hi"\n\tto \\ bob \u2713';
  const sent = json(await script('send-message.sh', ['curl-bob', message]));
  t.like(sent, { seq: '1', connected: true });
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: message }]);
  t.like(json(await script('send-message.sh', ['curl-nobody', 'x'])), { seq: '1', connected: false }, 'nobody listening is not an error');
});

grpcurlTest('grpcurl - send-json-file.sh sends a file (or stdin) that the browser can JSON.parse', async (t) => {
  const { socket } = await connect(ts(), 'curl-carol');
  sockets.push(socket);
  const state = { board: [[1, 0], [0, 2]], note: 'quote " backslash \\ tab \t \u00e9', nested: { ok: true } };
  const file = join(mkdtempSync(join(tmpdir(), 'channeld-grpcurl-')), 'state.json');
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  t.like(json(await script('send-json-file.sh', ['curl-carol', file])), { connected: true });
  t.like(json(await script('send-json-file.sh', ['curl-carol', '-'], API_KEY, '{"from": "stdin"}')), { seq: '2' });
  await socket.untilMessages(2);
  t.deepEqual(JSON.parse(socket.messages[0]!.data), state);
  t.deepEqual(JSON.parse(socket.messages[1]!.data), { from: 'stdin' });
});

grpcurlTest('grpcurl - watch-presence.sh streams the snapshot, then CONNECTED and DISCONNECTED', async (t) => {
  const watch = new LineProcess('watch-presence.sh', join(ROOT, 'examples', 'grpcurl', 'watch-presence.sh'), ['curl-dave'], env());
  watchers.push(watch);
  await watch.waitFor(() => watch.stdout.includes('"snapshotComplete"'), 'the snapshot marker');
  const { socket } = await connect(ts(), 'curl-dave');
  await watch.waitFor(() => watch.stdout.includes('"PRESENCE_STATE_CONNECTED"'), 'CONNECTED');
  socket.close();
  await socket.closed;
  await watch.waitFor(() => watch.stdout.includes('"PRESENCE_STATE_DISCONNECTED"'), 'DISCONNECTED');
  const events = watch.stdout
    .split(/\n(?=\{)/)
    .map((chunk) => JSON.parse(chunk) as { event?: { clientId: string; state: string; reason: string } })
    .flatMap((r) => (r.event === undefined ? [] : [r.event]));
  t.like(events, [
    { clientId: 'curl-dave', state: 'PRESENCE_STATE_CONNECTED', reason: 'PRESENCE_REASON_SOCKET_OPENED' },
    { clientId: 'curl-dave', state: 'PRESENCE_STATE_DISCONNECTED', reason: 'PRESENCE_REASON_SOCKET_CLOSED' },
  ]);
  t.is(events.length, 2, 'the prefix filter kept other clients out');
});

grpcurlTest('grpcurl - without the API key, or with a wrong one, calls are UNAUTHENTICATED', async (t) => {
  const missing = await script('create-channel.sh', ['curl-eve'], '');
  t.not(missing.code, 0);
  // grpcurl asks reflection for the schema first, and reflection is behind the key too.
  t.regex(missing.stderr, /code = Unauthenticated desc = .*missing "authorization: Bearer <api key>" metadata/);
  const wrong = await script('send-message.sh', ['curl-eve', 'hi'], 'not-the-key');
  t.not(wrong.code, 0);
  t.regex(wrong.stderr, /code = Unauthenticated desc = .*API key is not valid/);
  const list = await script('list.sh', [], '');
  t.regex(list.stderr, /Unauthenticated/, 'reflection needs the key too');
});

grpcurlTest('grpcurl - health.sh needs no key; bad input comes back as INVALID_ARGUMENT naming the limit', async (t) => {
  t.deepEqual(json(await script('health.sh', [], '')), { status: 'SERVING' });
  t.deepEqual(json(await script('health.sh', ['channel.v1.ChannelService'], '')), { status: 'SERVING' });
  const bad = await script('create-channel.sh', ['curl-frank', '5000']);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /Code: InvalidArgument\s+Message: duration_minutes is 5000; it must be 1 to 1440/);
  const usage = await script('send-message.sh', ['only-one-arg']);
  t.is(usage.code, 2);
  t.is(usage.stderr, 'usage: send-message.sh CLIENT_ID MESSAGE\n');
});
