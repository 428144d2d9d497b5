import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import type { Endpoint, Protocol } from './ipc.js';
import type { TargetKind } from './options.js';

export interface TargetOptions {
  /** Run channeld from dist/ (npm run build) instead of the TypeScript sources. */
  readonly fromDist: boolean;
  /** Extra Node flags per server process, e.g. --cpu-prof; `label` is the process's CPU name. */
  readonly nodeArgs: (label: string) => readonly string[];
  /** The redis-server binary (cluster only). */
  readonly redisServer: string;
  /** Cluster only: start a third node, nodeC, for the jitter scenario's clients to move between. */
  readonly thirdNode: boolean;
  /** The centrifugo binary (centrifugo target only). */
  readonly centrifugo: string;
  /** `--compression` of the channeld-deflate target (shared or dedicated). */
  readonly compression: 'shared' | 'dedicated';
  /** Extra channeld flags for the one-node targets (e.g. --no-metrics for the metrics A/B). */
  readonly channeldArgs?: readonly string[];
  /**
   * Cluster only: how many redis-servers to start and pass as `--redis-shard` (bench/shards.ts);
   * unset: one redis-server as `--redis-url`, the one-slot layout.
   */
  readonly redisShards?: number;
  /** A channeld checkout to run instead of this one (e.g. an older commit to compare with). */
  readonly channeldRoot?: string;
}

/** A process that belongs to a target, named as in the CPU figures. */
export interface TargetProcess {
  readonly name: string;
  readonly pid: number;
}

export interface Target {
  readonly kind: TargetKind;
  /** Where the senders make their gRPC calls (cluster: node A). */
  readonly grpc: Endpoint;
  /** Where the receivers open their sockets (cluster: node B, so every delivery crosses Redis). */
  readonly ws: Endpoint;
  /** Every node (one, or nodeA, nodeB and nodeC if started): the jitter clients move between them. */
  readonly nodes: readonly Endpoint[];
  /** Every server-side process: `server` for one node; `nodeA`, `nodeB`, `redis` for the cluster. */
  readonly processes: readonly TargetProcess[];
  /** The process that holds the sockets, whose RSS the connect storm reads. */
  readonly socketPid: number;
  /** Cluster only: the redis-servers' URLs, in the order of `processes` (shards: --redis-shard order). */
  readonly redisUrls?: readonly string[];
  /** SIGTERM, then SIGKILL if a process has not exited after 20 s; nodes before Redis. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const PINO_WARN = 40;

interface ReadyLine {
  readonly msg?: unknown;
  readonly level?: unknown;
  readonly grpcPort?: unknown;
  readonly httpPort?: unknown;
}

interface Child {
  readonly pid: number;
  stop(): Promise<void>;
}

function stoppable(child: ChildProcess): Child {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

interface Server extends Child {
  readonly endpoint: Endpoint;
}

/** Starts one server (a channeld node or the baseline) and waits for its ready line (ports chosen by the OS). */
function startServer(label: string, protocol: Protocol, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const readyMsg = protocol === 'channeld' ? 'channeld ready' : 'baseline ready';
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not log "${readyMsg}" within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${label} exited before it was ready (code ${code}, signal ${signal})`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let parsed: ReadyLine;
      try {
        parsed = JSON.parse(line) as ReadyLine;
      } catch {
        process.stderr.write(`[${label}] ${line}\n`);
        return;
      }
      // Warnings and errors from the server are worth seeing next to the numbers.
      if (typeof parsed.level === 'number' && parsed.level >= PINO_WARN) process.stderr.write(`[${label}] ${line}\n`);
      if (ready || parsed.msg !== readyMsg) return;
      if (typeof parsed.grpcPort !== 'number' || typeof parsed.httpPort !== 'number') {
        child.kill('SIGKILL');
        reject(new Error(`${label} ready line without ports: ${line}`));
        return;
      }
      ready = true;
      clearTimeout(timer);
      resolve({ ...stoppable(child), endpoint: { kind: protocol, host: HOST, grpcPort: parsed.grpcPort, httpPort: parsed.httpPort } });
    });
  });
}

function channeldArgs(options: TargetOptions, label: string, extra: readonly string[]): string[] {
  const ports = ['--grpc-host', HOST, '--grpc-port', '0', '--http-host', HOST, '--http-port', '0', '--log-level', 'info', ...extra];
  const root = options.channeldRoot ?? '.';
  if (options.fromDist) {
    const cli = join(root, 'dist/src/cli.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` or drop --server dist`);
    return [...options.nodeArgs(label), cli, ...ports];
  }
  const cli = join(root, 'src/cli.ts');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: is ${root} a channeld checkout?`);
  return [...options.nodeArgs(label), '--import', 'tsx', cli, ...ports];
}

