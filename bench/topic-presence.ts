/**
 * Topic presence bench: `npx tsx bench/topic-presence.ts [--engines memory,redis] [--seconds 4]
 * [--pairs 3] [--sockets 200] [--members 10000] [--redis-server redis-server]`.
 *
 * For each engine, one channeld process (the real CLI) and, on Redis, a redis-server of its own:
 *   1. GetTopicMembers on a topic of --members members with info: every page, at page_size 100
 *      and 1000 (the time per page and for all pages, median of 5 walks), and CountTopicMembers.
 *   2. The cost of a WatchTopicPresence to the topic fan-out path: --sockets raw WebSockets in one
 *      topic, Broadcast to it in a closed loop (16 in flight) for --seconds, while the topic's
 *      membership churns (50 changes/s) in every run; runs with and without an open watcher of the
 *      topic alternate (--pairs of each). Figures: topic frames received per second, and the
 *      server's CPU time (channeld, plus redis-server on Redis) per 1,000 deliveries, which a loaded
 *      machine disturbs far less than throughput; the watcher's cost is the difference of the medians.
 * Prints a JSON summary on the last line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import {
  ChannelServiceClient,
  type BroadcastRequest,
  type BroadcastResponse,
  type CountTopicMembersRequest,
  type CountTopicMembersResponse,
  type CreateChannelRequest,
  type CreateChannelResponse,
  type GetTopicMembersRequest,
  type GetTopicMembersResponse,
  type SubscribeRequest,
  type SubscribeResponse,
  type UnsubscribeRequest,
  type UnsubscribeResponse,
  type WatchTopicPresenceResponse,
} from '../gen/ts/channel/v1/channel.js';
import { RawWs, type RawWsHandler } from './load/raw-ws.js';

const HOST = '127.0.0.1';
const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'memory,redis' },
    seconds: { type: 'string', default: '4' },
    pairs: { type: 'string', default: '3' },
    sockets: { type: 'string', default: '200' },
    members: { type: 'string', default: '10000' },
    'redis-server': { type: 'string', default: 'redis-server' },
  },
});
const SECONDS = Number(values.seconds);
const PAIRS = Number(values.pairs);
const SOCKETS = Number(values.sockets);
const MEMBERS = Number(values.members);

interface Child {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

function stoppable(child: ChildProcess): Child {
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
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

async function startRedis(binary: string): Promise<Child & { port: number }> {
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', tmpdir()], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('error', (err) => reject(new Error(`cannot run ${binary}: ${err.message}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve();
      }
    });
  });
  return { ...stoppable(child), port };
}

async function startChanneld(args: readonly string[]): Promise<Child & { grpcPort: number; httpPort: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--grpc-port', '0', '--http-port', '0', '--http-host', HOST, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CHANNELD_TOKEN_SECRETS: randomBytes(32).toString('hex') },
  });
  const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    let buffer = '';
    child.once('exit', (code) => reject(new Error(`channeld exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; grpcPort?: number; httpPort?: number };
        if (entry.msg === 'channeld ready') resolve({ grpcPort: entry.grpcPort!, httpPort: entry.httpPort! });
      }
    });
  });
  child.stdout!.resume();
  return { ...stoppable(child), ...ports };
}

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;

/** A unary method of `client` as a promise. */
function unary<Req, Res>(call: (req: Req, cb: Callback<Res>) => unknown): (req: Req) => Promise<Res> {
  return (req) => new Promise((resolve, reject) => call(req, (err, res) => (err ? reject(err) : resolve(res))));
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; 10 ms ticks). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

interface EngineFigures {
  readonly engine: string;
  readonly members: number;
  readonly page100: { readonly msPerPage: number; readonly msAllPages: number; readonly pages: number };
  readonly page1000: { readonly msPerPage: number; readonly msAllPages: number; readonly pages: number };
  readonly countMs: number;
  readonly fanOut: {
    /** Topic frames received per second, each run. */
    readonly without: number[];
    readonly with: number[];
    readonly meanWithout: number;
    readonly meanWith: number;
    /** Server CPU (channeld, plus redis-server on Redis) per 1,000 deliveries, median of the runs. */
    readonly cpuMsPer1000Without: number;
    readonly cpuMsPer1000With: number;
    /** What the watcher adds to the server CPU of a delivery: the figure the ≤ 5 % bound is about. */
    readonly cpuCostPercent: number;
    /** Throughput lost, for what it is worth on a shared machine (it swings with other load). */
    readonly throughputCostPercent: number;
    readonly watcherEvents: number;
  };
}

