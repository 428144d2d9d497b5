import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { ChannelServiceClient } from '../gen/ts/channel/v1/channel.js';
import { RawSocket } from './helpers/socket.js';

// Loaded before the CLI: SIGUSR2 leaves a rejected promise nobody handles, as a bug would.
const INJECT_BUG = 'data:text/javascript,process.on("SIGUSR2",()=>{Promise.reject(new Error("injected bug"))})';

test('cli - an unhandled rejection is logged and shuts the node down gracefully with exit code 1', async (t) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', INJECT_BUG, 'src/cli.ts', '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  const lines: string[] = [];
  const ready = new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    let buffer = '';
    void exited.then(([code]) => reject(new Error(`channeld exited early with ${code}: ${lines.join('\n')}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        const entry = JSON.parse(line) as { msg?: string; grpcPort?: number; httpPort?: number };
        if (entry.msg === 'channeld ready') resolve({ grpcPort: entry.grpcPort!, httpPort: entry.httpPort! });
      }
    });
  });
  const { grpcPort, httpPort } = await ready;
  const client = new ChannelServiceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  try {
    const { token } = await new Promise<{ token: string }>((resolve, reject) =>
      client.createChannel({ clientId: 'bystander', durationMinutes: 0 }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    const socket = new RawSocket(`ws://127.0.0.1:${httpPort}/_ah/channel/ws`, token);
    await socket.until(() => socket.welcome !== undefined, 'welcome');
    child.kill('SIGUSR2');
    // The same path as SIGTERM: sockets are told the node is going away, so they reconnect elsewhere.
    t.deepEqual(await socket.closed, { code: 1001, reason: 'Going+away.' });
    const [code] = await exited;
    t.is(code, 1);
    const fatal = lines.map((l) => JSON.parse(l) as { level: number; msg: string; kind?: string; err?: { message?: string } }).find((e) => e.level === 60);
    t.like(fatal, { msg: 'bug: an error escaped every handler; shutting down', kind: 'unhandledRejection', err: { message: 'injected bug' } });
    t.true(lines.some((l) => l.includes('"stopped"')), 'the graceful shutdown ran to its end');
  } finally {
    client.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
