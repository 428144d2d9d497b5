// Runs one README snippet as written and checks what it did, inside the network namespace that
// test/readme-snippets.test.ts makes for it (so channeld, Redis and nginx take their default
// ports). Usage: node --import tsx test/helpers/readme-harness.ts <runner> <snippet line> <work dir>
// Exits 0 when the snippet did what the README says, 1 with the reason on stderr otherwise.
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { ChannelServiceClient } from '../../gen/ts/channel/v1/channel.js';
import { launchChromium, startPageServer } from './browser.js';
import { GRPCURL, ROOT, run, type Ran } from './go.js';
import { rpcFor, toClient, type Rpc } from './grpc.js';
import { NGINX } from './nginx.js';
import { PYTHONPATH, VENV_PYTHON } from './python.js';
import { README, readmeSnippets, type Snippet } from './readme-snippets.js';
import { startTestServer, type TestServer } from './server.js';
import { RawSocket } from './socket.js';
import { makeTestPki } from './tls.js';

const GRPC = '127.0.0.1:50051';
const WS = 'ws://127.0.0.1:8080/_ah/channel/ws';

class SnippetFailed extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new SnippetFailed(message);
}

function ranOk(what: string, ran: Ran): Ran {
  check(ran.code === 0, `${what} exited ${ran.code}\nstdout:\n${ran.stdout}\nstderr:\n${ran.stderr}`);
  return ran;
}

/** channeld on its default ports, as `npm start` runs it (without the demo). */
function defaultServer(): Promise<TestServer> {
  return startTestServer({ grpcPort: 50051, httpPort: 8080, httpHost: '0.0.0.0' });
}

/** A fresh socket for clientId gets exactly these channel messages (kept for it since they were sent). */
async function receives(ts: TestServer, clientId: string, expected: readonly string[]): Promise<void> {
  const { token } = await ts.createChannel(clientId);
  const socket = new RawSocket(WS, token);
  try {
    await socket.until(() => socket.messages.length >= expected.length || socket.closeCode !== undefined, `${expected.length} messages for ${clientId}`);
    check(
      JSON.stringify(socket.messages.map((m) => m.data)) === JSON.stringify(expected),
      `${clientId} got ${JSON.stringify(socket.messages)}, expected ${JSON.stringify(expected)}`,
    );
  } finally {
    socket.close();
  }
}

/** A gRPC client of one node, with every unary call as a promise. */
function rpcAt(address: string): { rpc: Rpc; close(): void } {
  const client = new ChannelServiceClient(address, grpc.credentials.createInsecure());
  return { rpc: rpcFor(client), close: () => client.close() };
}

