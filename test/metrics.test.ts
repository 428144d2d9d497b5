import { createServer, type Server } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { connect, startTestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

/** One sample line of the text exposition: its name, its labels (sorted), its value. */
type Samples = Map<string, number>;

function key(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${parts.join(',')}}`;
}

function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.set(key(match[1]!, labels), Number(match[3]));
  }
  return samples;
}

async function scrape(port: number): Promise<{ samples: Samples; text: string; contentType: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  return { samples: parse(text), text, contentType: res.headers.get('content-type') };
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const SERVICE = 'channel.v1.ChannelService';
const withMetricsPort = { metricsHost: '127.0.0.1', metricsPort: 0 };

test('metrics - the exposition parses and every name starts with channeld_', async (t) => {
  const ts = await startTestServer(withMetricsPort);
  t.teardown(() => ts.close());
  const { text, contentType, samples } = await scrape(ts.server.metricsPort!);
  t.regex(contentType ?? '', /^text\/plain; version=0\.0\.4/);
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) t.true(line.split(' ')[2]!.startsWith('channeld_'), line);
  }
  for (const name of [
    'channeld_sockets_open',
    'channeld_presence_watchers',
    'channeld_delivery_watchers',
    'channeld_topic_presence_watchers',
    'channeld_delivery_waiters',
    'channeld_ready',
    'channeld_replay_buffer_messages',
    'channeld_process_cpu_seconds_total',
  ]) {
    t.true(samples.has(key(name)), `${name} is exported`);
  }
  t.is(samples.get(key('channeld_engine_up', { engine: 'memory' })), 1);
  t.is(samples.get(key('channeld_ready')), 1);
});

test('metrics - gRPC calls by method and status with a latency histogram; messages accepted per RPC', async (t) => {
  const ts = await startTestServer(withMetricsPort);
  t.teardown(() => ts.close());
  await ts.createChannel('m-alice');
  for (let i = 0; i < 3; i++) await ts.send('m-alice', `hello ${i}`);
  await t.throwsAsync(ts.send('m-alice', ''));
  const item = (clientId: string, message: string) => ({ target: { $case: 'clientId' as const, value: clientId }, message, idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined });
  await ts.rpc.sendMessages({ requests: [item('m-alice', 'a'), item('m-bob', 'b'), item('m-bob', '')] });
  await ts.rpc.subscribe({ clientIds: ['m-alice'], topic: 'm-room' });
  await ts.rpc.broadcast({ message: 'to the room', clientIds: [], topics: ['m-room'] });

  const { samples } = await scrape(ts.server.metricsPort!);
  const calls = (method: string, code: string) => samples.get(key('channeld_grpc_calls_total', { service: SERVICE, method, code }));
  t.is(calls('SendMessage', 'OK'), 3);
  t.is(calls('SendMessage', 'INVALID_ARGUMENT'), 1);
  t.is(calls('CreateChannel', 'OK'), 1);
  t.is(calls('SendMessages', 'OK'), 1, 'a batch with a bad item still answers OK');
  t.is(calls('Broadcast', 'OK'), 1);

  const duration = (suffix: string, extra: Record<string, string> = {}) =>
    samples.get(key(`channeld_grpc_call_duration_seconds${suffix}`, { service: SERVICE, method: 'SendMessage', ...extra }));
  t.is(duration('_count'), 4);
  t.is(duration('_bucket', { le: '+Inf' }), 4);
  t.is(duration('_bucket', { le: '10' }), 4, 'no test call takes 10 s');
  t.true((duration('_sum') ?? -1) > 0);
  // Buckets are cumulative.
  const buckets = [...samples].filter(([k]) => k.startsWith('channeld_grpc_call_duration_seconds_bucket{') && k.includes('"SendMessage"')).map(([, v]) => v);
  t.deepEqual([...buckets].sort((a, b) => a - b), buckets);

  const accepted = (rpc: string) => samples.get(key('channeld_messages_accepted_total', { rpc }));
  t.is(accepted('SendMessage'), 3);
  t.is(accepted('SendMessages'), 2);
  t.is(accepted('Broadcast'), 1);
  t.is(samples.get(key('channeld_replay_buffer_messages')), 3 + 2 + 1, 'channel and topic messages held for replay');
});

test('metrics - calls refused by the API key check are counted as UNAUTHENTICATED', async (t) => {
  const ts = await startTestServer({ ...withMetricsPort, apiKeys: ['metrics-test-key'] });
  t.teardown(() => ts.close());
  const { ChannelServiceClient } = await import('../gen/ts/channel/v1/channel.js');
  const bare = new ChannelServiceClient(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
  t.teardown(() => bare.close());
  await t.throwsAsync(
    new Promise((resolve, reject) => bare.createChannel({ clientId: 'x', durationMinutes: 0 }, (err, res) => (err ? reject(err) : resolve(res)))),
  );
  await ts.createChannel('m-keyed');
  const { samples } = await scrape(ts.server.metricsPort!);
  t.is(samples.get(key('channeld_grpc_calls_total', { service: SERVICE, method: 'CreateChannel', code: 'UNAUTHENTICATED' })), 1);
  t.is(samples.get(key('channeld_grpc_calls_total', { service: SERVICE, method: 'CreateChannel', code: 'OK' })), 1);
});

test('metrics - presence watchers and resumes by outcome', async (t) => {
  const ts = await startTestServer(withMetricsPort);
  t.teardown(() => ts.close());
  const port = ts.server.metricsPort!;
  const watch = ts.client.watchPresence({ clientIds: [], clientIdPrefix: '', snapshot: true, cursor: '' }, ts.metadata);
  watch.on('data', () => undefined);
  watch.on('error', () => undefined);
  await until('one presence watcher', async () => (await scrape(port)).samples.get(key('channeld_presence_watchers')) === 1);
  watch.cancel();
  await until('no presence watcher', async () => (await scrape(port)).samples.get(key('channeld_presence_watchers')) === 0);

  const receipts = ts.client.watchDeliveries({ clientIds: [], clientIdPrefix: '', includeTopics: false, cursor: '' }, ts.metadata);
  receipts.on('data', () => undefined);
  receipts.on('error', () => undefined);
  await until('one delivery watcher', async () => (await scrape(port)).samples.get(key('channeld_delivery_watchers')) === 1);
  receipts.cancel();
  await until('no delivery watcher', async () => (await scrape(port)).samples.get(key('channeld_delivery_watchers')) === 0);

  const members = ts.client.watchTopicPresence({ topic: 'gauged', snapshot: true, cursor: '' }, ts.metadata);
  members.on('data', () => undefined);
  members.on('error', () => undefined);
  await until('one topic presence watcher', async () => (await scrape(port)).samples.get(key('channeld_topic_presence_watchers')) === 1);
  members.cancel();
  await until('no topic presence watcher', async () => (await scrape(port)).samples.get(key('channeld_topic_presence_watchers')) === 0);
  const waiting = ts.client.sendMessage(
    { target: { $case: 'clientId', value: 'm-waited' }, message: 'x', idempotencyKey: '', waitForDelivery: true, deliveryTimeout: undefined },
    ts.metadata,
    () => undefined,
  );
  await until('one delivery waiter', async () => (await scrape(port)).samples.get(key('channeld_delivery_waiters')) === 1);
  waiting.cancel();
  await until('no delivery waiter', async () => (await scrape(port)).samples.get(key('channeld_delivery_waiters')) === 0);

  const { socket, token } = await connect(ts, 'm-resumer');
  await ts.send('m-resumer', 'one');
  await socket.untilMessages(1);
  const epoch = socket.welcome![1] as string;
  socket.close();
  await socket.closed;
  const resumed = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: 1 } });
  await resumed.until(() => resumed.welcome !== undefined, 'the recovered welcome');
  t.true(resumed.welcome![3] as boolean);
  resumed.close();
  await resumed.closed;
  const lost = new RawSocket(ts.wsUrl, token, { resume: { epoch: 'gone-epoch', seq: 7 } });
  await lost.until(() => lost.welcome !== undefined, 'the not-recovered welcome');
  t.false(lost.welcome![3] as boolean);
  lost.close();
  const { samples } = await scrape(port);
  t.is(samples.get(key('channeld_resumes_total', { outcome: 'recovered' })), 1);
  t.is(samples.get(key('channeld_resumes_total', { outcome: 'not_recovered' })), 1);
});

test('metrics - presence webhook queue depth and drops', async (t) => {
  // A receiver that holds every POST: notices stay queued, and the queue (1) fills.
  const held: (() => void)[] = [];
  const receiver: Server = createServer((_req, res) => held.push(() => res.writeHead(204).end()));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const release of held) release();
    receiver.closeAllConnections();
    receiver.close(() => resolve());
  }));
  const { port } = receiver.address() as { port: number };
  const ts = await startTestServer({ ...withMetricsPort, presenceWebhook: `http://127.0.0.1:${port}`, presenceWebhookQueue: 1, presenceWebhookTimeoutMs: 60_000 });
  t.teardown(() => ts.close());
  const sockets: RawSocket[] = [];
  for (const id of ['m-w1', 'm-w2', 'm-w3']) sockets.push((await connect(ts, id)).socket);
  t.teardown(() => sockets.forEach((s) => s.close()));
  await until('a drop', async () => ((await scrape(ts.server.metricsPort!)).samples.get(key('channeld_webhook_dropped_total', { reason: 'queue_full' })) ?? 0) >= 1);
  const { samples } = await scrape(ts.server.metricsPort!);
  t.is(samples.get(key('channeld_webhook_queue_depth')), 1);
  t.is(samples.get(key('channeld_webhook_dropped_total', { reason: 'retries_exhausted' })), 0);
});

test('metrics - --no-metrics turns /metrics off; the probes stay', async (t) => {
  const ts = await startTestServer({ ...withMetricsPort, metrics: false });
  t.teardown(() => ts.close());
  const port = ts.server.metricsPort!;
  t.is((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404);
  t.is((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
});

