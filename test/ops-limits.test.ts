import test from 'ava';
import WebSocket from 'ws';
import { UpgradeLimits, UpgradeRefusal } from '../src/gateway/upgrade-limits.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import type { RawSocket } from './helpers/socket.js';

function limits(options: Partial<ConstructorParameters<typeof UpgradeLimits>[0]>, now: { ms: number }): UpgradeLimits {
  const l = new UpgradeLimits({ maxSockets: 0, upgradesPerIpPerSecond: 0, upgradeBurstPerIp: 0, allowedOrigins: [], ...options }, () => now.ms);
  return l;
}

test('limits - no limit set: every upgrade goes ahead', (t) => {
  const l = limits({}, { ms: 0 });
  for (let i = 0; i < 1000; i++) t.is(l.check('192.0.2.1', 'http://any.example', i), undefined);
  l.stop();
});

test('limits - max sockets: refused with 503 once the node holds that many', (t) => {
  const l = limits({ maxSockets: 3 }, { ms: 0 });
  t.is(l.check('a', '', 2), undefined);
  t.is(l.check('a', '', 3), UpgradeRefusal.MaxSockets);
  t.is(UpgradeRefusal.MaxSockets.status, '503 Service Unavailable');
  l.stop();
});

test('limits - per-IP rate: a burst, then the rate; other addresses are not affected', (t) => {
  const now = { ms: 0 };
  const l = limits({ upgradesPerIpPerSecond: 2, upgradeBurstPerIp: 5 }, now);
  for (let i = 0; i < 5; i++) t.is(l.check('192.0.2.1', '', 0), undefined, `burst ${i}`);
  t.is(l.check('192.0.2.1', '', 0), UpgradeRefusal.Rate);
  t.is(l.check('192.0.2.2', '', 0), undefined, 'another address has its own budget');
  now.ms += 500; // half a second at 2/s: one more
  t.is(l.check('192.0.2.1', '', 0), undefined);
  t.is(l.check('192.0.2.1', '', 0), UpgradeRefusal.Rate);
  t.is(UpgradeRefusal.Rate.status, '429 Too Many Requests');
  l.stop();
});

test('limits - allowed origins: exact scheme://host[:port], case-insensitive, trailing slash ignored', (t) => {
  const l = limits({ allowedOrigins: ['https://app.example', 'http://localhost:3000/'] }, { ms: 0 });
  t.is(l.check('a', 'https://app.example', 0), undefined);
  t.is(l.check('a', 'HTTPS://APP.EXAMPLE', 0), undefined);
  t.is(l.check('a', 'http://localhost:3000', 0), undefined);
  t.is(l.check('a', 'http://app.example', 0), UpgradeRefusal.Origin);
  t.is(l.check('a', 'https://evil.example', 0), UpgradeRefusal.Origin);
  t.is(l.check('a', '', 0), UpgradeRefusal.Origin, 'no Origin (not a browser) is refused when a list is set');
  l.stop();
});

/** Tries an upgrade; resolves with the HTTP status of a refusal, or 101 once the welcome came. */
async function upgrade(ts: TestServer, clientId: string, origin?: string): Promise<{ status: number; socket?: RawSocket; retryAfter?: string }> {
  const { token } = await ts.createChannel(clientId);
  return new Promise((resolve) => {
    const ws = new WebSocket(ts.wsUrl, ['channeld.v1', `token.${token}`], origin === undefined ? {} : { origin });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] === undefined ? {} : { retryAfter: String(res.headers['retry-after']) }) });
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.once('error', () => undefined);
  });
}

async function refusedCount(ts: TestServer, reason: string): Promise<number> {
  const text = await (await fetch(`${ts.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^channeld_upgrades_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
}

test('limits e2e - --max-sockets: past it an upgrade gets 503 with Retry-After, and a socket may open again once one closed', async (t) => {
  const ts = await startTestServer({ maxSockets: 2 });
  t.teardown(() => ts.close());
  const a = await connect(ts, 'lim-a');
  const b = await connect(ts, 'lim-b');
  const refused = await upgrade(ts, 'lim-c');
  t.is(refused.status, 503);
  t.is(refused.retryAfter, '5');
  t.is(await refusedCount(ts, 'max_sockets'), 1);
  a.socket.close();
  await a.socket.closed;
  const deadline = Date.now() + 5000;
  let again = await upgrade(ts, 'lim-c');
  while (again.status !== 101 && Date.now() < deadline) again = await upgrade(ts, 'lim-c');
  t.is(again.status, 101);
  b.socket.close();
});

test('limits e2e - --upgrade-rate-per-ip: a burst goes through, then 429 with Retry-After', async (t) => {
  const ts = await startTestServer({ upgradeRatePerIp: 1, upgradeBurstPerIp: 3 });
  t.teardown(() => ts.close());
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await upgrade(ts, `rate-${i}`)).status);
  t.deepEqual(statuses.slice(0, 3), [101, 101, 101]);
  t.true(statuses.slice(3).includes(429), statuses.join(','));
  t.true((await refusedCount(ts, 'rate')) >= 1);
});

test('limits e2e - --allowed-origin: pages of other origins get 403; the listed origin opens', async (t) => {
  const ts = await startTestServer({ allowedOrigins: ['https://app.example'] });
  t.teardown(() => ts.close());
  t.is((await upgrade(ts, 'origin-ok', 'https://app.example')).status, 101);
  t.is((await upgrade(ts, 'origin-evil', 'https://evil.example')).status, 403);
  t.is((await upgrade(ts, 'origin-none')).status, 403);
  t.is(await refusedCount(ts, 'origin'), 2);
});

test('limits e2e - none set (the default): any origin, any number', async (t) => {
  const ts = await startTestServer();
  t.teardown(() => ts.close());
  for (let i = 0; i < 10; i++) t.is((await upgrade(ts, `free-${i}`, 'https://anything.example')).status, 101);
});
