import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { LineProcess, ROOT, run, type Ran } from './helpers/go.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const API_KEY = 'curl-test-key-0123456789';
const curlFound = spawnSync('curl', ['--version']).status === 0;

if (!curlFound && process.env['CI'] === 'true') {
  test('http api curl - curl is installed (CI=true)', (t) => t.fail('curl is not installed (apt-get install curl)'));
} else if (!curlFound) {
  console.warn('\n!!! SKIPPING examples/curl tests: curl is not installed !!!\n');
}
const curlTest = curlFound ? test : test.skip;

let server: TestServer | undefined;
const watchers: LineProcess[] = [];

test.before(async () => {
  if (curlFound) server = await startTestServer({ apiKeys: [API_KEY] });
});
test.after.always(async () => {
  await Promise.all(watchers.map((w) => w.stop()));
  await server?.close();
});

function ts(): TestServer {
  if (server === undefined) throw new Error('test.before did not start the server');
  return server;
}

function env(apiKey: string = API_KEY): Record<string, string> {
  return { CHANNELD_HTTP_URL: ts().httpUrl, CHANNELD_API_KEY: apiKey };
}

const script = (name: string, args: readonly string[], apiKey?: string, input?: string): Promise<Ran> =>
  run(join(ROOT, 'examples', 'curl', name), args, { env: env(apiKey), ...(input === undefined ? {} : { input }) });

function json(ran: Ran): Record<string, unknown> {
  if (ran.code !== 0) throw new Error(`exit ${ran.code}: ${ran.stderr}`);
  return JSON.parse(ran.stdout) as Record<string, unknown>;
}

curlTest('http api curl - create-channel.sh mints a token a socket opens with; send-message.sh reaches it', async (t) => {
  const created = json(await script('create-channel.sh', ['curl-alice', '60']));
  t.is(created['durationMinutes'], 60);
  const socket = new RawSocket(ts().wsUrl, String(created['token']));
  t.teardown(() => socket.close());
  await socket.until(() => socket.welcome !== undefined, 'the welcome');
  const sent = json(await script('send-message.sh', ['curl-alice', 'say "hi"\n\tand more \\ backslash']));
  t.is(sent['seq'], '1');
  t.is(sent['connected'], true);
  await socket.untilMessages(1);
  t.is(socket.messages[0]?.data, 'say "hi"\n\tand more \\ backslash', 'quotes, tabs, newlines and backslashes arrive as written');
  const defaults = json(await script('create-channel.sh', ['curl-alice']));
  t.is(defaults['durationMinutes'], 120);
});

curlTest('http api curl - send-messages.sh sends in order, one result each', async (t) => {
  const answer = json(await script('send-messages.sh', ['curl-batch', 'one', 'two', 'three']));
  const results = answer['results'] as { sent?: { seq: string } }[];
  t.deepEqual(results.map((r) => r.sent?.seq), ['1', '2', '3']);
});

curlTest('http api curl - subscribe.sh, broadcast.sh, unsubscribe.sh, get-presence.sh, close-channel.sh', async (t) => {
  const { socket } = await connect(ts(), 'curl-bob');
  t.deepEqual(json(await script('subscribe.sh', ['curl-lobby', 'curl-bob', 'curl-carol'])), { added: 2 });
  await socket.until(() => socket.topicWelcome('curl-lobby') !== undefined, 'the topic welcome');
  const broadcast = json(await script('broadcast.sh', ['hello lobby', 'curl-lobby']));
  t.like(broadcast, { clients: 0, topics: [{ topic: 'curl-lobby', seq: '1', members: 2 }] });
  await socket.until(() => socket.topicMessages('curl-lobby').length === 1, 'the topic message');
  t.deepEqual(json(await script('unsubscribe.sh', ['curl-lobby', 'curl-carol'])), { removed: 1 });
  const presence = json(await script('get-presence.sh', ['curl-bob', 'curl-nobody']));
  t.like(presence, { clients: [{ clientId: 'curl-bob', connected: true }, { clientId: 'curl-nobody', connected: false }] });
  t.deepEqual(json(await script('close-channel.sh', ['curl-bob'])), { wasConnected: true });
  await socket.closed;
});

