import anyTest, { type TestFn } from 'ava';
import { RawWs } from '../bench/load/raw-ws.js';
import { startNode, type ClusterNode } from './helpers/cluster.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';

/**
 * Issue 8, defect 1: on the Redis engine a socket opened on a fresh node was now and then shut
 * down right after its 101 (no frame, no close frame) while `res.upgrade` ran after an
 * asynchronous Redis read. Each run starts three fresh nodes, mints every token on node A and
 * opens every socket on B or C as fast as it can, with the bench's raw client (the one that showed the
 * drop) and no reconnect of any kind. Only a node's first storm ever dropped (never a second one on
 * the same nodes), mostly one of its first ~40 sockets: on cc63a8c and 9f06e68 about one run in six
 * under ava (one in two from a plain node process) lost a socket, so the suite does several runs;
 * CONNECT_STORM_RUNS=20 (or more) is a longer hunt.
 */
const RUNS = Number(process.env['CONNECT_STORM_RUNS'] ?? 8);
const SOCKETS = Number(process.env['CONNECT_STORM_SOCKETS'] ?? 3000);
const CONCURRENCY = Number(process.env['CONNECT_STORM_CONCURRENCY'] ?? 1000);
const MINT_CONCURRENCY = 64;
const STORM_TIMEOUT_MS = 90_000;
const HOST = '127.0.0.1';

const test = anyTest as TestFn<unknown>;
const availability = redisAvailability();
if (!availability.run && availability.fail) {
  test('connect storm - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING the cluster connect storm: ${availability.why} !!!\n`);
}
const redisTest = availability.run ? test.serial : test.skip;

interface StormOutcome {
  welcomed: number;
  /** Sockets that ended before their welcome, with why (RawWs says whether a 101 and a close frame came). */
  failures: string[];
  /** Sockets that ended after their welcome while the storm had not closed them. */
  laterEnds: string[];
  seconds: number;
}

async function mint(node: ClusterNode, prefix: string, count: number): Promise<string[]> {
  const tokens = new Array<string>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: MINT_CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        tokens[i] = (await node.rpc.createChannel({ clientId: `${prefix}-${i}`, durationMinutes: 0 })).token;
      }
    }),
  );
  return tokens;
}

/** Opens one socket per token, `CONCURRENCY` handshakes at a time, spread over `nodes`; resolves when each settled. */
function storm(nodes: readonly ClusterNode[], tokens: readonly string[]): Promise<StormOutcome> {
  const started = performance.now();
  const outcome: StormOutcome = { welcomed: 0, failures: [], laterEnds: [], seconds: 0 };
  const sockets: RawWs[] = [];
  const welcomed = new Uint8Array(tokens.length);
  return new Promise((resolve) => {
    let next = 0;
    let settled = 0;
    const settle = (slot: number, failure?: string): void => {
      if (welcomed[slot] !== 0) return;
      welcomed[slot] = failure === undefined ? 1 : 2;
      if (failure === undefined) outcome.welcomed++;
      else outcome.failures.push(`socket ${slot} on node ${slot % nodes.length}: ${failure}`);
      if (++settled < tokens.length) return openNext();
      clearTimeout(deadline);
      outcome.seconds = (performance.now() - started) / 1000;
      for (const ws of sockets) ws.destroy();
      resolve(outcome);
    };
    // One deadline for the whole storm, not a timer per socket: the client stays as lean as it can.
    const deadline = setTimeout(() => {
      for (let slot = 0; slot < tokens.length; slot++) {
        sockets[slot]?.destroy();
        settle(slot, sockets[slot] === undefined ? 'never opened' : `no welcome within ${STORM_TIMEOUT_MS} ms`);
      }
    }, STORM_TIMEOUT_MS);
    const openNext = (): void => {
      if (next >= tokens.length) return;
      const slot = next++;
      const node = nodes[slot % nodes.length]!;
      sockets[slot] = new RawWs(HOST, node.httpPort, '/_ah/channel/ws', `channeld.v1, token.${tokens[slot]}`, {
        onUpgraded() {},
        onText(_ws, buf, start) {
          // The welcome is `[0,…]`, and it must be the first frame.
          if (welcomed[slot] === 0) settle(slot, buf[start + 1] === 0x30 ? undefined : `first frame ${buf.toString('utf8', start, start + 40)}`);
        },
        onEnd(_ws, why) {
          if (welcomed[slot] === 0) settle(slot, why);
          else if (welcomed[slot] === 1) outcome.laterEnds.push(`socket ${slot}: ${why}`);
        },
      }, slot, () => 0);
    };
    for (let i = 0; i < Math.min(CONCURRENCY, tokens.length); i++) openNext();
  });
}

redisTest(`connect storm - ${RUNS} runs of ${SOCKETS} sockets on a fresh 3-node cluster, tokens minted on node A, sockets on B and C: every socket gets its welcome, none dropped after its 101`, async (t) => {
  t.timeout(120_000 * RUNS);
  const redis = await TestRedis.start();
  let nodes: ClusterNode[] = [];
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.dispose();
  });
  const failures: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const prefix = `storm${run}`;
    nodes = await Promise.all([0, 1, 2].map(() => startNode({ redisUrl: redis.url, prefix })));
    const [minter, ...socketNodes] = nodes as [ClusterNode, ...ClusterNode[]];
    // Only node A serves gRPC: a socket node that had served calls before its storm never dropped one.
    const tokens = await mint(minter, prefix, SOCKETS);
    const outcome = await storm(socketNodes, tokens);
    t.log(
      `run ${run}: ${outcome.welcomed}/${SOCKETS} welcomed in ${outcome.seconds.toFixed(1)} s, ` +
        `${outcome.failures.length} failed before the welcome, ${outcome.laterEnds.length} ended after it${outcome.failures.length > 0 ? `: ${outcome.failures.join('; ')}` : ''}`,
    );
    failures.push(...outcome.failures.map((f) => `run ${run}, ${f}`), ...outcome.laterEnds.map((f) => `run ${run}, after the welcome, ${f}`));
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  }
  t.deepEqual(failures, [], 'no socket dropped, refused or closed: no reconnect hides anything here');
});
