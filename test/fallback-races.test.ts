import anyTest, { type TestFn } from 'ava';
import { FallbackWire, type FallbackKind } from './helpers/fallback-wire.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

/**
 * The one-socket rule across transports, raced: a WebSocket and a fallback connection (or two
 * fallback connections of different kinds) of one client id open at nearly the same moment, on
 * two nodes over one Redis. Whatever the order the engine sees them in, exactly one stays, the
 * other ends with 4502 and nothing else, and the one that stays gets the next message.
 */
interface Context {
  redis: TestRedis;
  nodes: [TestServer, TestServer];
}
const test = anyTest as TestFn<Context>;
const availability = redisAvailability();
if (!availability.run && availability.fail) {
  test('fallback races - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING fallback races on Redis: ${availability.why} !!!\n`);
}
const redisTest = availability.run ? test.serial : test.skip;

const ROUNDS = 50;
/** Rounds raced at once (each on its own client id). */
const AT_ONCE = 10;

test.before(async (t) => {
  if (!availability.run) return;
  const redis = await TestRedis.start();
  const options = { engine: 'redis' as const, redisUrl: redis.url, redisPrefix: 'fbrace', tokenSecrets: ['fallback-race-secret-0123456789abcdef'] };
  const nodes = (await Promise.all([startTestServer(options), startTestServer(options)])) as [TestServer, TestServer];
  t.context = { redis, nodes };
});

test.after.always(async (t) => {
  await Promise.all((t.context?.nodes ?? []).map((n) => n.close()));
  await t.context?.redis?.dispose();
});

type Kind = 'websocket' | FallbackKind;

/** One connection of any kind, seen from the test: its messages and how it ended. */
interface Conn {
  readonly messages: () => string[];
  readonly closeCode: () => number | undefined;
  end(): void;
}

function connect(node: TestServer, kind: Kind, token: string): Conn {
  if (kind === 'websocket') {
    const ws = new RawSocket(node.wsUrl, token);
    return { messages: () => ws.messages.map((m) => m.data), closeCode: () => ws.closeCode, end: () => ws.close() };
  }
  const messages: string[] = [];
  let code: number | undefined;
  const wire = new FallbackWire(node.httpUrl, kind, { token }, {
    open: () => undefined,
    frame: (f) => {
      if (f[0] === 1) messages.push(f[2] as string);
    },
    close: (c) => (code = c),
  });
  return { messages: () => messages, closeCode: () => code, end: () => wire.cut() };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const [a, b] of [['websocket', 'sse'], ['websocket', 'poll'], ['sse', 'poll']] as const) {
  redisTest(`fallback races - ${a} and ${b} of one client id on two nodes, ${ROUNDS} times: exactly one stays, the other gets 4502`, async (t) => {
    t.timeout(180_000);
    const [n1, n2] = t.context.nodes;
    const outcomes = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round += AT_ONCE) {
      await Promise.all(Array.from({ length: AT_ONCE }, async (_, k) => {
        const id = `race-${a}-${b}-${round + k}`;
        const { token } = await n1.createChannel(id);
        // Half the rounds the fallback connection starts first, half the WebSocket; the other follows at once.
        const flip = (round + k) % 2 === 0;
        const first = connect(flip ? n1 : n2, flip ? a : b, token);
        const second = connect(flip ? n2 : n1, flip ? b : a, token);
        try {
          // Past the displaced one's grace (1 s) and its take-back read.
          await sleep(2500);
          await n1.send(id, 'after the race');
          await sleep(500);
          const ends = [first.closeCode(), second.closeCode()];
          const alive = ends.filter((c) => c === undefined).length;
          const key = `alive=${alive} closes=${ends.filter((c) => c !== undefined).join(',')}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          const survivor = ends[0] === undefined ? first : second;
          if (alive === 1 && !survivor.messages().includes('after the race')) outcomes.set('survivor missed the message', (outcomes.get('survivor missed the message') ?? 0) + 1);
          const presence = await n2.rpc.getPresence({ clientIds: [id] });
          if (!presence.clients[0]!.connected) outcomes.set('not connected', (outcomes.get('not connected') ?? 0) + 1);
        } finally {
          first.end();
          second.end();
        }
      }));
    }
    t.log([...outcomes].map(([k, v]) => `${k}: ${v}`).join('; '));
    t.deepEqual([...outcomes], [['alive=1 closes=4502', ROUNDS]]);
  });
}