curlTest('http api curl - watch-presence.sh streams the snapshot, then changes, and resumes from a cursor', async (t) => {
  const watch = new LineProcess('watch-presence.sh', join(ROOT, 'examples', 'curl', 'watch-presence.sh'), ['curl-dave'], env());
  watchers.push(watch);
  await watch.waitFor(() => watch.stdout.includes('"snapshotComplete"'), 'the snapshot marker');
  const { socket } = await connect(ts(), 'curl-dave');
  await watch.waitFor(() => watch.stdout.includes('"PRESENCE_STATE_CONNECTED"'), 'CONNECTED');
  await watch.stop();
  const events = watch.lines.map((l) => JSON.parse(l) as { event?: { clientId: string; state: string; cursor: string } }).flatMap((r) => (r.event === undefined ? [] : [r.event]));
  t.like(events, [{ clientId: 'curl-dave', state: 'PRESENCE_STATE_CONNECTED' }]);
  socket.close();
  await socket.closed;

  const resumed = new LineProcess('watch-presence.sh', join(ROOT, 'examples', 'curl', 'watch-presence.sh'), ['curl-dave', events[0]!.cursor], env());
  watchers.push(resumed);
  await resumed.waitFor(() => resumed.stdout.includes('"PRESENCE_STATE_DISCONNECTED"'), 'the DISCONNECTED missed meanwhile');
  t.false(resumed.stdout.includes('"snapshotComplete"'), 'a resume has no snapshot');
});

curlTest('http api curl - pipe.sh sends every line of its input, in order, and reports each', async (t) => {
  const { socket } = await connect(ts(), 'curl-pipe');
  t.teardown(() => socket.close());
  const lines = Array.from({ length: 250 }, (_, i) => `line ${i}`);
  const ran = await script('pipe.sh', ['curl-pipe'], undefined, `${lines.join('\n')}\n\nlast, with no newline`);
  t.is(ran.code, 0, ran.stderr);
  const reports = ran.stdout.trim().split('\n').map((l) => JSON.parse(l) as { sent?: { seq: string }; error?: { message: string } });
  t.is(reports.length, 252);
  t.is(reports[249]?.sent?.seq, '250');
  t.is(reports[250]?.error?.message, 'requests[50]: message is empty; it must be 1 to 32767 bytes of UTF-8', 'the empty line fails alone (item 50 of its batch)');
  t.is(reports[251]?.sent?.seq, '251');
  await socket.untilMessages(251);
  t.deepEqual(socket.messages.map((m) => m.data), [...lines, 'last, with no newline']);
});

curlTest('http api curl - a refused call prints the status and the error on stderr and exits 1', async (t) => {
  const wrongKey = await script('send-message.sh', ['curl-eve', 'hi'], 'not-the-key');
  t.is(wrongKey.code, 1);
  t.is(wrongKey.stderr.trim(), 'HTTP 401: {"code":"UNAUTHENTICATED","message":"API key is not valid"}');
  const noKey = await script('create-channel.sh', ['curl-eve'], '');
  t.is(noKey.stderr.trim(), 'HTTP 401: {"code":"UNAUTHENTICATED","message":"missing \\"authorization: Bearer <api key>\\" header"}');
  const tooLong = await script('send-message.sh', ['curl-eve', 'x'.repeat(40_000)]);
  t.is(tooLong.code, 1);
  t.is(tooLong.stderr.trim(), 'HTTP 400: {"code":"INVALID_ARGUMENT","message":"message is 40000 bytes; the limit is 32767"}');
  const usage = await script('send-message.sh', ['only-one-arg']);
  t.is(usage.code, 2);
  t.is(usage.stderr.trim(), 'usage: send-message.sh CLIENT_ID MESSAGE');
});

curlTest('http api curl - the by-hand curl lines of examples/curl/README.md run as written (pointed at the test server)', async (t) => {
  const readme = readFileSync(join(ROOT, 'examples', 'curl', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const byHand = blocks.find((b) => b.includes('curl -s http://localhost:8080'));
  t.truthy(byHand, 'the README has its by-hand block');
  const code = byHand!.replaceAll('http://localhost:8080', ts().httpUrl);
  // The last line streams presence until stopped: give it a moment, then stop it.
  const ran = await run('timeout', ['3', 'bash', '-euo', 'pipefail', '-c', code], { env: { CHANNELD_API_KEY: API_KEY } });
  t.is(ran.code, 124, `stopped by the timeout, not failed: ${ran.stderr}`);
  t.regex(ran.stdout, /^\{"token":"[^"]+","expireTime":"[^"]+","durationMinutes":120\}\{"seq":"1","epoch":"[^"]+","connected":false,"delivered":false\}/);
  t.true(ran.stdout.includes(': watching presence') || ran.stdout.includes('event: snapshot_complete'), ran.stdout);
  t.true(ran.stdout.includes('event: snapshot_complete'), ran.stdout);
});
