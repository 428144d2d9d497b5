import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Whether a redis-server binary is here; in CI its absence is a failure, locally a loud skip. */
export function redisAvailability(): { run: boolean; fail: boolean; why: string } {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return { run: true, fail: false, why: '' };
  const why = 'redis-server is not installed (apt-get install redis-server)';
  return { run: false, fail: process.env['CI'] === 'true', why };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedisOptions {
  /** Every write is fsynced to an append-only file, so a restart keeps the data. */
  readonly persistent?: boolean;
  /** An RDB file that only save() writes, so a restart comes back with the data of the last save(). */
  readonly snapshots?: boolean;
  /** Starts as a replica of this Redis. */
  readonly replicaOf?: TestRedis;
}

/** A throwaway redis-server on a free port, with no persistence unless asked; restartable on the same port. */
export class TestRedis {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dataDir: string | undefined,
    private readonly options: TestRedisOptions,
  ) {}

  static async start(options: TestRedisOptions = {}): Promise<TestRedis> {
    // A replica writes the master's snapshot to its directory: never the work tree.
    const dataDir = options.persistent || options.snapshots || options.replicaOf !== undefined ? mkdtempSync(join(tmpdir(), 'channeld-redis-')) : undefined;
    const redis = new TestRedis(await freePort(), dataDir, options);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts Redis again after stop(), on the same port (and data, when persistent). */
  async launch(): Promise<void> {
    const persistence = this.options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dataDir!]
      : this.options.snapshots
        ? ['--appendonly', 'no', '--dir', this.dataDir!, '--dbfilename', 'dump.rdb']
        : ['--appendonly', 'no', ...(this.dataDir === undefined ? [] : ['--dir', this.dataDir])];
    const replica = this.options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(this.options.replicaOf.port)];
    // A replica's first sync starts at once, not after the default 5 s wait for more replicas.
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--repl-diskless-sync-delay', '0', ...persistence, ...replica], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
    });
  }

  /** Runs one command on this Redis over a connection of its own. */
  async command(name: string, ...args: (string | number)[]): Promise<unknown> {
    const admin = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await admin.connect();
    try {
      return await admin.call(name, ...args);
    } finally {
      admin.disconnect();
    }
  }

  /** Writes the snapshot a restart of a `snapshots` Redis comes back with. */
  async save(): Promise<void> {
    await this.command('SAVE');
  }

  /** Kills Redis (without persistence all data is lost, as in a crash). */
  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.dataDir !== undefined) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Independent redis-servers that one engine shards channel state over (--redis-shard), each a
 * TestRedis of its own that a test can stop, restart or snapshot alone.
 */
export class TestRedisShards {
  private constructor(readonly shards: readonly TestRedis[]) {}

  static async start(count: number, options: TestRedisOptions = {}): Promise<TestRedisShards> {
    return new TestRedisShards(await Promise.all(Array.from({ length: count }, () => TestRedis.start(options))));
  }

  /** In shard order: every node must list them in this order. */
  get urls(): string[] {
    return this.shards.map((s) => s.url);
  }

  shard(index: number): TestRedis {
    const shard = this.shards[index];
    if (shard === undefined) throw new Error(`there is no shard ${index} of ${this.shards.length}`);
    return shard;
  }

  /**
   * Which shard holds `key`, found by asking each (not by hashing as the engine does, so a test
   * also catches an engine that writes a key where it will not look for it). Throws unless
   * exactly one shard holds it.
   */
  async holding(key: string): Promise<number> {
    const found = await Promise.all(this.shards.map(async (s) => Number(await s.command('EXISTS', key)) === 1));
    const holders = found.flatMap((held, i) => (held ? [i] : []));
    if (holders.length !== 1) throw new Error(`key "${key}" is on shards [${holders.join(', ')}], not on exactly one`);
    return holders[0]!;
  }

  async save(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.save()));
  }

  /** Restarts each shard holding one of `keys` (back with its snapshot, or empty); resolves with their indexes. */
  async restartHolding(...keys: string[]): Promise<number[]> {
    const holders = [...new Set(await Promise.all(keys.map((key) => this.holding(key))))].sort();
    await Promise.all(holders.map((i) => this.shard(i).restart()));
    return holders;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.dispose()));
  }
}

/** Every key matching `match` on the Redis at `url` (a plain Redis or one Cluster node: its own keys), by SCAN. */
export async function scanKeys(url: string, match: string): Promise<string[]> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await admin.connect();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await admin.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      keys.push(...page);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    admin.disconnect();
  }
}

/**
 * A TCP front for Redis that a test can point at another Redis, as a fail-over does behind a
 * service address: switching drops every connection, and new ones reach the new target.
 */
export class RedisSwitch {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private target: number,
  ) {}

  static async start(target: TestRedis): Promise<RedisSwitch> {
    const port = await freePort();
    const server = createServer();
    const front = new RedisSwitch(server, port, target.port);
    server.on('connection', (client) => front.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return front;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  switchTo(target: TestRedis): void {
    this.target = target.port;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = createConnection(this.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** A Redis Cluster of `size` masters on free ports, made with redis-cli --cluster create; no persistence. */
export class TestRedisCluster {
  private constructor(
    private processes: ChildProcess[],
    readonly nodes: string[],
    private readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(size: number): Promise<TestRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'channeld-redis-cluster-'));
    const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
    const processes = await Promise.all(ports.map((port) => TestRedisCluster.launchNode(port, dir)));
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    const cluster = new TestRedisCluster(processes, nodes, ports, dir);
    await cluster.untilUp();
    return cluster;
  }

  /** Kills every node and starts it again: each keeps its slots (nodes.conf) but loses its data. */
  async restart(): Promise<void> {
    await this.kill();
    this.processes = await Promise.all(this.ports.map((port) => TestRedisCluster.launchNode(port, this.dir)));
    await this.untilUp();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private static launchNode(port: number, dir: string): Promise<ChildProcess> {
    return new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.once('exit', (code) => reject(new Error(`redis-server (cluster) exited with ${code}: ${out}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve(child);
      });
    });
  }

  /** Waits until every node agrees the cluster is up (its slots are assigned and served). */
  private async untilUp(): Promise<void> {
    for (const port of this.ports) {
      for (;;) {
        const info = spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' });
        if (info.stdout.includes('cluster_state:ok')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private async kill(): Promise<void> {
    await Promise.all(
      this.processes.map((child) => {
        if (child.exitCode !== null) return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
  }
}
