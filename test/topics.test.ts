import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import WebSocket from 'ws';
import { rejectsWith } from './helpers/grpc.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer({ replayBufferSize: 50 });
});
test.after.always(async () => {
  await ts?.close();
});

let n = 0;
const unique = (name: string): string => `${name}-${++n}`;

test('topics - a member connected later gets a topic welcome, then broadcasts with topic seqs', async (t) => {
  const topic = unique('news');
  const id = unique('reader');
  t.deepEqual(await ts.rpc.subscribe({ clientIds: [id], topic }), { added: 1 });
  const { socket } = await connect(ts, id);
  await socket.until(() => socket.topicWelcome(topic) !== undefined, 'topic welcome');
  const sent = await ts.rpc.broadcast({ message: '{"h":1}', clientIds: [], topics: [topic] });
  t.is(sent.topics.length, 1);
  t.like(sent.topics[0], { topic, seq: 1, members: 1 });
  await socket.until(() => socket.topicMessages(topic).length === 1, 'topic message');
  t.deepEqual(socket.topicWelcome(topic), [4, topic, sent.topics[0]!.epoch, 0, true]);
  t.deepEqual(socket.topicMessages(topic), [{ seq: 1, data: '{"h":1}' }]);
  socket.close();
  await socket.closed;
});

test('topics - subscribing a live socket welcomes it at once; unsubscribing says so and stops the flow', async (t) => {
  const topic = unique('live');
  const id = unique('live-reader');
  await ts.rpc.broadcast({ message: 'before', clientIds: [], topics: [topic] });
  const { socket } = await connect(ts, id);
  await ts.rpc.subscribe({ clientIds: [id], topic });
  await socket.until(() => socket.topicWelcome(topic) !== undefined, 'topic welcome');
  t.is(socket.topicWelcome(topic)![3], 1, 'starts after what was sent before joining');
  await ts.rpc.broadcast({ message: 'after', clientIds: [], topics: [topic] });
  await socket.until(() => socket.topicMessages(topic).length === 1, 'topic message');
  t.deepEqual(await ts.rpc.unsubscribe({ clientIds: [id, 'never-joined'], topic }), { removed: 1 });
  await socket.until(() => socket.frames.some((f) => f[0] === 6 && f[1] === topic), 'topic left');
  await ts.rpc.broadcast({ message: 'gone', clientIds: [], topics: [topic] });
  // A channel message after the broadcast proves the broadcast had its chance to arrive.
  await ts.send(id, 'barrier');
  await socket.untilMessages(1);
  t.deepEqual(socket.topicMessages(topic), [{ seq: 2, data: 'after' }]);
  socket.close();
  await socket.closed;
});

test('topics - one broadcast reaches every member socket exactly once', async (t) => {
  const topic = unique('fanout');
  const ids = Array.from({ length: 100 }, (_, i) => unique(`fan${i}`));
  await ts.rpc.subscribe({ clientIds: ids, topic });
  const sockets = await Promise.all(ids.map(async (id) => (await connect(ts, id)).socket));
  await Promise.all(sockets.map((s) => s.until(() => s.topicWelcome(topic) !== undefined, 'topic welcome')));
  for (let i = 1; i <= 5; i++) await ts.rpc.broadcast({ message: `m${i}`, clientIds: [], topics: [topic] });
  await Promise.all(sockets.map((s) => s.until(() => s.topicMessages(topic).length >= 5, '5 topic messages')));
  for (const s of sockets) t.deepEqual(s.topicMessages(topic).map((m) => m.seq), [1, 2, 3, 4, 5]);
  await Promise.all(sockets.map((s) => (s.close(), s.closed)));
});

test('topics - membership survives a dropped socket and the reconnect resumes what it missed', async (t) => {
  const topic = unique('resume');
  const id = unique('resumer');
  await ts.rpc.subscribe({ clientIds: [id], topic });
  const { socket, token } = await connect(ts, id);
  await socket.until(() => socket.topicWelcome(topic) !== undefined, 'topic welcome');
  const first = await ts.rpc.broadcast({ message: 't1', clientIds: [], topics: [topic] });
  await socket.until(() => socket.topicMessages(topic).length === 1, 'first topic message');
  const epoch = socket.welcome![1] as string;
  socket.ws.terminate();
  await socket.closed;
  await ts.rpc.broadcast({ message: 't2', clientIds: [], topics: [topic] });
  await ts.rpc.broadcast({ message: 't3', clientIds: [], topics: [topic] });
  const again = new RawSocket(ts.wsUrl, token, { resume: { epoch, seq: 0 }, topics: [[topic, first.topics[0]!.epoch, 1]] });
  await again.until(() => again.topicMessages(topic).length === 2, 'missed topic messages');
  t.deepEqual(again.topicWelcome(topic), [4, topic, first.topics[0]!.epoch, 1, true]);
  t.deepEqual(again.topicMessages(topic), [
    { seq: 2, data: 't2' },
    { seq: 3, data: 't3' },
  ]);
  again.close();
  await again.closed;
});

test('topics - a fresh open starts each topic after the last acknowledged seq', async (t) => {
  const topic = unique('acked');
  const id = unique('acker');
  await ts.rpc.subscribe({ clientIds: [id], topic });
  const { socket, token } = await connect(ts, id);
  await socket.until(() => socket.topicWelcome(topic) !== undefined, 'topic welcome');
  await ts.rpc.broadcast({ message: 'a1', clientIds: [], topics: [topic] });
  await ts.rpc.broadcast({ message: 'a2', clientIds: [], topics: [topic] });
  await socket.until(() => socket.topicMessages(topic).length === 2, 'two topic messages');
  socket.ws.send(JSON.stringify([3, 1, topic]));
  socket.close();
  await socket.closed;
  const fresh = new RawSocket(ts.wsUrl, token);
  await fresh.until(() => fresh.topicMessages(topic).length === 1, 'the unacknowledged one');
  t.is(fresh.topicWelcome(topic)![3], 1);
  t.deepEqual(fresh.topicMessages(topic), [{ seq: 2, data: 'a2' }]);
  fresh.close();
  await fresh.closed;
});