async function retry<T>(what: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new SnippetFailed(`${what}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** A shell snippet's process group (its `&` jobs included), with its output kept. */
class Group {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(file: string, args: readonly string[], env: Record<string, string>) {
    this.child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /**
   * SIGTERM to the whole group, which outlives the shell when the snippet leaves jobs running;
   * whatever is left of it after 20 s is killed, and named on stderr.
   */
  async stop(): Promise<void> {
    const group = -this.child.pid!;
    const signal = (name: NodeJS.Signals | 0): boolean => {
      try {
        process.kill(group, name);
        return true;
      } catch {
        return false;
      }
    };
    signal('SIGTERM');
    await this.exited;
    for (let waited = 0; waited < 20_000 && signal(0); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    if (signal(0)) {
      const left = await run('ps', ['-o', 'pid=,args=', '-g', String(-group)]);
      console.error(`!!! still running 20 s after SIGTERM, killed: ${left.stdout.trim()}`);
      signal('SIGKILL');
    }
  }
}

/**
 * What a snippet's process gets on top of this process's environment, from which main() has taken
 * every CHANNELD_* setting: a user's shell has none left over from a test run.
 */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return extra;
}

/** The JSON objects of a text, one after another (curl prints answers with no newline between them). */
function jsonValues(text: string): Record<string, unknown>[] {
  const values: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (c === '}') {
      depth -= 1;
      if (depth === 0) values.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
    } else if (depth === 0 && c!.trim() !== '') throw new SnippetFailed(`not JSON at ${i}: ${text}`);
  }
  check(depth === 0 && !inString, `unfinished JSON: ${text}`);
  return values;
}

/**
 * A browser snippet on a page of its own origin, with the token a backend would have rendered into
 * it: it must log the message sent before (as `logged` shows it), then the 410 of a CloseChannel,
 * and on a page with a forged token, the 401. Then again with each transport forced as the README's
 * fallback paragraph says (`force` rewrites the snippet so), where no WebSocket may be opened.
 */
async function inChromium(snippet: Snippet, logged: (data: string) => string, force: (code: string, transport: string) => string): Promise<void> {
  check(snippet.code.includes('http://HOST:8080/'), 'the browser snippet no longer loads from http://HOST:8080/');
  const readme = readFileSync(README, 'utf8');
  check(readme.includes('`jsapi?transport=sse`') && readme.includes("`{ transport: 'sse' }`"), 'the fallback paragraph no longer forces a transport as this runner does');
  const ts = await defaultServer();
  const pages = await startPageServer();
  const browser = await launchChromium();
  try {
    for (const transport of ['', 'sse', 'poll']) {
      const code = transport === '' ? snippet.code : force(snippet.code, transport);
      check(code !== snippet.code || transport === '', `cannot force ${transport} on this snippet`);
      const reader = `reader-${transport || 'websocket'}`;
      const { token } = await ts.createChannel(reader);
      await ts.send(reader, '{"hello":"browser"}');
      // HOST is the reader's placeholder for channeld's host; the page is on an origin of its own.
      const page = (t: string): string =>
        pages.add(`<!doctype html><script>var token = ${JSON.stringify(t)};</script>\n${code.replaceAll('HOST', '127.0.0.1')}`);
      const logs: string[] = [];
      let sockets = 0;
      const tab = await browser.newPage();
      tab.on('console', (m) => logs.push(m.text()));
      tab.on('websocket', () => (sockets += 1));
      const until = (text: string): Promise<void> =>
        retry(`the page (${transport || 'default transport'}) to log "${text}"`, 15_000, async () => {
          if (!logs.includes(text)) throw new Error(`console: ${JSON.stringify(logs)}`);
        });
      await tab.goto(page(token));
      await until(logged('{"hello":"browser"}'));
      await ts.rpc.closeChannel({ clientId: reader });
      await until('410 Channel+closed.');
      if (transport === '') {
        check(sockets > 0, 'the page opened no WebSocket');
        const forged = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
        await tab.goto(page(forged));
        await until('401 Invalid+token.');
      } else check(sockets === 0, `with ${transport} forced, the page opened ${sockets} WebSocket(s)`);
      await tab.close();
    }
  } finally {
    await browser.close();
    await pages.close();
    await ts.close();
  }
}

type Runner = (snippet: Snippet, work: string) => Promise<void>;

const runners: Record<string, Runner> = {
  // `npm ci && npm start` and `npm test`: .ci/run runs `npm ci` and `npm test` on a clean clone
  // (the test file checks that); here `npm start` runs and must say what the README says it says.
  async commands(snippet) {
    check(/^npm ci && npm start\b/m.test(snippet.code) && /^npm test\b/m.test(snippet.code), `unexpected commands:\n${snippet.code}`);
    const promised = /`(channeld ready — [^`]+)`/.exec(readFileSync(README, 'utf8'))?.[1]?.replace(/\s+/g, ' ');
    check(promised !== undefined, 'the README no longer quotes the "channeld ready" line');
    const start = new Group('npm', ['start'], userEnv());
    try {
      await retry('npm start to print its ready line', 240_000, async () => {
        if (!start.stderr.includes('channeld ready')) throw new Error(`not yet; stderr so far: ${start.stderr.slice(-800)}`);
      });
      const line = start.stderr.split('\n').find((l) => l.includes('channeld ready'))!;
      check(line === promised, `npm start said\n  ${line}\nthe README says\n  ${promised}`);
      const demo = await fetch('http://localhost:8080/');
      check(demo.status === 200 && (await demo.text()).includes('<html'), `the demo page answered ${demo.status}`);
      const node = rpcAt(GRPC);
      const { token } = await node.rpc.createChannel({ clientId: 'readme', durationMinutes: 0 });
      node.close();
      check(token.length > 0, 'CreateChannel on 127.0.0.1:50051 gave no token');
    } finally {
      await start.stop();
    }
  },

  async 'node-backend'(snippet, work) {
    const ts = await defaultServer();
    const ran = ranOk('node send.mjs', await run(process.execPath, ['send.mjs'], { cwd: work, env: userEnv() }));
    // The reply as its comment in the snippet shows it, but for the epoch.
    const shown = /console\.log\(reply\); \/\/ (\{[^}]*\})/.exec(snippet.code)?.[1];
    check(shown !== undefined, 'the Node snippet no longer shows the reply it prints');
    const printed = ran.stdout.trim().replace(/epoch: '[^']*'/, "epoch: '…'").replace(/\s+/g, ' ');
    check(printed === shown, `node send.mjs printed ${ran.stdout.trim()}; the snippet shows ${shown}`);
    await receives(ts, 'user-42', ['{"hello":"world"}']);
    await ts.close();
    const down = await run(process.execPath, ['send.mjs'], { cwd: work, env: userEnv() });
    check(down.code === 1, `with channeld down, node send.mjs exited ${down.code}`);
    check(/14 UNAVAILABLE: No connection established/.test(down.stderr), `with channeld down: ${down.stderr}`);
    check(!/TypeError/.test(down.stderr), `with channeld down, a TypeError: ${down.stderr}`);
  },

  async 'node-fanout'(_snippet, work) {
    const ts = await defaultServer();
    const members = await Promise.all(
      ['alice', 'bob'].map(async (id) => {
        const socket = new RawSocket(WS, (await ts.createChannel(id)).token);
        await socket.until(() => socket.welcome !== undefined, `${id}'s welcome`);
        return socket;
      }),
    );
    ranOk('node send.mjs (with the fan-out lines)', await run(process.execPath, ['send.mjs'], { cwd: work, env: userEnv() }));
    for (const socket of members) {
      await socket.until(() => socket.topicMessages('room:42').length >= 1, 'the broadcast');
      check(JSON.stringify(socket.topicMessages('room:42')) === JSON.stringify([{ seq: 1, data: '{"text":"hi"}' }]), JSON.stringify(socket.frames));
      socket.close();
    }
    await ts.close();
  },

  async python(snippet, work) {
    // The snippet's first line says how to run it: `PYTHONPATH=gen/python:sdk/python`.
    const path = /PYTHONPATH=(\S+)/.exec(snippet.code)?.[1];
    check(path !== undefined, 'the Python snippet no longer says its PYTHONPATH');
    check(path.split(':').map((p) => join(ROOT, p)).join(':') === PYTHONPATH, `PYTHONPATH=${path} is not where the stubs and the module are`);
    const file = join(work, 'snippet.py');
    writeFileSync(file, snippet.code);
    const ts = await defaultServer();
    ranOk('python snippet.py', await run(VENV_PYTHON, [file], { env: userEnv({ PYTHONPATH }) }));
    await receives(ts, 'user-42', ['{"hello": "world"}']);
    await ts.close();
  },

  async go(_snippet, work) {
    const ts = await defaultServer();
    const ran = ranOk('the Go program', await run(join(work, 'snippet'), [], { env: userEnv() }));
    check(/token for user-42's browser: \S+/.test(ran.stderr), `unexpected output: ${ran.stderr}`);
    await receives(ts, 'user-42', ['{"hello":"world"}']);
    await ts.close();
  },

  async java(_snippet, work) {
    const ts = await defaultServer();
    const classpath = readFileSync(join(work, 'classpath'), 'utf8').trim();
    ranOk('java Snippet', await run('java', ['-cp', `${work}:${classpath}`, 'Snippet'], { env: userEnv() }));
    await receives(ts, 'user-42', ['{"hello": "world"}']);
    await ts.close();
  },

  async grpcurl(snippet) {
    const ts = await defaultServer();
    const ran = ranOk('the grpcurl lines', await run('bash', ['-euo', 'pipefail', '-c', snippet.code], { env: userEnv({ PATH: `${join(GRPCURL, '..')}:${process.env['PATH']}` }) }));
    check(/"token": "[\w.-]+"/.test(ran.stdout) && /"seq": "1"/.test(ran.stdout), `unexpected output: ${ran.stdout}`);
    await receives(ts, 'alice', ['hi']);
    await ts.close();
  },

  // The fallback paragraph: `jsapi?transport=sse` on the script's URL, `{ transport: 'sse' }` for the ES module.
  browser: (snippet) =>
    inChromium(
      snippet,
      (data) => data,
      (code, transport) => code.replace('/_ah/channel/jsapi"', `/_ah/channel/jsapi?transport=${transport}"`),
    ),

  'browser-module': (snippet) =>
    inChromium(
      snippet,
      (data) => `1 ${data}`,
      (code, transport) => code.replace("{ baseUrl: 'http://HOST:8080' }", `{ baseUrl: 'http://HOST:8080', transport: '${transport}' }`),
    ),

  async cluster(snippet) {
    check(existsSync('/usr/bin/redis-server') || (await run('sh', ['-c', 'command -v redis-server'])).code === 0, 'redis-server is not installed');
    const aof = join(ROOT, 'appendonlydir');
    const hadAof = existsSync(aof);
    const nodes = new Group('bash', ['-c', snippet.code], userEnv());
    try {
      const clients = [1, 2, 3].map((i) => rpcAt(`127.0.0.1:5005${i}`));
      for (const [i, c] of clients.entries()) {
        await retry(`node ${i + 1} (gRPC 5005${i + 1}) to answer; output:\n${nodes.stdout.slice(-500)}\n${nodes.stderr.slice(-1500)}`, 240_000, () =>
          c.rpc.createChannel({ clientId: 'probe', durationMinutes: 0 }),
        );
      }
      // A token from node 1, a socket on node 2, a message through node 3.
      const { token } = await clients[0]!.rpc.createChannel({ clientId: 'across', durationMinutes: 0 });
      const socket = new RawSocket('ws://127.0.0.1:8082/_ah/channel/ws', token);
      await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'the welcome on node 2');
      check(socket.welcome !== undefined, `node 2 closed the socket: ${socket.closeCode} ${socket.closeReason}`);
      await clients[2]!.rpc.sendMessage(toClient('across', 'through redis'));
      await socket.untilMessages(1);
      check(socket.messages[0]?.data === 'through redis', JSON.stringify(socket.frames));
      socket.close();
      for (const c of clients) c.close();
    } finally {
      await nodes.stop();
      if (!hadAof) rmSync(aof, { recursive: true, force: true });
    }
  },

  // Two nodes over three Redis shards: a client id's socket on one node, messages through the
  // other, for enough client ids that every shard holds some.
  async sharded(snippet) {
    check(existsSync('/usr/bin/redis-server') || (await run('sh', ['-c', 'command -v redis-server'])).code === 0, 'redis-server is not installed');
    const ports = [6379, 6380, 6381];
    const aofs = ports.map((port) => join(ROOT, `aof-${port}`));
    const nodes = new Group('bash', ['-c', snippet.code], userEnv());
    const admins = ports.map((port) => new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1 }));
    try {
      const clients = [1, 2].map((i) => rpcAt(`127.0.0.1:5005${i}`));
      for (const [i, c] of clients.entries()) {
        await retry(`node ${i + 1} (gRPC 5005${i + 1}) to answer; output:\n${nodes.stdout.slice(-500)}\n${nodes.stderr.slice(-1500)}`, 240_000, () =>
          c.rpc.createChannel({ clientId: 'probe', durationMinutes: 0 }),
        );
      }
      for (let i = 0; i < 12; i++) {
        const clientId = `user-${i}`;
        const { token } = await clients[0]!.rpc.createChannel({ clientId, durationMinutes: 0 });
        const socket = new RawSocket('ws://127.0.0.1:8082/_ah/channel/ws', token);
        await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, `the welcome of ${clientId} on node 2`);
        check(socket.welcome !== undefined, `node 2 closed the socket of ${clientId}: ${socket.closeCode} ${socket.closeReason}`);
        await clients[0]!.rpc.sendMessage(toClient(clientId, `through shard ${i}`));
        await socket.untilMessages(1);
        check(socket.messages[0]?.data === `through shard ${i}`, JSON.stringify(socket.frames));
        socket.close();
      }
      for (const [i, admin] of admins.entries()) {
        await admin.connect();
        const keys = await admin.dbsize();
        check(keys > 0, `shard ${i} (port ${ports[i]}) holds no keys: the client ids did not spread`);
      }
      for (const c of clients) c.close();
    } finally {
      for (const admin of admins) admin.disconnect();
      await nodes.stop();
      for (const aof of aofs) rmSync(aof, { recursive: true, force: true });
    }
  },

  async nginx(snippet, work) {
    check(/^\s*listen 443 ssl;/m.test(snippet.code), 'the nginx recipe no longer listens on 443 with ssl');
    const pki = makeTestPki();
    // The recipe as written, its certificate lines filled in, in a minimal nginx.conf.
    const server = snippet.code.replace(/^(\s*listen 443 ssl;.*)$/m, `$1\n  ssl_certificate ${pki.server.certFile};\n  ssl_certificate_key ${pki.server.keyFile};`);
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${work}/${k};`).join('\n');
    writeFileSync(
      join(work, 'nginx.conf'),
      `worker_processes 1;\nerror_log ${work}/error.log warn;\npid ${work}/nginx.pid;\nevents { worker_connections 64; }\nhttp {\naccess_log off;\n${temps}\n${server}\n}\n`,
    );
    const ts = await defaultServer();
    const nginx = new Group(NGINX, ['-p', work, '-c', join(work, 'nginx.conf'), '-g', 'daemon off;'], userEnv());
    try {
      const { token } = await ts.createChannel('proxied');
      await ts.send('proxied', 'through nginx');
      const frames = await retry(`a socket through nginx; nginx: ${nginx.stderr}`, 15_000, () =>
        new Promise<unknown[][]>((resolve, reject) => {
          const seen: unknown[][] = [];
          const ws = new WebSocket('wss://localhost/_ah/channel/ws', ['channeld.v1', `token.${token}`], { ca: pki.ca.cert });
          ws.on('message', (data) => {
            seen.push(JSON.parse(String(data)) as unknown[]);
            if (seen.length === 2) {
              ws.close();
              resolve(seen);
            }
          });
          ws.on('error', reject);
        }),
      );
      check(frames[0]?.[0] === 0 && JSON.stringify(frames[1]) === JSON.stringify([1, 1, 'through nginx']), JSON.stringify(frames));
    } finally {
      await nginx.stop();
      await ts.close();
      pki.remove();
    }
  },

  // The HTTP API in five lines: each answer has the fields (and the values, but for "…") of the
  // comment under its command, the message reaches user-42, and with --api-key the lines work
  // once they add the header their first comment names.
  async curl(snippet) {
    const expected = snippet.code.split('\n').filter((l) => l.startsWith('# {')).map((l) => JSON.parse(l.slice(2)) as Record<string, unknown>);
    check(expected.length >= 2, 'the HTTP block no longer shows its answers as # {…} comments');
    const shell = (code: string, env: Record<string, string> = {}) => run('bash', ['-euo', 'pipefail', '-c', code], { env: userEnv(env) });
    const answers = (ran: Ran): Record<string, unknown>[] => jsonValues(ran.stdout);
    let ts = await defaultServer();
    const got = answers(ranOk('the curl lines', await shell(snippet.code)));
    check(got.length === expected.length, `${got.length} answers for ${expected.length} commented ones: ${JSON.stringify(got)}`);
    for (const [i, want] of expected.entries()) {
      const have = got[i]!;
      check(JSON.stringify(Object.keys(have).sort()) === JSON.stringify(Object.keys(want).sort()), `answer ${i + 1} is ${JSON.stringify(have)}; the README shows ${JSON.stringify(want)}`);
      for (const [key, value] of Object.entries(want)) {
        if (value !== '…') check(JSON.stringify(have[key]) === JSON.stringify(value), `answer ${i + 1}: ${key} is ${JSON.stringify(have[key])}; the README shows ${JSON.stringify(value)}`);
      }
    }
    await receives(ts, 'user-42', ['{"hello":"world"}']);
    await ts.close();

    const hint = /add (-H "authorization: Bearer \$KEY")/.exec(snippet.code)?.[1];
    check(hint !== undefined, 'the HTTP block no longer says how to send an API key');
    ts = await startTestServer({ grpcPort: 50051, httpPort: 8080, httpHost: '0.0.0.0', apiKeys: ['readme-http-key-0123456789'] });
    const refused = answers(await shell(snippet.code));
    check(refused.length === expected.length && refused.every((a) => a['code'] === 'UNAUTHENTICATED'), `without the key: ${JSON.stringify(refused)}`);
    const keyed = answers(ranOk('the curl lines with the key', await shell(snippet.code.replaceAll('curl -s ', `curl -s ${hint} `), { KEY: 'readme-http-key-0123456789' })));
    check(typeof keyed[0]?.['token'] === 'string' && keyed[1]?.['seq'] === '1', `with the key: ${JSON.stringify(keyed)}`);
    await ts.close();
  },

  // A shell block with no marker of its own (a later section's curl or grpcurl lines): it runs
  // with bash -euo pipefail against a default channeld, must exit 0 and print something.
  async shell(snippet) {
    const ts = await defaultServer();
    const ran = ranOk('the shell block', await run('bash', ['-euo', 'pipefail', '-c', snippet.code], { env: userEnv({ PATH: `${join(GRPCURL, '..')}:${process.env['PATH']}` }) }));
    check(ran.stdout.trim() !== '', 'the shell block printed nothing');
    await ts.close();
  },
};

export const HARNESS_RUNNERS = Object.keys(runners);

async function main(): Promise<void> {
  for (const key of Object.keys(process.env)) if (key.startsWith('CHANNELD_')) delete process.env[key];
  const [name, line, work] = process.argv.slice(2);
  const runner = runners[name ?? ''];
  const snippet = readmeSnippets().find((s) => String(s.line) === line);
  if (runner === undefined || snippet === undefined || work === undefined) throw new Error(`usage: readme-harness.ts <${HARNESS_RUNNERS.join('|')}> <line> <work dir>`);
  await runner(snippet, work);
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof SnippetFailed ? error.message : error);
      process.exit(1);
    },
  );
}
