import test from 'ava';
import { TokenAuthority } from '../src/core/tokens.js';
import { goAvailability, goBuild, LineProcess, run } from './helpers/go.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const API_KEY = 'go-backend-test-key';
const TOKEN_SECRET = 'go-backend-token-secret';
const availability = goAvailability();

if (!availability.run && availability.fail) {
  test('backend go - the Go toolchain is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING Go backend tests: ${availability.why} !!!\n`);
}
const goTest = availability.run ? test.serial : test.skip;

interface Built {
  ts: TestServer;
  example: string;
  sdkTests: string;
}
let built: Built | undefined;
const processes: LineProcess[] = [];
const sockets: RawSocket[] = [];

test.before(async (t) => {
  if (!availability.run) return;
  // A cold build compiles grpc-go on 2 cores; later runs come from Go's build cache.
  t.timeout(10 * 60_000);
  const [example, sdkTests] = [await goBuild('build', 'examples/go', 'example-go'), await goBuild('test', 'sdk/go/channel', 'channel.test')];
  built = { ts: await startTestServer({ apiKeys: [API_KEY], tokenSecrets: [TOKEN_SECRET] }), example, sdkTests };
});

test.after.always(async () => {
  for (const s of sockets) s.close();
  await Promise.all(processes.map((p) => p.stop()));
  await built?.ts.close();
});

function setup(): Built {
  if (built === undefined) throw new Error('test.before did not build the Go programs');
  return built;
}

function grpcAddr(ts: TestServer): string {
  return `127.0.0.1:${ts.server.grpcPort}`;
}

/** Starts examples/go on a free port, the way its README runs it, and waits until it serves. */
async function startExample(b: Built): Promise<{ example: LineProcess; url: string }> {
  const example = new LineProcess('examples/go', b.example, ['-listen', '127.0.0.1:0', '-channeld-http', b.ts.httpUrl], {
    CHANNELD_GRPC_ADDR: grpcAddr(b.ts),
    CHANNELD_API_KEY: API_KEY,
  });
  processes.push(example);
  const { line } = await example.line((l) => l.startsWith('listening on '), 'its listening line');
  return { example, url: line.slice('listening on '.length) };
}

function jsString(html: string, name: string): string {
  const match = new RegExp(`var ${name} = ("[^"]*");`).exec(html);
  if (match === null) throw new Error(`no "var ${name} = ..." in the page:\n${html}`);
  return JSON.parse(match[1]!) as string;
}

goTest('backend go - the example page loads the jsapi script and opens a channel with a minted token', async (t) => {
  const b = setup();
  const { url } = await startExample(b);
  const res = await fetch(`${url}/`);
  t.is(res.status, 200);
  const html = await res.text();
  t.true(html.includes(`<script src="${b.ts.httpUrl}/_ah/channel/jsapi"></script>`), 'the page loads the Channel API script from channeld');
  t.true(html.includes('new goog.appengine.Channel(token)'));
  const jsapi = await fetch(`${b.ts.httpUrl}/_ah/channel/jsapi`);
  t.is(jsapi.status, 200, 'the script the page points at exists');
  t.regex(jsString(html, 'clientId'), /^visitor-[0-9a-f]{16}$/);
  t.regex(res.headers.get('set-cookie') ?? '', /^example_client_id=visitor-/);

  const socket = new RawSocket(b.ts.wsUrl, jsString(html, 'token'));
  sockets.push(socket);
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'the welcome');
  t.not(socket.welcome, undefined, `socket refused: ${socket.closeCode} ${socket.closeReason}`);
});

