import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { ChannelServiceClient } from '../gen/ts/channel/v1/channel.js';
import { RawWs } from './load/raw-ws.js';
import { rssBytes } from './procs.js';

/**
 * Server memory per connected client, the channel state CreateChannel leaves included:
 *
 *   node --import tsx bench/memory.ts --channels 10000,100000 [--sockets 10000] [--server src|dist]
 *
 * For each N: a fresh channeld (memory engine) with the inspector on loopback; N channels minted
 * with CreateChannel (the tokens kept); then up to --sockets raw WebSockets opened from a separate
 * process, each waiting for its welcome, and left idle. Before each reading the server's heap is
 * collected through the inspector (HeapProfiler.collectGarbage), so garbage left by the gRPC calls
 * is not counted as state; VmRSS, heapUsed and external memory are read after it. Per channel =
 * Δ after minting ÷ N; per socket = Δ after opening ÷ sockets; per client = both. Sockets are
 * bounded by the open-file limit (one descriptor each in the server), so with more channels than
 * sockets only the first channels get one.
 */

interface Reading {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

class Inspector {
  private next = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => {
      const reply = JSON.parse(raw.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (reply.id === undefined) return;
      const done = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.error !== undefined) throw new Error(`inspector: ${reply.error.message}`);
      done?.(reply.result);
    });
  }

  static async open(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await once(ws, 'open');
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  async read(pid: number): Promise<Reading> {
    // Twice: weak callbacks and finalizers from the first collection free more in the second.
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const result = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string };
    };
    const usage = JSON.parse(result.result.value) as { heapUsed: number; external: number; arrayBuffers: number };
    return { rss: rssBytes(pid), heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
  }

  close(): void {
    this.ws.close();
  }
}

interface Server {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly inspectorUrl: string;
}

async function startServer(kind: 'src' | 'dist'): Promise<Server> {
  const entry = kind === 'src' ? ['--import', 'tsx', 'src/cli.ts'] : ['dist/src/cli.js'];
  const child = spawn(
    process.execPath,
    ['--inspect=127.0.0.1:0', ...entry, '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1', '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? '' } },
  );
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`channeld exited (${code}) before it was ready:\n${stderr}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
      const ready = /channeld ready — gRPC \S+:(\d+).*?https?:\/\/\S+?:(\d+)\//.exec(stderr);
      if (url !== undefined && ready !== null) {
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve({ child, grpcPort: Number(ready[1]), httpPort: Number(ready[2]), inspectorUrl: url });
      }
    });
  });
}

async function mint(port: number, count: number, keep: number): Promise<string[]> {
  const client = new ChannelServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const tokens: string[] = [];
  let nextIdx = 0;
  const worker = async (): Promise<void> => {
    while (nextIdx < count) {
      const i = nextIdx++;
      const token = await new Promise<string>((resolve, reject) =>
        client.createChannel({ clientId: `client-${i}`, durationMinutes: 60 }, (err, res) => (err === null ? resolve(res!.token) : reject(err))),
      );
      if (i < keep) tokens[i] = token;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  client.close();
  return tokens;
}

/** The socket side, in a process of its own: opens every socket, says when all are welcomed, then idles. */
function socketsChild(): void {
  process.once('message', (message: { httpPort: number; tokens: string[] }) => {
    let welcomed = 0;
    let opening = 0;
    let nextIdx = 0;
    const sockets: RawWs[] = [];
    const openMore = (): void => {
      // A few hundred handshakes at once: the server's accept queue and the loopback stay calm.
      while (opening < 200 && nextIdx < message.tokens.length) {
        const i = nextIdx++;
        opening++;
        let first = true;
        sockets.push(
          new RawWs('127.0.0.1', message.httpPort, '/_ah/channel/ws', `channeld.v1, token.${message.tokens[i]!}`, {
            onUpgraded: () => undefined,
            onText: () => {
              if (!first) return;
              first = false;
              opening--;
              welcomed++;
              if (welcomed === message.tokens.length) process.send!({ welcomed });
              else openMore();
            },
            onEnd: (_ws, why) => {
              process.send!({ error: `socket ${i}: ${why}` });
            },
          }, i, () => 0),
        );
      }
    };
    openMore();
  });
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(2);
}

async function measure(channels: number, sockets: number, server: 'src' | 'dist', settleMs: number): Promise<Record<string, number>> {
  const s = await startServer(server);
  const pid = s.child.pid!;
  const inspector = await Inspector.open(s.inspectorUrl);
  let child: ChildProcess | undefined;
  try {
    // Warm the paths first (a first call loads code and grows pools), then start from there.
    await mint(s.grpcPort, 200, 0);
    const before = await inspector.read(pid);
    const tokens = await mint(s.grpcPort, channels, sockets);
    const minted = await inspector.read(pid);
    child = fork(process.argv[1]!, ['--sockets-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const opened = new Promise<void>((resolve, reject) => {
      child!.on('message', (m: { welcomed?: number; error?: string }) => (m.error !== undefined ? reject(new Error(m.error)) : resolve()));
      child!.once('exit', (code) => reject(new Error(`socket process exited (${code})`)));
    });
    child.send({ httpPort: s.httpPort, tokens });
    await opened;
    await new Promise((r) => setTimeout(r, settleMs));
    const connected = await inspector.read(pid);
    const perChannel = (k: keyof Reading): number => (minted[k] - before[k]) / channels;
    const perSocket = (k: keyof Reading): number => (sockets === 0 ? 0 : (connected[k] - minted[k]) / sockets);
    return {
      channels,
      sockets,
      rssBeforeMiB: before.rss / 2 ** 20,
      rssMintedMiB: minted.rss / 2 ** 20,
      rssConnectedMiB: connected.rss / 2 ** 20,
      channelRssBytes: perChannel('rss'),
      channelHeapBytes: perChannel('heapUsed'),
      channelExternalBytes: perChannel('external'),
      socketRssBytes: perSocket('rss'),
      socketHeapBytes: perSocket('heapUsed'),
      socketExternalBytes: perSocket('external'),
      clientRssBytes: perChannel('rss') + perSocket('rss'),
    };
  } finally {
    child?.kill();
    inspector.close();
    s.child.kill('SIGTERM');
    await once(s.child, 'exit');
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--sockets-child')) return socketsChild();
  const { values } = parseArgs({
    options: {
      channels: { type: 'string', default: '10000,100000' },
      sockets: { type: 'string', default: '10000' },
      server: { type: 'string', default: 'src' },
      settle: { type: 'string', default: '2' },
    },
  });
  const server = values.server === 'dist' ? 'dist' : 'src';
  for (const channels of values.channels.split(',').map(Number)) {
    const sockets = Math.min(channels, Number(values.sockets));
    const r = await measure(channels, sockets, server, Number(values.settle) * 1000);
    console.log(
      `${channels} channels, ${sockets} sockets: RSS ${r.rssBeforeMiB!.toFixed(1)} → ${r.rssMintedMiB!.toFixed(1)} → ${r.rssConnectedMiB!.toFixed(1)} MiB; ` +
        `per channel ${kib(r.channelRssBytes!)} KiB RSS (heap ${kib(r.channelHeapBytes!)}, external ${kib(r.channelExternalBytes!)}); ` +
        `per socket ${kib(r.socketRssBytes!)} KiB RSS (heap ${kib(r.socketHeapBytes!)}, external ${kib(r.socketExternalBytes!)}); ` +
        `per connected client ${kib(r.clientRssBytes!)} KiB RSS`,
    );
    console.log(JSON.stringify(r));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