function single(kind: TargetKind, server: Server): Target {
  return {
    kind,
    grpc: server.endpoint,
    ws: server.endpoint,
    nodes: [server.endpoint],
    processes: [{ name: 'server', pid: server.pid }],
    socketPid: server.pid,
    stop: () => server.stop(),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A redis-server on a free port with no persistence: the bench measures channeld, not the disk. */
async function startRedis(binary: string): Promise<Child & { readonly port: number }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', tmpdir()];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within ${READY_TIMEOUT_MS} ms: ${out.slice(-500)}`));
    }, READY_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${binary} (${err.message}); install it (apt-get install redis-server), pass --redis-server PATH, or leave cluster out of --targets`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve();
      }
    });
  });
  return { ...stoppable(child), port };
}

/**
 * Two channeld nodes on one Redis (three with `thirdNode`), or on `redisShards` redis-servers given
 * as --redis-shard, with one random token secret and key prefix for the run. The senders call node
 * A and the sockets live on node B, so every message goes A → Redis → B; node C, when started,
 * serves only the jitter scenario.
 */
async function startCluster(options: TargetOptions): Promise<Target> {
  const sharded = options.redisShards !== undefined;
  const redises: (Child & { readonly port: number })[] = [];
  const stopRedis = (): Promise<unknown> => Promise.all(redises.map((r) => r.stop()));
  try {
    for (let i = 0; i < (options.redisShards ?? 1); i++) redises.push(await startRedis(options.redisServer));
  } catch (err) {
    await stopRedis();
    throw err;
  }
  const urls = redises.map((r) => `redis://${HOST}:${r.port}`);
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  // The secret goes through the environment so it stays out of `ps`.
  const env = { ...process.env, CHANNELD_TOKEN_SECRETS: randomBytes(32).toString('hex') };
  // --redis-url names the first shard too, for a build whose engine takes --redis-shard but does not
  // shard yet (eaeed43): it then runs on that one, which the per-shard CPU figures show.
  const shardArgs = sharded ? urls.flatMap((url) => ['--redis-shard', url]) : [];
  const redisArgs = ['--engine', 'redis', '--redis-url', urls[0]!, ...shardArgs, '--redis-prefix', prefix];
  const started: Server[] = [];
  try {
    for (const label of options.thirdNode ? ['nodeA', 'nodeB', 'nodeC'] : ['nodeA', 'nodeB']) started.push(await startServer(`cluster ${label}`, 'channeld', channeldArgs(options, label, redisArgs), env));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    await stopRedis();
    throw err;
  }
  const [a, b, c] = started as [Server, Server, Server | undefined];
  return {
    kind: 'cluster',
    grpc: a.endpoint,
    ws: b.endpoint,
    nodes: started.map((s) => s.endpoint),
    processes: [
      { name: 'nodeA', pid: a.pid },
      { name: 'nodeB', pid: b.pid },
      ...(c === undefined ? [] : [{ name: 'nodeC', pid: c.pid }]),
      // Sharded: redis0, redis1, … in --redis-shard order.
      ...redises.map((r, i) => ({ name: sharded ? `redis${i}` : 'redis', pid: r.pid })),
    ],
    socketPid: b.pid,
    redisUrls: urls,
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
      await stopRedis();
    },
  };
}

/** Resolves once something accepts TCP connections on `port`. */
async function listening(port: number, deadline: number, exited: () => string | undefined): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: HOST, port });
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (ok) return;
    const why = exited();
    if (why !== undefined) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${HOST}:${port} after ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Centrifugo v6 on loopback (bench/README.md): client connections on its HTTP port
 * (/connection/websocket), the gRPC server API enabled, connection tokens signed with a random
 * HMAC secret, memory engine, everything else at its defaults. Each client id gets a personal
 * channel of the same name as a server-side subscription in its token (the senders mint them).
 */
async function startCentrifugo(options: TargetOptions): Promise<Target> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const secret = randomBytes(32).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'bench-centrifugo-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'warn' },
      http_server: { address: HOST, port: httpPort },
      grpc_api: { enabled: true, address: HOST, port: grpcPort },
      client: { token: { hmac_secret_key: secret }, allowed_origins: ['*'] },
      usage_stats: { disabled: true },
    }),
    { mode: 0o600 },
  );
  const child = spawn(options.centrifugo, ['--config', config], { stdio: ['ignore', 'inherit', 'inherit'], cwd: dir });
  let failure: string | undefined;
  child.once('error', (err) => {
    failure = `cannot run ${options.centrifugo} (${err.message}): install it with scripts/install-bench-tools.sh, pass --centrifugo PATH, or leave centrifugo out of --targets`;
  });
  child.once('exit', (code, signal) => (failure ??= `centrifugo exited (code ${code}, signal ${signal}) before it listened`));
  const proc = stoppable(child);
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    await listening(grpcPort, deadline, () => failure);
    await listening(httpPort, deadline, () => failure);
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const endpoint: Endpoint = { kind: 'centrifugo', host: HOST, grpcPort, httpPort, tokenSecret: secret };
  return {
    kind: 'centrifugo',
    grpc: endpoint,
    ws: endpoint,
    nodes: [endpoint],
    processes: [{ name: 'server', pid: proc.pid }],
    socketPid: proc.pid,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a target as child processes and resolves once every process is ready. */
export async function startTarget(kind: TargetKind, options: TargetOptions): Promise<Target> {
  if (kind === 'cluster') return startCluster(options);
  if (kind === 'centrifugo') return startCentrifugo(options);
  if (kind === 'channeld-deflate') {
    // Receivers offer permessage-deflate and inflate what comes compressed.
    const server = await startServer(kind, 'channeld', channeldArgs(options, 'server', ['--compression', options.compression, ...(options.channeldArgs ?? [])]), process.env);
    return single(kind, { ...server, endpoint: { ...server.endpoint, deflate: true } });
  }
  if (kind === 'baseline') {
    return single(kind, await startServer(kind, 'baseline', [...options.nodeArgs('server'), '--import', 'tsx', 'bench/baseline/server.ts', '--host', HOST], process.env));
  }
  return single(kind, await startServer(kind, 'channeld', channeldArgs(options, 'server', options.channeldArgs ?? []), process.env));
}
