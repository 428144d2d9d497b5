import anyTest, { type TestFn } from 'ava';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROTOCOL as SERVER_PROTOCOL } from '../src/gateway/socket-handlers.js';
import { chromiumAvailability, launchChromium } from './helpers/browser.js';
import { ROOT, run, type Ran } from './helpers/go.js';
import { snippets } from './helpers/readme-snippets.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The npm package @channeld/client as a user gets it: built by `npm run build:client`, packed by
// `npm pack`, installed from the tarball into a fresh project (offline: it has no dependencies),
// type-checked there with this repository's tsc, and run under Node against a live channeld.

const PACKAGE_DIR = join(ROOT, 'packages', 'client');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackedFile {
  readonly path: string;
}
interface Packed {
  readonly filename: string;
  readonly files: readonly PackedFile[];
}
interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly type?: string;
  readonly exports?: Record<string, unknown>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

const test = anyTest as TestFn<{ ts: TestServer; work: string; app: string; packed: Packed }>;

function ok(t: { fail(message: string): void }, what: string, ran: Ran): void {
  if (ran.code !== 0) t.fail(`${what} exited ${ran.code}:\n${ran.stdout}\n${ran.stderr}`);
}

async function must(what: string, ran: Promise<Ran>): Promise<Ran> {
  const done = await ran;
  if (done.code !== 0) throw new Error(`${what} exited ${done.code}:\n${done.stdout}\n${done.stderr}`);
  return done;
}

test.before(async (t) => {
  // A build, a pack and an install: well under a minute, but CI's 2 cores run other files meanwhile.
  t.timeout(5 * 60_000);
  await must('npm run build:client', run(NPM, ['run', 'build:client']));
  const work = mkdtempSync(join(tmpdir(), 'channeld-client-package-'));
  const pack = await must('npm pack', run(NPM, ['pack', '--json', '--pack-destination', work], { cwd: PACKAGE_DIR }));
  const packed = (JSON.parse(pack.stdout) as Packed[])[0]!;

  // A fresh project, as `npm init -y` leaves it plus "type": "module".
  const app = join(work, 'app');
  await must('mkdir', run('mkdir', [app]));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  await must(
    'npm install <tarball>',
    run(NPM, ['install', join(work, packed.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app }),
  );
  const ts = await startTestServer();
  t.context = { ts, work, app, packed };
});

test.after.always(async (t) => {
  await t.context?.ts?.close();
  if (t.context?.work !== undefined) rmSync(t.context.work, { recursive: true, force: true });
});

test('client package - the tarball holds the bundles, the types and the README, and nothing else', (t) => {
  const paths = t.context.packed.files.map((f) => f.path).sort();
  t.deepEqual(
    paths.filter((p) => !p.startsWith('dist/types/')),
    ['README.md', 'dist/channeld.mjs', 'dist/jsapi.js', 'package.json'],
  );
  const types = paths.filter((p) => p.startsWith('dist/types/'));
  t.true(types.includes('dist/types/index.d.ts'), types.join(', '));
  t.true(types.length > 1 && types.every((p) => p.endsWith('.d.ts')), types.join(', '));
});

test('client package - installed: an ES module with types first in its exports, no runtime dependencies, a major version that is the protocol version', async (t) => {
  const installed = join(t.context.app, 'node_modules', '@channeld', 'client');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest;
  t.is(manifest.name, '@channeld/client');
  t.is(manifest.type, 'module');
  t.is(manifest.dependencies, undefined);
  t.is(manifest.peerDependencies, undefined);
  const main = manifest.exports?.['.'] as Record<string, string>;
  // TypeScript reads the first condition that matches; `types` must come before `default`.
  t.deepEqual(Object.keys(main), ['types', 'default']);
  t.deepEqual(readdirSync(join(t.context.app, 'node_modules')).filter((name) => !name.startsWith('.')), ['@channeld'], 'nothing installed with it');

  const module = (await import(pathToFileURL(join(installed, main['default']!)).href)) as { PROTOCOL: string };
  t.is(module.PROTOCOL, SERVER_PROTOCOL, 'the client speaks the server protocol');
  t.is(`channeld.v${manifest.version.split('.')[0]}`, SERVER_PROTOCOL, `version ${manifest.version} must follow ${SERVER_PROTOCOL}`);
});

test('client package - the bundles are byte for byte what channeld serves at /_ah/channel/', async (t) => {
  const installed = join(t.context.app, 'node_modules', '@channeld', 'client', 'dist');
  for (const [file, path] of [
    ['channeld.mjs', '/_ah/channel/channeld.mjs'],
    ['jsapi.js', '/_ah/channel/jsapi'],
  ] as const) {
    const served = await fetch(`${t.context.ts.httpUrl}${path}`);
    t.is(served.status, 200, path);
    t.true(Buffer.from(await served.arrayBuffer()).equals(readFileSync(join(installed, file))), `${file} differs from ${path}`);
  }
});

// A consumer of the typed API. The @ts-expect-error lines fail the compile if the types were
// missing or `any` (an unused @ts-expect-error is itself an error), so this checks real types.
const CONSUMER = `import {
  AppEngineChannel,
  ChannelSocket,
  CloseCode,
  PROTOCOL,
  isTerminalCloseCode,
  type AppEngineError,
  type AppEngineMessage,
  type ChannelMessageEvent,
  type TransportKind,
} from '@channeld/client';

// Run under Node (--experimental-websocket gives it the browser's WebSocket); a page would
// leave out baseUrl and get location.origin.
declare const process: { readonly env: Record<string, string | undefined> };
const baseUrl = process.env['CHANNELD_URL']!;

function firstMessage(token: string): Promise<ChannelMessageEvent> {
  return new Promise((resolve, reject) => {
    const socket = new ChannelSocket(token, { baseUrl });
    socket.on('message', (event) => {
      socket.close();
      resolve(event);
    });
    socket.on('error', (error) => reject(new Error(\`\${error.code} \${error.description}\`)));
  });
}

// The fallback for networks that block WebSocket, forced: the same messages over other wires.
function firstMessageOver(transport: TransportKind, token: string): Promise<{ kind: string; data: string; seq: number }> {
  return new Promise((resolve, reject) => {
    const socket = new ChannelSocket(token, { baseUrl, transport });
    socket.on('message', ({ data, seq }) => {
      resolve({ kind: socket.transportKind, data, seq });
      socket.close();
    });
    socket.on('error', (error) => reject(new Error(\`\${error.code} \${error.description}\`)));
  });
}

function firstAppEngineMessage(token: string): Promise<AppEngineMessage> {
  return new Promise((resolve, reject) => {
    const socket = new AppEngineChannel(token, { baseUrl }).open();
    socket.onmessage = (message) => {
      socket.close();
      resolve(message);
    };
    socket.onerror = (error) => reject(new Error(\`\${error.code} \${error.description}\`));
  });
}

function firstError(token: string): Promise<AppEngineError> {
  return new Promise((resolve) => {
    const socket = new AppEngineChannel(token, { baseUrl }).open();
    socket.onerror = resolve;
  });
}

// @ts-expect-error: a message's data is a string
export const notANumber: (event: ChannelMessageEvent) => number = (event) => event.data;
// @ts-expect-error: the transports are named
export const noSuchTransport = (token: string) => new ChannelSocket(token, { transport: 'comet' });
// @ts-expect-error: the event map knows its event names
export const noSuchEvent = (socket: ChannelSocket) => socket.on('mesage', () => undefined);

const typed = await firstMessage(process.env['TOKEN_TYPED']!);
const legacy = await firstAppEngineMessage(process.env['TOKEN_LEGACY']!);
const refused = await firstError(process.env['TOKEN_FORGED']!);
const sse = await firstMessageOver('sse', process.env['TOKEN_SSE']!);
const poll = await firstMessageOver('poll', process.env['TOKEN_POLL']!);
console.log(JSON.stringify({ protocol: PROTOCOL, terminal: isTerminalCloseCode(CloseCode.INVALID_TOKEN), typed, legacy, refused, sse, poll }));
`;

function tsconfig(moduleResolution: 'NodeNext' | 'Bundler'): object {
  return {
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
      moduleResolution,
      lib: ['ES2022', 'DOM'],
      types: [],
      strict: true,
      // The package's own .d.ts files are checked too.
      skipLibCheck: false,
      outDir: 'out',
    },
    files: ['consumer.ts'],
  };
}

