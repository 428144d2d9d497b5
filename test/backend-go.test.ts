import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { TokenAuthority } from '../src/core/tokens.js';
import { GO, GO_TEST_BIN, goAvailability, goBuild, LineProcess, ROOT, run, type Ran } from './helpers/go.js';
import { writeModuleProxy } from './helpers/go-module-proxy.js';
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

const GEN_MODULE = 'github.com/channeld/channeld/gen/go';
const SDK_MODULE = 'github.com/channeld/channeld/sdk/go/channel';

/** The version `go.mod` (of dir) requires of module. */
function requiredVersion(dir: string, module: string): string {
  const match = new RegExp(`^\\s*${module.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(readFileSync(join(ROOT, dir, 'go.mod'), 'utf8'));
  if (match === null) throw new Error(`${dir}/go.mod does not require ${module}`);
  return match[1]!;
}

/** An App Engine app's use of the Channel API, as it was but for the import line. */
function appSource(importPath: string): string {
  return `package main

import (
	"context"
	"fmt"
	"os"

	"${importPath}"
)

func main() {
	ctx := context.Background()
	token, err := channel.Create(ctx, os.Args[1])
	if err == nil {
		err = channel.Send(ctx, token, os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(token)
}
`;
}

/**
 * Empties dir, kept at a fixed place so that Go's build cache recognises the same sources on the
 * next run. Module caches are read-only by design, hence the chmod.
 */
async function clean(dir: string): Promise<void> {
  if (existsSync(dir)) await run('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

function mustRun(what: string, ran: Ran): string {
  if (ran.code !== 0) throw new Error(`${what} failed (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
  return ran.stdout;
}

/** Runs a built app against the live server: it creates a channel and sends to its token; a socket gets it. */
async function appDelivers(b: Built, bin: string, clientId: string, message: string): Promise<RawSocket> {
  const out = mustRun(bin, await run(bin, [clientId, message], { env: { CHANNELD_GRPC_ADDR: grpcAddr(b.ts), CHANNELD_API_KEY: API_KEY } }));
  const socket = new RawSocket(b.ts.wsUrl, out.trim());
  sockets.push(socket);
  await socket.untilMessages(1);
  return socket;
}

goTest('backend go - a module outside this repository fetches the package from a module proxy, with no replace directive', async (t) => {
  t.timeout(5 * 60_000);
  const b = setup();
  const genVersion = requiredVersion('sdk/go/channel', GEN_MODULE);
  const sdkVersion = requiredVersion('examples/go', SDK_MODULE);
  const base = join(GO_TEST_BIN, 'fetch');
  await clean(base);
  // The two modules as proxy.golang.org would serve them once tagged gen/go/<v> and sdk/go/channel/<v>.
  const proxy = join(base, 'proxy');
  writeModuleProxy(proxy, [
    { path: GEN_MODULE, version: genVersion, dir: join(ROOT, 'gen', 'go') },
    { path: SDK_MODULE, version: sdkVersion, dir: join(ROOT, 'sdk', 'go', 'channel') },
  ]);
  const app = join(base, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'go.mod'), 'module example.com/appengine-app\n\ngo 1.26.0\n');
  writeFileSync(join(app, 'main.go'), appSource(SDK_MODULE));
  const realCache = mustRun('go env', await run(GO, ['env', 'GOMODCACHE'])).trim();
  const env = {
    // Everything else comes from the module cache the builds above filled: no network.
    GOPROXY: `file://${proxy},file://${realCache}/cache/download`,
    GOMODCACHE: join(base, 'modcache'),
    GOSUMDB: 'off',
    GOFLAGS: '-mod=mod -buildvcs=false',
    GONOPROXY: '',
    GOPRIVATE: '',
    GOWORK: 'off',
    GOTOOLCHAIN: 'local',
  };
  mustRun('go get', await run(GO, ['get', `${SDK_MODULE}@${sdkVersion}`], { cwd: app, env }));
  mustRun('go build', await run(GO, ['build', '-o', 'app', '.'], { cwd: app, env }));
  const goMod = readFileSync(join(app, 'go.mod'), 'utf8');
  t.notRegex(goMod, /replace/);
  t.regex(goMod, new RegExp(`${SDK_MODULE} ${sdkVersion}\\n`));
  t.regex(goMod, new RegExp(`${GEN_MODULE} ${genVersion} // indirect`), 'the stubs come along, at the version the package requires');
  const socket = await appDelivers(b, join(app, 'app'), 'go-fetched-app', 'from a module that fetched the package');
  t.deepEqual(socket.messages, [{ seq: 1, data: 'from a module that fetched the package' }]);
});

goTest('backend go - a classic GOPATH-mode app keeps import "appengine/channel", pointed at sdk/go/channel by install-gopath.sh', async (t) => {
  t.timeout(5 * 60_000);
  const b = setup();
  const gopath = join(GO_TEST_BIN, 'gopath');
  await clean(gopath);
  mustRun('install-gopath.sh', await run(join(ROOT, 'sdk', 'go', 'channel', 'install-gopath.sh'), [gopath], { env: { GOTOOLCHAIN: 'local' } }));
  const app = join(gopath, 'src', 'classicapp');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'main.go'), appSource('appengine/channel'));
  const env = { GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };
  mustRun('GOPATH-mode go build', await run(GO, ['build', '-o', 'classicapp', '.'], { cwd: app, env }));
  const socket = await appDelivers(b, join(app, 'classicapp'), 'go-classic-app', 'from a GOPATH-mode app');
  t.deepEqual(socket.messages, [{ seq: 1, data: 'from a GOPATH-mode app' }]);
});
