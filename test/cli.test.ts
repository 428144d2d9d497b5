import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { ChannelServiceClient } from '../gen/ts/channel/v1/channel.js';
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