async function benchEngine(engine: string): Promise<EngineFigures> {
  const redis = engine === 'redis' ? await startRedis(values['redis-server']) : undefined;
  const server = await startChanneld(
    redis === undefined ? [] : ['--engine', 'redis', '--redis-url', `redis://${HOST}:${redis.port}`, '--redis-prefix', `bench-${randomBytes(3).toString('hex')}`],
  );
  const client = new ChannelServiceClient(`${HOST}:${server.grpcPort}`, grpc.credentials.createInsecure());
  const subscribe = unary<SubscribeRequest, SubscribeResponse>((r, cb) => client.subscribe(r, cb));
  const unsubscribe = unary<UnsubscribeRequest, UnsubscribeResponse>((r, cb) => client.unsubscribe(r, cb));
  const members = unary<GetTopicMembersRequest, GetTopicMembersResponse>((r, cb) => client.getTopicMembers(r, cb));
  const count = unary<CountTopicMembersRequest, CountTopicMembersResponse>((r, cb) => client.countTopicMembers(r, cb));
  const createChannel = unary<CreateChannelRequest, CreateChannelResponse>((r, cb) => client.createChannel(r, cb));
  const broadcast = unary<BroadcastRequest, BroadcastResponse>((r, cb) => client.broadcast(r, cb));
  try {
    // 1. GetTopicMembers and CountTopicMembers on a big topic.
    const room = 'big-room';
    const ids = Array.from({ length: MEMBERS }, (_, i) => `member-${String(i).padStart(6, '0')}`);
    for (let i = 0; i < ids.length; i += 10_000) {
      await subscribe({ clientIds: ids.slice(i, i + 10_000), topic: room, info: '{"name":"a member","avatar":"https://example.com/a.png"}' });
    }
    const walk = async (pageSize: number): Promise<{ ms: number; pages: number }> => {
      const started = performance.now();
      let pageToken = '';
      let pages = 0;
      let seen = 0;
      do {
        const page = await members({ topic: room, pageSize, pageToken });
        pages++;
        seen += page.members.length;
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      if (seen !== MEMBERS) throw new Error(`a walk saw ${seen} members, not ${MEMBERS}`);
      return { ms: performance.now() - started, pages };
    };
    const pageFigures = async (pageSize: number): Promise<EngineFigures['page100']> => {
      await walk(pageSize); // warm-up
      const walks: { ms: number; pages: number }[] = [];
      for (let i = 0; i < 5; i++) walks.push(await walk(pageSize));
      const ms = median(walks.map((w) => w.ms));
      return { msPerPage: round(ms / walks[0]!.pages, 3), msAllPages: round(ms, 1), pages: walks[0]!.pages };
    };
    const page100 = await pageFigures(100);
    const page1000 = await pageFigures(1000);
    const counts: number[] = [];
    for (let i = 0; i < 500; i++) {
      const started = performance.now();
      const { members: n } = await count({ topic: room });
      counts.push(performance.now() - started);
      if (n !== MEMBERS) throw new Error(`CountTopicMembers said ${n}`);
    }

    // 2. Fan-out with and without a watcher of the topic.
    const fan = 'fan-room';
    const sockets: RawWs[] = [];
    let frames = 0;
    let welcomed = 0;
    const handler: RawWsHandler = {
      onUpgraded: () => undefined,
      onText: (_ws, buf, start) => {
        // [2,"fan-room",seq,data]: a topic message; [4,…]: a topic welcome.
        if (buf[start + 1] === 0x32 && buf[start + 2] === 0x2c) frames++;
        else if (buf[start + 1] === 0x34 && buf[start + 2] === 0x2c) welcomed++;
      },
      onEnd: (_ws, why) => {
        throw new Error(`a receiver's socket ended: ${why}`);
      },
    };
    const fanIds = Array.from({ length: SOCKETS }, (_, i) => `fan-${i}`);
    await subscribe({ clientIds: fanIds, topic: fan });
    for (const [i, id] of fanIds.entries()) {
      const { token } = await createChannel({ clientId: id, durationMinutes: 60 });
      sockets.push(new RawWs(HOST, server.httpPort, '/_ah/channel/ws', `channeld.v1, token.${token}`, handler, i, () => 0));
    }
    const deadline = Date.now() + 30_000;
    while (welcomed < SOCKETS) {
      if (Date.now() > deadline) throw new Error(`only ${welcomed} of ${SOCKETS} topic welcomes`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const message = JSON.stringify({ text: 'x'.repeat(100) });
    let watcherEvents = 0;
    const serverCpu = (): number => cpuMs(server.child.pid) + cpuMs(redis?.child.pid);
    const run = async (watched: boolean): Promise<{ perSecond: number; cpuPer1000: number }> => {
      let watch: grpc.ClientReadableStream<WatchTopicPresenceResponse> | undefined;
      if (watched) {
        watch = client.watchTopicPresence({ topic: fan, snapshot: true, cursor: '' });
        await new Promise<void>((resolve, reject) => {
          watch!.on('data', (r: WatchTopicPresenceResponse) => {
            watcherEvents++;
            if (r.kind?.$case === 'snapshotComplete') resolve();
          });
          watch!.on('error', (err: grpc.ServiceError) => {
            if (err.code !== grpc.status.CANCELLED) reject(err);
          });
        });
      }
      // Membership churn in every run, so a watcher has changes to carry.
      let churn = 0;
      const churner = setInterval(() => {
        const id = `churn-${churn++ % 10}`;
        void (churn % 2 === 0 ? subscribe({ clientIds: [id], topic: fan }) : unsubscribe({ clientIds: [id], topic: fan }));
      }, 20);
      const before = frames;
      const cpuBefore = serverCpu();
      const started = performance.now();
      const end = started + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (performance.now() < end) await broadcast({ message, clientIds: [], topics: [fan] });
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      const cpu = serverCpu() - cpuBefore;
      clearInterval(churner);
      watch?.cancel();
      const delivered = frames - before;
      return { perSecond: delivered / elapsed, cpuPer1000: (cpu / delivered) * 1000 };
    };
    await run(false); // warm-up
    const without: { perSecond: number; cpuPer1000: number }[] = [];
    const withWatcher: { perSecond: number; cpuPer1000: number }[] = [];
    for (let i = 0; i < PAIRS; i++) {
      // Alternating which goes first, so a drift of the machine does not favour one.
      if (i % 2 === 0) {
        without.push(await run(false));
        withWatcher.push(await run(true));
      } else {
        withWatcher.push(await run(true));
        without.push(await run(false));
      }
    }
    for (const s of sockets) s.destroy();
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const meanWithout = mean(without.map((r) => r.perSecond));
    const meanWith = mean(withWatcher.map((r) => r.perSecond));
    const cpuWithout = median(without.map((r) => r.cpuPer1000));
    const cpuWith = median(withWatcher.map((r) => r.cpuPer1000));
    return {
      engine,
      members: MEMBERS,
      page100,
      page1000,
      countMs: round(median(counts), 3),
      fanOut: {
        without: without.map((r) => Math.round(r.perSecond)),
        with: withWatcher.map((r) => Math.round(r.perSecond)),
        meanWithout: Math.round(meanWithout),
        meanWith: Math.round(meanWith),
        cpuMsPer1000Without: round(cpuWithout, 2),
        cpuMsPer1000With: round(cpuWith, 2),
        cpuCostPercent: round(((cpuWith - cpuWithout) / cpuWithout) * 100, 1),
        throughputCostPercent: round(((meanWithout - meanWith) / meanWithout) * 100, 1),
        watcherEvents,
      },
    };
  } finally {
    client.close();
    await server.stop();
    await redis?.stop();
  }
}

const results: EngineFigures[] = [];
for (const engine of values.engines.split(',')) {
  const figures = await benchEngine(engine);
  results.push(figures);
  const f = figures;
  console.log(
    `${engine}: GetTopicMembers on ${f.members} members: page_size 100 ${f.page100.msPerPage} ms/page (${f.page100.pages} pages ${f.page100.msAllPages} ms); ` +
      `page_size 1000 ${f.page1000.msPerPage} ms/page (${f.page1000.pages} pages ${f.page1000.msAllPages} ms); CountTopicMembers ${f.countMs} ms`,
  );
  console.log(
    `${engine}: fan-out to ${SOCKETS} sockets, deliveries/s without a watcher ${f.fanOut.without.join(' ')} (mean ${f.fanOut.meanWithout}), ` +
      `with ${f.fanOut.with.join(' ')} (mean ${f.fanOut.meanWith}): ${f.fanOut.throughputCostPercent}% fewer; server CPU per 1,000 deliveries ` +
      `${f.fanOut.cpuMsPer1000Without} ms without, ${f.fanOut.cpuMsPer1000With} ms with: cost ${f.fanOut.cpuCostPercent}% (${f.fanOut.watcherEvents} watcher events)`,
  );
}
console.log(JSON.stringify({ bench: 'topic-presence', seconds: SECONDS, pairs: PAIRS, sockets: SOCKETS, results }));
