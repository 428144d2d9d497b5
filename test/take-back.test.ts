import test from 'ava';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const availability = redisAvailability();
const SECRET = '0123456789abcdef0123456789abcdef';
const RUNS = Number(process.env['CHANNELD_RACE_RUNS'] ?? 50);

if (!availability.run) {
  if (availability.fail) test('take-back - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
  else console.warn(`\n!!! SKIPPING the Redis take-back test: ${availability.why} !!!\n`);
} else {
  test('take-back (redis, two nodes) - a newer socket that opens and closes at once never ends the first tab, which misses nothing', async (t) => {
    const redis = await TestRedis.start();
    const options = { engine: 'redis' as const, redisUrl: redis.url, redisPrefix: 'takeback', tokenSecrets: [SECRET] };
    const a: TestServer = await startTestServer(options);
    const b: TestServer = await startTestServer(options);
    const bad: string[] = [];
    try {
      // Each run's first tab stays open through the next runs, so the runs overlap in time.
      const tabs: { id: string; socket: RawSocket; sent: string[] }[] = [];
      for (let run = 0; run < RUNS; run++) {
        const id = `tab-${run}`;
        const first = await connect(a, id);
        const tab = { id, socket: first.socket, sent: [] as string[] };
        tabs.push(tab);
        const newer = new RawSocket((run % 2 === 0 ? b : a).wsUrl, first.token);
        await newer.until(() => newer.welcome !== undefined || newer.closeCode !== undefined, 'the newer socket');
        newer.ws.terminate();
        for (const text of ['around the newer socket', 'after it closed']) {
          await a.send(id, text);
          tab.sent.push(text);
        }
      }
      // Past the grace: every first tab took its client id back and catches up.
      for (const tab of tabs) {
        await tab.socket.until(
          () => tab.socket.closeCode !== undefined || tab.sent.every((m) => tab.socket.messages.some((got) => got.data === m)),
          `${tab.id} to catch up`,
          15_000,
        ).catch(() => undefined);
        const got = tab.socket.messages.map((m) => m.data);
        if (tab.socket.closeCode !== undefined) bad.push(`${tab.id} closed with ${tab.socket.closeCode}`);
        else if (got.join('|') !== tab.sent.join('|')) bad.push(`${tab.id} got ${JSON.stringify(got)}`);
      }
      const presence = await a.rpc.getPresence({ clientIds: tabs.map((x) => x.id) });
      const offline = presence.clients.filter((c) => !c.connected).map((c) => c.clientId);
      if (offline.length > 0) bad.push(`not CONNECTED: ${offline.join(', ')}`);
      for (const tab of tabs) tab.socket.close();
      t.deepEqual(bad, [], `${bad.length} bad of ${RUNS}`);
    } finally {
      await a.close();
      await b.close();
      await redis.dispose();
    }
  });
}