test('topics - a topic resume frame that was not announced is a protocol error', async (t) => {
  const { socket } = await connect(ts, unique('rogue'));
  socket.ws.send(JSON.stringify([5, [['x', 'e', 1]]]));
  t.deepEqual(await socket.closed, { code: 4504, reason: 'Protocol+error.' });
});

test('broadcast - to client ids, each gets the message in its own channel', async (t) => {
  const ids = [unique('b1'), unique('b2'), unique('b3')];
  const { socket } = await connect(ts, ids[0]!);
  await ts.send(ids[0]!, 'earlier');
  const result = await ts.rpc.broadcast({ message: 'to all', clientIds: [...ids, ids[0]!], topics: [] });
  t.deepEqual(result, { clients: 3, clientsConnected: 1, topics: [] });
  await socket.untilMessages(2);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'earlier' },
    { seq: 2, data: 'to all' },
  ]);
  const later = await connect(ts, ids[1]!);
  await later.socket.untilMessages(1);
  t.deepEqual(later.socket.messages, [{ seq: 1, data: 'to all' }]);
  socket.close();
  later.socket.close();
});

test('broadcast - limits and bad input are INVALID_ARGUMENT naming the field', async (t) => {
  await rejectsWith(t, ts.rpc.broadcast({ message: 'x', clientIds: [], topics: [] }), grpc.status.INVALID_ARGUMENT, 'client_ids and topics are both empty');
  await rejectsWith(t, ts.rpc.broadcast({ message: '', clientIds: ['a'], topics: [] }), grpc.status.INVALID_ARGUMENT, 'message is empty');
  await rejectsWith(t, ts.rpc.broadcast({ message: 'x', clientIds: [], topics: ['bad topic'] }), grpc.status.INVALID_ARGUMENT, 'topics[0]', 'may hold only');
  await rejectsWith(t, ts.rpc.broadcast({ message: 'x', clientIds: [], topics: ['t'.repeat(129)] }), grpc.status.INVALID_ARGUMENT, 'topics[0] is 129 bytes; the limit is 128');
  const manyTopics = Array.from({ length: 101 }, (_, i) => `t${i}`);
  await rejectsWith(t, ts.rpc.broadcast({ message: 'x', clientIds: [], topics: manyTopics }), grpc.status.INVALID_ARGUMENT, 'topics has 101 items; it must have 0 to 100');
  const manyIds = Array.from({ length: 10_001 }, (_, i) => `c${i}`);
  await rejectsWith(t, ts.rpc.broadcast({ message: 'x', clientIds: manyIds, topics: [] }), grpc.status.INVALID_ARGUMENT, 'client_ids has 10001 items; it must have 0 to 10000');
  await rejectsWith(t, ts.rpc.broadcast({ message: 'x', clientIds: ['ok', ''], topics: [] }), grpc.status.INVALID_ARGUMENT, 'client_ids[1] is empty');
});

test('subscribe - limits: topic name, empty list, and 64 topics per client id', async (t) => {
  await rejectsWith(t, ts.rpc.subscribe({ clientIds: ['a'], topic: '' }), grpc.status.INVALID_ARGUMENT, 'topic is empty');
  await rejectsWith(t, ts.rpc.subscribe({ clientIds: [], topic: 'ok' }), grpc.status.INVALID_ARGUMENT, 'client_ids has 0 items');
  await rejectsWith(t, ts.rpc.unsubscribe({ clientIds: ['a'], topic: 'no spaces' }), grpc.status.INVALID_ARGUMENT, 'topic', 'may hold only');
  const id = unique('collector');
  for (let i = 0; i < 64; i++) await ts.rpc.subscribe({ clientIds: [id], topic: `many-${i}` });
  await rejectsWith(t, ts.rpc.subscribe({ clientIds: [id], topic: 'one-too-many' }), grpc.status.FAILED_PRECONDITION, 'already in 64 topics; the limit is 64');
  t.deepEqual(await ts.rpc.subscribe({ clientIds: [id], topic: 'many-0' }), { added: 0 }, 'rejoining an existing topic is fine');
});

test('topics - a second topic resume frame is a protocol error', async (t) => {
  const id = unique('twice-resumed');
  const { token } = await ts.createChannel(id);
  const socket = new RawSocket(ts.wsUrl, token, { topics: [['x', 'e', 1]] });
  await socket.until(() => socket.welcome !== undefined, 'welcome');
  socket.ws.send(JSON.stringify([5, [['x', 'e', 2]]]));
  t.deepEqual(await socket.closed, { code: 4504, reason: 'Protocol+error.' });
});

test('topics - an announced resume must come before any other frame', async (t) => {
  const { token } = await ts.createChannel(unique('ack-first'));
  const ws = new WebSocket(`${ts.wsUrl}?topics=1`, ['channeld.v1', `token.${token}`]);
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify([3, 0]));
  const [code] = (await once(ws, 'close')) as [number];
  t.is(code, 4504);
});

test('topics - a topics query other than 1 is refused with 400', async (t) => {
  const { token } = await ts.createChannel(unique('bad-query'));
  const ws = new WebSocket(`${ts.wsUrl}?topics=2`, ['channeld.v1', `token.${token}`]);
  const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  t.is(status, 400);
});