test.serial('client package - a consumer type-checks (NodeNext and Bundler resolution) and runs against a live server, over WebSocket and the fallbacks', async (t) => {
  const { app, ts } = t.context;
  writeFileSync(join(app, 'consumer.ts'), CONSUMER);
  writeFileSync(join(app, 'tsconfig.bundler.json'), JSON.stringify({ ...tsconfig('Bundler'), compilerOptions: { ...(tsconfig('Bundler') as { compilerOptions: object }).compilerOptions, noEmit: true } }));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig('NodeNext')));
  ok(t, 'tsc -p tsconfig.bundler.json', await run(TSC, ['-p', 'tsconfig.bundler.json'], { cwd: app }));
  ok(t, 'tsc -p tsconfig.json', await run(TSC, ['-p', 'tsconfig.json'], { cwd: app }));

  // Sent before either socket exists: channeld keeps them for the client id's first socket.
  const typed = await ts.createChannel('package-typed');
  await ts.send('package-typed', 'to the ES module');
  const legacy = await ts.createChannel('package-legacy');
  await ts.send('package-legacy', 'to goog.appengine style');
  const sse = await ts.createChannel('package-sse');
  await ts.send('package-sse', 'over server-sent events');
  const poll = await ts.createChannel('package-poll');
  await ts.send('package-poll', 'over long polls');
  const forged = `${typed.token.slice(0, 20)}${typed.token[20] === 'A' ? 'B' : 'A'}${typed.token.slice(21)}`;

  const ran = await run(process.execPath, ['--experimental-websocket', '--no-warnings', join('out', 'consumer.js')], {
    cwd: app,
    env: { CHANNELD_URL: ts.httpUrl, TOKEN_TYPED: typed.token, TOKEN_LEGACY: legacy.token, TOKEN_FORGED: forged, TOKEN_SSE: sse.token, TOKEN_POLL: poll.token },
  });
  ok(t, 'node out/consumer.js', ran);
  t.deepEqual(JSON.parse(ran.stdout), {
    protocol: SERVER_PROTOCOL,
    terminal: true,
    typed: { data: 'to the ES module', seq: 1 },
    legacy: { data: 'to goog.appengine style', seq: 1 },
    refused: { code: 401, description: 'Invalid+token.' },
    sse: { kind: 'sse', data: 'over server-sent events', seq: 1 },
    poll: { kind: 'poll', data: 'over long polls', seq: 1 },
  });
});

