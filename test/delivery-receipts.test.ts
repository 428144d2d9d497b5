import * as grpc from '@grpc/grpc-js';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import type {
  ChannelServiceClient,
  DeliveryEvent,
  SendMessageRequest,
  SendMessageResponse,
  WatchDeliveriesRequest,
  WatchDeliveriesResponse,
  GetDeliveryResponse,
  GetDeliveryRequest,
} from '../gen/ts/channel/v1/channel.js';
import { brief, PresenceStream, rejectsWith, toClient } from './helpers/grpc.js';
import { NodeClient } from './helpers/node-client.js';
import { Redis } from 'ioredis';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { startRedisNode } from './helpers/redis-nodes.js';
import { connect, promisify, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';
import { Signal } from './helpers/wait.js';
import type { ServerOptions } from '../src/server.js';
import type { DeliveryItem, DeliverySink } from '../src/core/delivery-bus.js';
import type { ChannelError } from '../src/core/errors.js';

// Delivery receipts (WatchDeliveries, GetDelivery, SendMessage wait_for_delivery) end to end:
// real gRPC calls, real sockets acknowledging what they got, on the memory engine and on two
// nodes over a real Redis (the socket on one node, the backend on the other).

interface Cluster {
  /** Where the backend calls. */
  readonly api: TestServer;
  /** Where the sockets connect. */
  readonly gateway: TestServer;
  close(): Promise<void>;
}

interface Context {
  redis: TestRedis | undefined;
}
const test = anyTest as TestFn<Context>;
const redisHere = redisAvailability();

if (!redisHere.run && redisHere.fail) test('delivery receipts - redis-server is installed (CI=true)', (t) => t.fail(redisHere.why));
else if (!redisHere.run) console.warn(`\n!!! SKIPPING the Redis half of the delivery receipt tests: ${redisHere.why} !!!\n`);

test.before(async (t) => {
  t.context.redis = redisHere.run ? await TestRedis.start() : undefined;
});
test.after.always(async (t) => {
  await t.context.redis?.stop();
});

let prefixes = 0;
const ENGINES: [string, (t: ExecutionContext<Context>, options: ServerOptions) => Promise<Cluster>][] = [
  [
    'memory',
    async (_t, options) => {
      const one = await startTestServer(options);
      return { api: one, gateway: one, close: () => one.close() };
    },
  ],
  [
    'redis, two nodes',
    async (t, options) => {
      const prefix = `receipts-${++prefixes}`;
      const [api, gateway] = await Promise.all([startRedisNode(t.context.redis!, prefix, options), startRedisNode(t.context.redis!, prefix, options)]);
      return { api: api!, gateway: gateway!, close: async () => void (await Promise.all([api!.close(), gateway!.close()])) };
    },
  ],
];

/** Registers `body` once per engine; the Redis one is skipped (or fails, in CI) without redis-server. */
function each(name: string, body: (t: ExecutionContext<Context>, c: Cluster) => Promise<void>, options: ServerOptions = {}): void {
  for (const [engine, start] of ENGINES) {
    const run = engine === 'memory' || redisHere.run ? test : test.skip;
    run(`${engine} - ${name}`, async (t) => {
      const cluster = await start(t, options);
      try {
        await body(t, cluster);
      } finally {
        await cluster.close();
      }
    });
  }
}

/** One WatchDeliveries stream: records every response and how the stream ended. */
class DeliveryStream {
  readonly responses: WatchDeliveriesResponse[] = [];
  readonly call: grpc.ClientReadableStream<WatchDeliveriesResponse>;
  error: grpc.ServiceError | undefined;
  ended = false;
  private readonly signal = new Signal();

  constructor(client: ChannelServiceClient, request: Partial<WatchDeliveriesRequest> = {}) {
    this.call = client.watchDeliveries({ clientIds: [], clientIdPrefix: '', includeTopics: false, cursor: '', ...request });
    this.call.on('data', (response: WatchDeliveriesResponse) => {
      this.responses.push(response);
      this.signal.notify();
    });
    this.call.on('error', (err: grpc.ServiceError) => {
      this.error = err;
      this.ended = true;
      this.signal.notify();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.signal.notify();
    });
  }

  get started(): { cursor: string; resumeFailed: boolean } | undefined {
    const first = this.responses[0]?.kind;
    return first?.$case === 'started' ? first.value : undefined;
  }

  get events(): DeliveryEvent[] {
    return this.responses.flatMap((r) => (r.kind?.$case === 'event' ? [r.kind.value] : []));
  }

  seqsOf(clientId: string): number[] {
    return this.events.filter((e) => e.clientId === clientId && e.topic === '').map((e) => e.seq);
  }

  until(predicate: () => boolean, what: string): Promise<void> {
    return this.signal.until(predicate, what, () => `got ${JSON.stringify(this.responses)}, error: ${this.error?.message ?? 'none'}`);
  }

  untilStarted(): Promise<void> {
    return this.until(() => this.started !== undefined || this.ended, 'the started message');
  }

  cancel(): void {
    this.call.cancel();
  }
}

function getDelivery(ts: TestServer, clientIds: string[]): Promise<GetDeliveryResponse> {
  return promisify<GetDeliveryRequest, GetDeliveryResponse>(ts.client.getDelivery, ts.client, ts.metadata)({ clientIds });
}

function waiting(clientId: string, message: string, timeoutMs?: number): SendMessageRequest {
  const deliveryTimeout = timeoutMs === undefined ? undefined : { seconds: Math.floor(timeoutMs / 1000), nanos: (timeoutMs % 1000) * 1e6 };
  return { ...toClient(clientId, message), waitForDelivery: true, deliveryTimeout };
}

function sendWith(ts: TestServer, request: SendMessageRequest, options: Partial<grpc.CallOptions> = {}): Promise<SendMessageResponse> {
  return new Promise((resolve, reject) =>
    ts.client.sendMessage(request, ts.metadata, options, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

/** Acknowledges every channel message as it arrives, the way the browser client does. */
function ackEverything(socket: RawSocket): void {
  socket.ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as unknown[];
    if (frame[0] === 1) socket.ack(frame[1] as number);
  });
}

async function ackedSeq(ts: TestServer, clientId: string): Promise<number> {
  return (await getDelivery(ts, [clientId])).clients[0]!.ackedSeq;
}

/** Resolves once `check` holds, asking every 20 ms, for state that has no event to wait on. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

each('GetDelivery says what was sent and what the socket acknowledged, per client id in order', async (t, c) => {
  const { socket } = await connect(c.gateway, 'gd-alice');
  for (const text of ['one', 'two', 'three']) await c.api.send('gd-alice', text);
  await socket.untilMessages(3);
  socket.ack(2);
  await eventually(async () => (await ackedSeq(c.api, 'gd-alice')) === 2, 'the acknowledgement to be recorded');
  const answer = await getDelivery(c.api, ['gd-alice', 'gd-nobody']);
  t.like(answer.clients[0], { clientId: 'gd-alice', ackedSeq: 2, lastSeq: 3, connected: true });
  t.true(answer.clients[0]!.epoch.length > 0);
  t.deepEqual(answer.clients[1], { clientId: 'gd-nobody', epoch: '', ackedSeq: 0, lastSeq: 0, connected: false });
  socket.close();
});

test('GetDelivery refuses what it cannot answer, naming the field and the limit', async (t) => {
  const ts = await startTestServer();
  try {
    await rejectsWith(t, getDelivery(ts, []), grpc.status.INVALID_ARGUMENT, 'client_ids has 0 items; it must have 1 to 1000');
    await rejectsWith(t, getDelivery(ts, Array.from({ length: 1001 }, (_, i) => `c${i}`)), grpc.status.INVALID_ARGUMENT, 'client_ids has 1001 items');
    await rejectsWith(t, getDelivery(ts, ['ok', 'x'.repeat(257)]), grpc.status.INVALID_ARGUMENT, 'client_ids[1] is 257 bytes');
  } finally {
    await ts.close();
  }
});

each('WatchDeliveries starts with where it starts, then streams each advance; it resumes from a cursor and says when it cannot', async (t, c) => {
  const watch = new DeliveryStream(c.api.client, { clientIds: ['wd-alice'] });
  await watch.untilStarted();
  t.false(watch.started!.resumeFailed);
  const { socket } = await connect(c.gateway, 'wd-alice');
  const other = await connect(c.gateway, 'wd-bob');
  for (let i = 1; i <= 3; i++) {
    await c.api.send('wd-alice', `a${i}`);
    await c.api.send('wd-bob', `b${i}`);
  }
  await socket.untilMessages(3);
  await other.socket.untilMessages(3);
  socket.ack(1);
  other.socket.ack(3);
  await watch.until(() => watch.events.length >= 1, 'the first receipt');
  const first = watch.events[0]!;
  t.like(first, { clientId: 'wd-alice', seq: 1, topic: '' });
  t.true(first.cursor.length > 0 && first.time instanceof Date);
  // Past the receipt interval (100 ms), so this one is not folded into the first.
  await new Promise((resolve) => setTimeout(resolve, 150));
  socket.ack(3);
  await watch.until(() => watch.seqsOf('wd-alice').includes(3), 'the second receipt');
  t.deepEqual(watch.seqsOf('wd-alice'), [1, 3]);
  t.deepEqual(watch.events.filter((e) => e.clientId !== 'wd-alice'), [], 'the filter keeps other client ids out');

  const resumed = new DeliveryStream(c.api.client, { clientIds: ['wd-alice'], cursor: first.cursor });
  await resumed.until(() => resumed.events.length >= 1, 'the replayed receipt');
  t.deepEqual(resumed.started, { cursor: first.cursor, resumeFailed: false });
  t.deepEqual(resumed.seqsOf('wd-alice'), [3], 'only what came after the cursor');

  const lost = new DeliveryStream(c.api.client, { cursor: 'a-cursor-from-another-server' });
  await lost.untilStarted();
  t.true(lost.started!.resumeFailed, 'an unknown cursor is said to be lost, never silently skipped');
  for (const w of [watch, resumed, lost]) w.cancel();
  socket.close();
  other.socket.close();
});

each('WatchDeliveries coalesces a flood of acknowledgements to one receipt per interval, the first at once', async (t, c) => {
  const watch = new DeliveryStream(c.api.client, { clientIds: ['co-alice'] });
  await watch.untilStarted();
  const { socket } = await connect(c.gateway, 'co-alice');
  for (let i = 1; i <= 20; i++) await c.api.send('co-alice', `m${i}`);
  await socket.untilMessages(20);
  for (let seq = 1; seq <= 20; seq++) socket.ack(seq);
  await watch.until(() => watch.seqsOf('co-alice').includes(20), 'the receipt of the last seq');
  await new Promise((resolve) => setTimeout(resolve, 700));
  const seqs = watch.seqsOf('co-alice');
  t.true(seqs.length <= 3, `20 acknowledgements inside ~2 intervals gave ${seqs.length} receipts: ${seqs.join(', ')}`);
  t.is(seqs[0], 1, 'the first after a quiet spell goes out at once');
  t.is(seqs.at(-1), 20);
  t.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'in order');
  watch.cancel();
  socket.close();
}, { receiptIntervalMs: 300 });

each('topic acknowledgements are receipts only for watchers that ask for them', async (t, c) => {
  const all = new DeliveryStream(c.api.client, { clientIds: ['tp-alice'], includeTopics: true });
  const channelOnly = new DeliveryStream(c.api.client, { clientIds: ['tp-alice'] });
  await all.untilStarted();
  await channelOnly.untilStarted();
  await c.api.rpc.subscribe({ clientIds: ['tp-alice'], topic: 'tp-news' });
  const { socket } = await connect(c.gateway, 'tp-alice');
  await socket.until(() => socket.topicWelcome('tp-news') !== undefined, 'the topic welcome');
  const posted = await c.api.rpc.broadcast({ message: 'headline', clientIds: [], topics: ['tp-news'] });
  await socket.until(() => socket.topicMessages('tp-news').length === 1, 'the topic message');
  socket.ws.send(JSON.stringify([3, 1, 'tp-news']));
  await all.until(() => all.events.length >= 1, 'the topic receipt');
  t.like(all.events[0], { clientId: 'tp-alice', topic: 'tp-news', seq: 1, epoch: posted.topics[0]!.epoch });
  await c.api.send('tp-alice', 'direct');
  await socket.untilMessages(1);
  socket.ack(1);
  await channelOnly.until(() => channelOnly.events.length >= 1, 'the channel receipt');
  t.deepEqual(channelOnly.events.map((e) => [e.topic, e.seq]), [['', 1]], 'no topic receipt without include_topics');
  all.cancel();
  channelOnly.cancel();
  socket.close();
});

each('a receipt never claims a seq the socket was not sent: acknowledgements past it are ignored, malformed ones close the socket (4504)', async (t, c) => {
  const watch = new DeliveryStream(c.api.client, { clientIds: ['hx-alice'] });
  await watch.untilStarted();
  const { socket, token } = await connect(c.gateway, 'hx-alice');
  await c.api.send('hx-alice', 'one');
  await socket.untilMessages(1);
  socket.ack(999);
  socket.ws.send(JSON.stringify([3, 1, 'not-a-member-topic']));
  await c.api.send('hx-alice', 'two');
  await socket.untilMessages(2);
  socket.ack(1);
  await watch.until(() => watch.events.length >= 1, 'the honest receipt');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.deepEqual(watch.seqsOf('hx-alice'), [1], 'seq 999 was never sent, so it is never receipted');
  t.is(await ackedSeq(c.api, 'hx-alice'), 1);
  socket.ws.send('[3, "seven"]');
  t.is((await socket.closed).code, 4504);
  // The client id is still served: a new socket gets what was not acknowledged.
  const again = new RawSocket(c.gateway.wsUrl, token);
  await again.untilMessages(1);
  t.deepEqual(again.messages.map((m) => m.seq), [2]);
  again.close();
  watch.cancel();
});

each('a dropped socket that resumes acknowledges the replayed seqs, and each advance is one receipt, in order, none twice', async (t, c) => {
  const watch = new DeliveryStream(c.api.client, { clientIds: ['rs-alice'] });
  await watch.untilStarted();
  const { socket, token } = await connect(c.gateway, 'rs-alice');
  for (let i = 1; i <= 5; i++) await c.api.send('rs-alice', `m${i}`);
  await socket.untilMessages(5);
  socket.ack(2);
  await watch.until(() => watch.seqsOf('rs-alice').includes(2), 'the receipt of seq 2');
  const epoch = socket.welcome![1] as string;
  socket.ws.terminate();
  await socket.closed;
  // It resumes from seq 1 (it lost what it had after that): 2..5 are replayed and acknowledged.
  const resumed = new RawSocket(c.gateway.wsUrl, token, { resume: { epoch, seq: 1 } });
  ackEverything(resumed);
  await resumed.untilMessages(4);
  await watch.until(() => watch.seqsOf('rs-alice').includes(5), 'the receipt of seq 5');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const seqs = watch.seqsOf('rs-alice');
  t.is(seqs[0], 2);
  t.is(seqs.at(-1), 5);
  t.deepEqual([...new Set(seqs)], seqs, 'no seq twice');
  t.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'in order');
  t.true(seqs.every((s) => s <= 5), 'never beyond what was sent');
  resumed.close();
  watch.cancel();
});

each('the bundled client acknowledges what it got: receipts follow its own log and never run ahead of it', async (t, c) => {
  const watch = new DeliveryStream(c.api.client, { clientIds: ['nc-alice'] });
  await watch.untilStarted();
  const { token } = await c.api.createChannel('nc-alice');
  const client = await NodeClient.open(token, `http://127.0.0.1:${c.gateway.server.httpPort}`);
  try {
    await client.until(() => client.has('open'), 'open');
    for (let i = 1; i <= 30; i++) await c.api.send('nc-alice', `m${i}`);
    await client.until(() => client.events.filter((e) => e.type === 'message').length === 30, '30 messages');
    await watch.until(() => watch.seqsOf('nc-alice').includes(30), 'the receipt of seq 30');
    const got = client.events.filter((e) => e.type === 'message').map((e) => e.data);
    t.deepEqual(got, Array.from({ length: 30 }, (_, i) => `m${i + 1}`));
    const seqs = watch.seqsOf('nc-alice');
    t.true(seqs.every((s) => s >= 1 && s <= got.length), `receipts ${seqs.join(',')} within the client's ${got.length} messages`);
    t.deepEqual([...seqs].sort((a, b) => a - b), seqs);
  } finally {
    client.close();
    watch.cancel();
  }
});

each('wait_for_delivery answers once the browser acknowledged the message', async (t, c) => {
  const { socket } = await connect(c.gateway, 'wf-alice');
  ackEverything(socket);
  const sent = await sendWith(c.api, waiting('wf-alice', 'hello', 30_000));
  t.like(sent, { seq: 1, connected: true, delivered: true });
  t.is(await ackedSeq(c.api, 'wf-alice'), 1);
  const plain = await c.api.send('wf-alice', 'no wait');
  t.false(plain.delivered, 'a send that does not wait says nothing about delivery');
  socket.close();
});

each('wait_for_delivery says DEADLINE_EXCEEDED with what is known when the browser does not acknowledge in time', async (t, c) => {
  const offline = await rejectsWith(t, sendWith(c.api, waiting('wt-nobody', 'hello', 300)), grpc.status.DEADLINE_EXCEEDED);
  t.is(offline.details, 'seq 1 of epoch "' + offline.details.split('"')[1] + '" was not acknowledged within 300 ms; the client is not connected and has acknowledged up to seq 0');
  const { socket } = await connect(c.gateway, 'wt-alice');
  await rejectsWith(t, sendWith(c.api, waiting('wt-alice', 'unread', 300)), grpc.status.DEADLINE_EXCEEDED, 'the client is connected and has acknowledged up to seq 0');
  t.is(socket.messages.length, 1, 'the message was sent all the same');
  // The call's own deadline, when sooner, bounds the wait: the answer still comes from the server.
  const started = Date.now();
  const bounded = await rejectsWith(t, sendWith(c.api, waiting('wt-alice', 'short deadline'), { deadline: Date.now() + 3000 }), grpc.status.DEADLINE_EXCEEDED);
  t.true(bounded.details.includes('was not acknowledged within'), `the server answers before the caller gives up: ${bounded.details}`);
  t.true(Date.now() - started < 10_000, 'well before the 10 s default timeout');
  socket.close();
});

each('wait_for_delivery ends ABORTED when CloseChannel starts a new epoch before the acknowledgement', async (t, c) => {
  const { socket } = await connect(c.gateway, 'wa-alice');
  const waited = sendWith(c.api, waiting('wa-alice', 'doomed', 60_000));
  await socket.untilMessages(1);
  await c.api.rpc.closeChannel({ clientId: 'wa-alice' });
  await rejectsWith(t, waited, grpc.status.ABORTED, 'the channel started a new epoch before seq 1', 'whether the browser got it is unknown');
});

test('wait_for_delivery: bad timeouts, batch items that wait, and the node limit are refused clearly; nothing is sent then', async (t) => {
  const ts = await startTestServer({ maxDeliveryWaiters: 1 });
  try {
    await rejectsWith(t, sendWith(ts, { ...waiting('wl-a', 'x'), deliveryTimeout: { seconds: 0, nanos: 0 } }), grpc.status.INVALID_ARGUMENT, 'delivery_timeout is 0 ms; it must be 1 ms to 300 s');
    await rejectsWith(t, sendWith(ts, waiting('wl-a', 'x', 301_000)), grpc.status.INVALID_ARGUMENT, 'delivery_timeout is 301000 ms');
    await rejectsWith(t, sendWith(ts, { ...waiting('wl-a', 'x', 1000), deliveryTimeout: { seconds: -1, nanos: 0 } }), grpc.status.INVALID_ARGUMENT, 'delivery_timeout is -1000 ms');
    await rejectsWith(t, sendWith(ts, { ...toClient('wl-a', 'x'), deliveryTimeout: { seconds: 1, nanos: 0 } }), grpc.status.INVALID_ARGUMENT, 'delivery_timeout is set without wait_for_delivery');
    const batch = await ts.rpc.sendMessages({ requests: [toClient('wl-a', 'fine'), waiting('wl-a', 'waits')] });
    t.is(batch.results[0]?.result?.$case, 'sent');
    t.deepEqual(batch.results[1]?.result, {
      $case: 'error',
      value: { code: grpc.status.INVALID_ARGUMENT, message: 'requests[1]: wait_for_delivery is for SendMessage only; a batch or stream item cannot wait' },
    });
    t.is((await getDelivery(ts, ['wl-a'])).clients[0]!.lastSeq, 1, 'the refused items were not sent');

    const holding = ts.client.sendMessage(waiting('wl-b', 'held', 60_000), ts.metadata, () => {});
    await eventually(() => ts.server.hub.deliveries.waiterCount === 1, 'the first wait to be held');
    await rejectsWith(t, sendWith(ts, waiting('wl-c', 'over the limit', 1000)), grpc.status.RESOURCE_EXHAUSTED, '1 SendMessage calls already wait for delivery on this node; the limit is 1 (--max-delivery-waiters)');
    t.is((await getDelivery(ts, ['wl-c'])).clients[0]!.lastSeq, 0, 'a refused wait sends nothing');
    holding.cancel();
  } finally {
    await ts.close();
  }
});

test('wait_for_delivery: a caller that cancels frees its place under the node limit', async (t) => {
  const ts = await startTestServer({ maxDeliveryWaiters: 1 });
  try {
    const call = ts.client.sendMessage(waiting('wc-a', 'cancelled', 60_000), ts.metadata, () => {});
    await eventually(() => ts.server.hub.deliveries.waiterCount === 1, 'the wait to be held');
    call.cancel();
    await eventually(() => ts.server.hub.deliveries.waiterCount === 0, 'the cancelled wait to be let go');
    const { socket } = await connect(ts, 'wc-b');
    ackEverything(socket);
    t.true((await sendWith(ts, waiting('wc-b', 'after', 30_000))).delivered);
    socket.close();
  } finally {
    await ts.close();
  }
});

each('a receipt watcher that never drains is cut off with RESOURCE_EXHAUSTED and its cursor; receipts and sockets go on', async (t, c) => {
  const written: DeliveryItem[] = [];
  let ended: (error: ChannelError | undefined) => void = () => undefined;
  const end = new Promise<ChannelError | undefined>((resolve) => (ended = resolve));
  const sink: DeliverySink = {
    write: (item) => {
      written.push(item);
      return false; // the transport's buffer is full, and stays full
    },
    onDrain: () => undefined,
    end: (error) => ended(error),
  };
  const watcher = await c.api.server.hub.api.watchDeliveries({ filter: { clientIds: new Set(['sl-alice']), prefix: '' }, includeTopics: false, cursor: '' }, sink);
  const { socket } = await connect(c.gateway, 'sl-alice');
  ackEverything(socket);
  // The started item is written; three receipts wait in the queue; the fourth is one too many.
  for (let i = 1; i <= 5; i++) {
    await c.api.send('sl-alice', `m${i}`);
    await eventually(async () => (await ackedSeq(c.api, 'sl-alice')) === i, `the acknowledgement of seq ${i}`);
  }
  const error = await end;
  t.is(error?.code, 'resource-exhausted');
  const started = written[0]?.kind === 'started' ? written[0].cursor : 'none';
  t.is(error?.message, `delivery watcher fell 3 events behind and was cut off; resume with cursor "${started}"`);
  t.is(written.length, 1, 'nothing is written after write() said false');
  t.true(watcher.isEnded);
  t.is(c.api.server.hub.deliveries.watcherCount, 0, 'the node forgets the watcher once it is cut off');
  await c.api.send('sl-alice', 'after');
  await socket.untilMessages(6);
  socket.close();
}, { presenceWatcherQueue: 3, receiptIntervalMs: 0 });

(redisHere.run ? test : test.skip)('redis - after Redis restarts without its data, receipt watchers end with their cursor (resume says resume_failed) and waiting sends end ABORTED', async (t) => {
  // A Redis of its own: the restart would disturb the other tests' cluster.
  const redis = await TestRedis.start();
  const [a, b] = await Promise.all([startRedisNode(redis, 'restart'), startRedisNode(redis, 'restart')]);
  try {
    const watch = new DeliveryStream(a!.client, { clientIds: ['rr-alice'] });
    await watch.untilStarted();
    const { socket, token } = await connect(b!, 'rr-alice');
    ackEverything(socket);
    await a!.send('rr-alice', 'before');
    await watch.until(() => watch.seqsOf('rr-alice').includes(1), 'the receipt before the restart');
    const cursor = watch.events.at(-1)!.cursor;
    const waited = sendWith(a!, waiting('rr-nobody', 'never read', 60_000));
    await eventually(() => a!.server.hub.deliveries.waiterCount === 1, 'the wait to be held');
    socket.ws.terminate();
    await redis.restart();
    await watch.until(() => watch.ended, 'the watch to end');
    t.is(watch.error?.code, grpc.status.UNAVAILABLE);
    t.true(watch.error!.details.includes(`resume with cursor "${cursor}"`), watch.error!.details);
    await rejectsWith(t, waited, grpc.status.ABORTED, 'the channel started a new epoch before seq 1');
    // Resumed from its cursor: the receipts after it are gone with the data, and it says so.
    const resumed = new DeliveryStream(a!.client, { clientIds: ['rr-alice'] });
    const lost = new DeliveryStream(a!.client, { clientIds: ['rr-alice'], cursor });
    await lost.untilStarted();
    t.true(lost.started!.resumeFailed);
    await resumed.untilStarted();
    const again = new RawSocket(b!.wsUrl, token);
    ackEverything(again);
    await again.until(() => again.welcome !== undefined, 'a socket after the restart');
    await a!.send('rr-alice', 'after');
    await resumed.until(() => resumed.events.length >= 1, 'a receipt after the restart');
    t.is(resumed.events[0]!.seq, 1, 'a new epoch after the restart: its first message is seq 1');
    for (const w of [resumed, lost]) w.cancel();
    again.close();
  } finally {
    await Promise.all([a!.close(), b!.close()]);
    await redis.dispose();
  }
});

const raceTest = redisHere.run ? test.serial : test.skip;
const RUNS = Number(process.env['CHANNELD_RACE_RUNS'] ?? 60);

raceTest(`redis - a SendMessage waiting on one node while the socket opens on the other is answered delivered, ${RUNS} times`, async (t) => {
  const prefix = `receipts-race-${++prefixes}`;
  const [a, b] = await Promise.all([startRedisNode(t.context.redis!, prefix), startRedisNode(t.context.redis!, prefix)]);
  try {
    const bad: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const clientId = `race-${run}`;
      const { token } = await a!.createChannel(clientId);
      const waited = sendWith(a!, waiting(clientId, `m${run}`, 30_000)).then(
        (r) => (r.delivered && r.seq === 1 ? undefined : `run ${run}: ${JSON.stringify(r)}`),
        (err: Error) => `run ${run}: ${err.message}`,
      );
      // Spread the open over the window in which the send and its wait are set up.
      await new Promise((resolve) => setTimeout(resolve, run % 5));
      const socket = new RawSocket(b!.wsUrl, token);
      ackEverything(socket);
      const outcome = await waited;
      if (outcome !== undefined) bad.push(outcome);
      socket.close();
    }
    t.deepEqual(bad, []);
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

raceTest('redis - receipts and presence changes made while a node was cut off from its Redis feed reach its watchers once, in order, without ending them', async (t) => {
  const prefix = `receipts-cut-${++prefixes}`;
  const [a, b] = await Promise.all([startRedisNode(t.context.redis!, prefix), startRedisNode(t.context.redis!, prefix)]);
  try {
    const watch = new DeliveryStream(a!.client, { clientIds: ['cut-alice'] });
    const presence = new PresenceStream(a!.client, { clientIds: ['cut-bob'] });
    await watch.untilStarted();
    const { socket } = await connect(b!, 'cut-alice');
    ackEverything(socket);
    await b!.send('cut-alice', 'before');
    await watch.until(() => watch.seqsOf('cut-alice').includes(1), 'the first receipt');
    const admin = new Redis(t.context.redis!.url);
    let bob: RawSocket | undefined;
    try {
      // Every node's pub/sub connection is cut; what happens before they are back is not heard live.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await b!.send('cut-alice', 'while cut');
      bob = (await connect(b!, 'cut-bob')).socket;
    } finally {
      admin.disconnect();
    }
    await watch.until(() => watch.seqsOf('cut-alice').includes(2), 'the receipt made while cut');
    await presence.untilEventsFor('cut-bob', 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.deepEqual(watch.seqsOf('cut-alice'), [1, 2], 'each receipt once');
    t.false(watch.ended, `the receipt watch goes on (${watch.error?.message ?? ''})`);
    t.deepEqual(brief(presence.eventsFor('cut-bob')), [['cut-bob', 'CONNECTED', 'SOCKET_OPENED']], 'the presence change once');
    t.false(presence.ended, `the presence watch goes on (${presence.error?.message ?? ''})`);
    watch.cancel();
    presence.cancel();
    socket.close();
    bob?.close();
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});
