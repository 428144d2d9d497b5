import { networkInterfaces } from 'node:os';
import test from 'ava';
import { pino } from 'pino';
import { isLoopbackAddress } from '../src/gateway/demo.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;

test.before(async () => {
  // Listening on every interface, as `npm start` does, so a request can come from beyond loopback.
  ts = await startTestServer({ demo: true, httpHost: '0.0.0.0' });
});

test.after.always(async () => {
  await ts?.close();
});

/** An address of this machine that is not loopback, if it has one. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

function post(path: string, headers: Record<string, string>, body: string, host = '127.0.0.1') {
  const port = ts.server.httpPort;
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${host}:${port}`, 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return rawRequest(port, `${lines.join('\r\n')}\r\n\r\n${body}`, 5000, host);
}

const mint = JSON.stringify({ client_id: 'victim' });

test('demo - a cross-site text/plain POST (no preflight) mints no token', async (t) => {
  const res = await post('/demo/channels', { Origin: 'http://evil.example', 'Content-Type': 'text/plain' }, mint);
  t.is(res.status, 403);
  t.notRegex(res.body, /token/);
  t.regex(res.body, /its own page only/);
});

test('demo - a cross-site JSON POST is refused by origin, and by Sec-Fetch-Site', async (t) => {
  const json = { 'Content-Type': 'application/json' };
  t.is((await post('/demo/channels', { ...json, Origin: 'http://evil.example' }, mint)).status, 403);
  t.is((await post('/demo/channels', { ...json, Origin: 'null' }, mint)).status, 403);
  t.is((await post('/demo/messages', { ...json, 'Sec-Fetch-Site': 'cross-site' }, JSON.stringify({ client_id: 'victim', message: 'x' }))).status, 403);
});

test('demo - a body that is not declared JSON is refused with 415', async (t) => {
  const res = await post('/demo/channels', { 'Content-Type': 'text/plain' }, mint);
  t.is(res.status, 415);
  t.regex(res.body, /application\/json/);
  t.is((await post('/demo/channels', {}, mint)).status, 415);
});

test('demo - its own page, from this machine, with JSON: a token', async (t) => {
  const origin = `http://127.0.0.1:${ts.server.httpPort}`;
  const res = await post('/demo/channels', { 'Content-Type': 'application/json; charset=utf-8', Origin: origin, 'Sec-Fetch-Site': 'same-origin' }, mint);
  t.is(res.status, 200, res.text);
  t.regex(res.body, /"token":"[^"]{20,}"/);
  const sent = await post('/demo/messages', { 'Content-Type': 'application/json', Origin: origin }, JSON.stringify({ client_id: 'victim', message: 'hi' }));
  t.is(sent.status, 200, sent.text);
});

test('demo - a request relayed by a proxy (X-Forwarded-For, Forwarded) is not local', async (t) => {
  const json = { 'Content-Type': 'application/json' };
  t.is((await post('/demo/channels', { ...json, 'X-Forwarded-For': '203.0.113.9' }, mint)).status, 403);
  t.is((await post('/demo/channels', { ...json, Forwarded: 'for=203.0.113.9' }, mint)).status, 403);
  const presence = await rawRequest(ts.server.httpPort, `GET /demo/presence HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n`);
  t.is(presence.status, 403);
});

const outside = outsideAddress();
if (outside === undefined) console.warn('\n!!! SKIPPING demo test from beyond loopback: this machine has no non-loopback IPv4 address !!!\n');
(outside === undefined ? test.skip : test)('demo - a request from beyond loopback is refused (the page itself is served)', async (t) => {
  const res = await post('/demo/channels', { 'Content-Type': 'application/json' }, mint, outside);
  t.is(res.status, 403, res.text);
  t.regex(res.body, /this machine only/);
  const page = await rawRequest(ts.server.httpPort, `GET / HTTP/1.1\r\nHost: ${outside}\r\nConnection: close\r\n\r\n`, 5000, outside!);
  t.is(page.status, 200);
});

test('demo - loopback addresses as uWS spells them', (t) => {
  for (const a of ['127.0.0.1', '127.1.2.3', '0000:0000:0000:0000:0000:0000:0000:0001', '0000:0000:0000:0000:0000:ffff:7f00:0001', '::1']) t.true(isLoopbackAddress(a), a);
  for (const a of ['192.0.2.2', '10.0.0.1', '0000:0000:0000:0000:0000:ffff:c000:0202', 'fd00:0000:0000:0000:0000:0000:0000:0002']) t.false(isLoopbackAddress(a), a);
});

test('demo - a loud warning when the demo is reachable beyond loopback, none on loopback', async (t) => {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const wide = await startTestServer({ demo: true, httpHost: '0.0.0.0', logger });
  await wide.close();
  const warning = lines.find((l) => l.msg.includes('demo page is reachable beyond loopback'));
  t.is(warning?.level, 40);
  lines.length = 0;
  const local = await startTestServer({ demo: true, httpHost: '127.0.0.1', logger });
  await local.close();
  t.false(lines.some((l) => l.msg.includes('reachable beyond loopback')));
});

(outside === undefined ? test.skip : test)('demo - --demo-public opens the endpoints to other machines (still only for the demo page, with JSON), loudly', async (t) => {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const open = await startTestServer({ demo: true, demoPublic: true, httpHost: '0.0.0.0', logger });
  t.teardown(() => open.close());
  t.true(lines.some((l) => l.level === 40 && l.msg.includes('--demo-public: ANYONE')));
  const port = open.server.httpPort;
  const request = (headers: string): string =>
    `POST /demo/channels HTTP/1.1\r\nHost: ${outside}:${port}\r\nConnection: close\r\n${headers}Content-Length: ${Buffer.byteLength(mint)}\r\n\r\n${mint}`;
  const minted = await rawRequest(port, request('Content-Type: application/json\r\n'), 5000, outside!);
  t.is(minted.status, 200, minted.text);
  const crossSite = await rawRequest(port, request('Content-Type: application/json\r\nOrigin: http://evil.example\r\n'), 5000, outside!);
  t.is(crossSite.status, 403);
});