test.serial('client package - a consumer that misuses the API fails to type-check with the reason', async (t) => {
  const { app } = t.context;
  writeFileSync(join(app, 'misuse.ts'), "import { ChannelSocket } from '@channeld/client';\nnew ChannelSocket(42, { baseUrl: 'http://127.0.0.1' });\n");
  writeFileSync(join(app, 'tsconfig.misuse.json'), JSON.stringify({ ...tsconfig('NodeNext'), files: ['misuse.ts'], compilerOptions: { ...(tsconfig('NodeNext') as { compilerOptions: object }).compilerOptions, noEmit: true } }));
  const ran = await run(TSC, ['-p', 'tsconfig.misuse.json'], { cwd: app });
  t.not(ran.code, 0);
  t.regex(ran.stdout, /misuse\.ts\(2,\d+\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
});

const packageReadme = snippets(readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8'));

test('client package - every code block of its README is checked here', (t) => {
  const known = new Set(['sh', 'ts', 'html']);
  t.deepEqual(
    packageReadme.filter((s) => !known.has(s.lang)).map((s) => `packages/client/README.md:${s.line} (${s.lang})`),
    [],
    'a block of a language this test does not check',
  );
  // The sh block is the install command, which the before hook runs on the packed tarball.
  t.deepEqual(
    packageReadme.filter((s) => s.lang === 'sh').map((s) => s.code.trim()),
    ['npm install @channeld/client'],
  );
});

test.serial('client package - the TypeScript blocks of its README type-check against the installed package', async (t) => {
  const { app } = t.context;
  const blocks = packageReadme.filter((s) => s.lang === 'ts');
  t.true(blocks.length >= 2);
  // What the blocks take from the page around them.
  const context = '\ndeclare const token: string;\ndeclare function reload(topic?: string): void;\n';
  const files = blocks.map((block) => {
    const file = `readme-${block.line}.ts`;
    writeFileSync(join(app, file), block.code + context);
    return file;
  });
  const config = tsconfig('NodeNext') as { compilerOptions: object };
  writeFileSync(join(app, 'tsconfig.readme.json'), JSON.stringify({ compilerOptions: { ...config.compilerOptions, noEmit: true }, files }));
  ok(t, 'tsc -p tsconfig.readme.json', await run(TSC, ['-p', 'tsconfig.readme.json'], { cwd: app }));
});

const chromium = chromiumAvailability();
if (!chromium.run && chromium.fail) {
  test('client package - Chromium is installed (CI=true)', (t) => t.fail(chromium.why));
} else if (!chromium.run) {
  console.warn(`\n!!! SKIPPING the client package's browser test: ${chromium.why} !!!\n`);
}

(chromium.run ? test.serial : test.skip)('client package - its jsapi.js hosted on another origin, with data-channeld-url, works as its README shows (Chromium)', async (t) => {
  const { app, ts } = t.context;
  const block = packageReadme.find((s) => s.lang === 'html');
  t.truthy(block, 'the README has its html block');
  const example = 'https://channeld.example.com';
  t.true(block!.code.includes(example));
  const jsapi = readFileSync(join(app, 'node_modules', '@channeld', 'client', 'dist', 'jsapi.js'));
  const { token } = await ts.createChannel('package-cdn');
  await ts.send('package-cdn', 'from a hosted copy');
  // The application's own site, which hosts the script among its assets (not channeld's origin).
  const page = `<!doctype html><script>var token = ${JSON.stringify(token)};</script>\n${block!.code.replaceAll(example, ts.httpUrl)}`;
  const site = createServer((req, res) => {
    if (req.url === '/assets/channeld-jsapi.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(jsapi);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    const logs: string[] = [];
    // Only what the page logs itself (not Chromium's note about a missing favicon).
    tab.on('console', (m) => m.type() === 'log' && logs.push(m.text()));
    const logged = new Promise<void>((resolve) => tab.on('console', (m) => m.text() === 'from a hosted copy' && resolve()));
    await tab.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
    await Promise.race([logged, new Promise((_, reject) => setTimeout(() => reject(new Error(`console: ${JSON.stringify(logs)}`)), 15_000))]);
    t.deepEqual(logs, ['from a hosted copy']);
    t.is(await tab.evaluate(() => (globalThis as unknown as { channeld: { baseUrl: string } }).channeld.baseUrl), `${ts.httpUrl}/`);
  } finally {
    await browser.close();
    site.closeAllConnections();
    await new Promise((resolve) => site.close(resolve));
  }
});
