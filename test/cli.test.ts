import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { ChannelServiceClient } from '../gen/ts/channel/v1/channel.js';
import { unsupportedNode } from '../src/runtime.js';
import { spawnCli } from './helpers/cli.js';
import { RawSocket } from './helpers/socket.js';

function startCli(): ReturnType<typeof spawnCli> {
  return spawnCli(['--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1']);
}

test('shutdown - SIGTERM closes sockets with 1001, ends presence streams and exits 0', async (t) => {
  const { child, grpcPort, httpPort, logs: lines } = await startCli();
  const client = new ChannelServiceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  const { token } = await new Promise<{ token: string }>((resolve, reject) =>
    client.createChannel({ clientId: 'leaving', durationMinutes: 0 }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  const socket = new RawSocket(`ws://127.0.0.1:${httpPort}/_ah/channel/ws`, token);
  await socket.until(() => socket.welcome !== undefined, 'welcome');
  // A presence stream is a long-lived call: shutdown must end it rather than wait for it forever.
  const watch = client.watchPresence({ clientIds: [], clientIdPrefix: '', snapshot: false, cursor: '' });
  const watchEnded = new Promise<void>((resolve) => {
    watch.on('error', () => resolve());
    watch.on('end', () => resolve());
  });
  watch.on('data', () => undefined);
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.kill('SIGTERM');
  t.deepEqual(await socket.closed, { code: 1001, reason: 'Going+away.' });
  await watchEnded;
  const [code] = await exited;
  t.is(code, 0);
  t.true(lines.some((l) => l.includes('"stopped"')));
  t.false(lines.some((l) => l.includes(token)), 'the token must never be logged');
  client.close();
});

test('cli - a bad setting is refused at start with a message naming it', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--replay-buffer-size', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 2);
  t.regex(stderr, /--replay-buffer-size is "0"; it must be an integer from 1 to 100000/);
});

test('cli - --help lists every setting with its environment variable', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 0);
  for (const flag of ['--grpc-port', '--http-port', '--api-key', '--token-secret', '--demo', 'CHANNELD_GRPC_PORT']) t.true(stdout.includes(flag), flag);
});

test('cli - refuses to start on the slow JavaScript fallback of uWebSockets.js', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--grpc-port', '0', '--http-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UWS_USE_FALLBACK: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 1);
  t.regex(stderr, /needs the native uWebSockets\.js binding/);
});

test('cli - warns loudly when gRPC listens beyond loopback without API keys', async (t) => {
  const { child, logs } = await spawnCli(['--grpc-host', '0.0.0.0', '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1']);
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const [code] = (await exited) as [number];
  t.is(code, 0, 'SIGINT shuts down cleanly too');
  const warning = logs.find((l) => l.includes('WITHOUT API keys'));
  t.truthy(warning);
  t.is((JSON.parse(warning!) as { level: number }).level, 40);
});

test('cli - -v and --version print the version, -h the help', async (t) => {
  const version = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  for (const flag of ['-v', '--version']) {
    const ran = await runCli([flag]);
    t.is(ran.code, 0);
    t.is(ran.stdout, `channeld ${version.version}\n`);
  }
  const help = await runCli(['-h']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: channeld/);
  t.regex(help.stdout, /-v, --version/);
});

test('cli - the Node version check names what is supported and why', (t) => {
  t.is(unsupportedNode('20.19.0'), undefined);
  t.is(unsupportedNode('20.20.2'), undefined);
  for (const version of ['22.12.0', '24.1.0', '21.0.0', '20.18.3', '18.20.0']) {
    const why = unsupportedNode(version);
    t.truthy(why, version);
    t.regex(why!, new RegExp(`^Node\\.js ${version.replace(/\./g, '\\.')} is not supported: channeld runs on Node\\.js >=20\\.19 <21 because .*uWebSockets\\.js.*official uWebSockets\\.js build.*glibc 2\\.38`));
    t.false(why!.slice(0, -1).includes('. '), 'one sentence');
  }
});

test('cli - one human-readable line on stderr says where to go', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--grpc-port', '0', '--http-port', '0', '--http-host', '0.0.0.0', '--demo'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const line = await readyLineOf(child);
  t.regex(line, /^channeld ready — gRPC 127\.0\.0\.1:\d+ · http:\/\/localhost:\d+\/ \(demo\)$/);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  t.deepEqual(await exited, [0, null]);
});

test('shutdown - SIGTERM still exits 0 at once when stdout is a pipe whose reader has gone', async (t) => {
  // `channeld | head -n 1`: head reads the first log line and exits; every later log line meets a closed pipe.
  const head = spawn('head', ['-n', '1'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1'], {
    stdio: ['ignore', head.stdin!, 'pipe'],
  });
  const headExited = once(head, 'exit');
  const line = await readyLineOf(child);
  await headExited;
  const [, grpcPort, httpPort] = /gRPC 127\.0\.0\.1:(\d+) · http:\/\/127\.0\.0\.1:(\d+)\//.exec(line)!;
  // A socket and a presence stream make shutdown write more lines into the closed pipe.
  const client = new ChannelServiceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const { token } = await new Promise<{ token: string }>((resolve, reject) =>
    client.createChannel({ clientId: 'piped', durationMinutes: 0 }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  const socket = new RawSocket(`ws://127.0.0.1:${httpPort}/_ah/channel/ws`, token);
  await socket.until(() => socket.welcome !== undefined, 'welcome');
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  const started = Date.now();
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await exited;
  clearTimeout(timeout);
  t.is(signal, null, `killed after ${Date.now() - started} ms: shutdown hung`);
  t.is(code, 0);
  t.deepEqual(await socket.closed, { code: 1001, reason: 'Going+away.' });
});

/** Resolves with the "channeld ready — …" line the CLI writes to stderr. */
function readyLineOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.once('exit', (code) => reject(new Error(`channeld exited early with ${code}: ${stderr}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const line = stderr.split('\n').find((l) => l.startsWith('channeld ready'));
      if (line !== undefined) resolve(line);
    });
  });
}

function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  return (once(child, 'exit') as Promise<[number | null]>).then(([code]) => ({ code, stdout }));
}