goTest('backend go - a message sent through the example reaches the socket, and presence is printed', async (t) => {
  const b = setup();
  const { example, url } = await startExample(b);
  // The snapshot marker means WatchPresence is live, so the CONNECTED below cannot be missed.
  await example.line((l) => l === 'presence: watching', 'the presence snapshot marker');
  const html = await (await fetch(`${url}/`)).text();
  const clientId = jsString(html, 'clientId');

  const socket = new RawSocket(b.ts.wsUrl, jsString(html, 'token'));
  sockets.push(socket);
  const connected = await example.line((l) => l.startsWith(`presence: ${clientId} `), `CONNECTED for ${clientId}`);
  t.is(connected.line, `presence: ${clientId} CONNECTED (SOCKET_OPENED)`);

  const sent = await fetch(`${url}/send`, { method: 'POST', body: new URLSearchParams({ client_id: clientId, message: 'hello from ava \u2713' }) });
  t.is(sent.status, 200);
  t.is(await sent.text(), `sent to ${clientId}\n`);
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: JSON.stringify({ from: 'example-go', text: 'hello from ava \u2713' }) }]);

  socket.close();
  await socket.closed;
  const gone = await example.line((l) => l.startsWith(`presence: ${clientId} `), `DISCONNECTED for ${clientId}`, connected.index + 1);
  t.is(gone.line, `presence: ${clientId} DISCONNECTED (SOCKET_CLOSED)`);
});

goTest('backend go - the example answers 400 with the App Engine error for a bad message', async (t) => {
  const b = setup();
  const { url } = await startExample(b);
  const res = await fetch(`${url}/send`, { method: 'POST', body: new URLSearchParams({ client_id: 'x'.repeat(257), message: 'hi' }) });
  t.is(res.status, 400);
  t.is(await res.text(), 'API error 2 (channel: INVALID_CHANNEL_KEY): client_id is 257 bytes; the limit is 256\n');
});

goTest('backend go - the migration package: App Engine validation errors, and live calls with the API key', async (t) => {
  const b = setup();
  const hour = 3_600_000;
  const now = Date.now();
  const result = await run(b.sdkTests, ['-test.v', '-test.count=1'], {
    env: {
      CHANNELD_GRPC_ADDR: grpcAddr(b.ts),
      CHANNELD_API_KEY: API_KEY,
      // Tokens for go-sdk-token that this server no longer takes, minted the way the server mints.
      CHANNELD_TEST_EXPIRED_TOKEN: new TokenAuthority([TOKEN_SECRET]).mint('go-sdk-token', now - 2 * hour, now - hour),
      CHANNELD_TEST_FOREIGN_TOKEN: new TokenAuthority(['another-deployments-secret']).mint('go-sdk-token', now, now + hour),
    },
  });
  t.is(result.code, 0, result.stdout + result.stderr);
  for (const name of [
    'TestValidationErrors/empty_client_id',
    'TestValidationErrors/long_client_id',
    'TestValidationErrors/zero_duration',
    'TestValidationErrors/duration_not_whole_minutes',
    'TestValidationErrors/empty_message',
    'TestValidationErrors/message_over_32767_bytes',
    'TestSendJSONReportsEncodingErrors',
    'TestNewContextPicksTheClient',
    'TestLiveCreateAndSend',
    'TestLiveServerRejectionsBecomeAPIErrors',
    'TestLiveWrongAPIKeyIsUnauthenticated',
    'TestLiveSendByToken',
    'TestMayBeToken',
  ]) {
    t.regex(result.stdout, new RegExp(`--- PASS: ${name} `), `${name} passed`);
  }
  t.notRegex(result.stdout, /--- SKIP/, 'the live tests ran against the server');

  // What TestLiveSendByToken sent waits for the next socket; real WebSockets open now and get it.
  const tokenOf = (name: string): string => {
    const match = new RegExp(`^live-token ${name} (\\S+)$`, 'm').exec(result.stdout);
    if (match === null) throw new Error(`no "live-token ${name}" line in:\n${result.stdout}`);
    return match[1]!;
  };
  const byToken = new RawSocket(b.ts.wsUrl, tokenOf('go-sdk-token'));
  const foreign = new RawSocket(b.ts.wsUrl, tokenOf('foreign'));
  sockets.push(byToken, foreign);
  await Promise.all([byToken.untilMessages(2), foreign.untilMessages(1)]);
  t.deepEqual(byToken.messages, [
    { seq: 1, data: 'by token' },
    // The expired, revoked and foreign tokens were sent to in between: nothing of theirs came here.
    { seq: 2, data: 'after the tokens that are not live' },
  ]);
  t.deepEqual(foreign.messages, [{ seq: 1, data: 'to the client id that looks like a token' }], 'a string that is no live token is a client id');
});
