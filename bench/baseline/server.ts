/**
 * The baseline: the same gRPC contract built the usual way — @grpc/grpc-js in, Socket.IO out, one
 * room per client id and one per topic. Only what the benchmark calls is implemented (CreateChannel,
 * SendMessage, StreamMessages, Subscribe, Broadcast); the rest answers UNIMPLEMENTED.
 *
 * Prints `{"msg":"baseline ready","grpcPort":…,"httpPort":…}` on stdout once both ports listen.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';
import {
  ChannelServiceService,
  type ChannelServiceServer,
  type SendMessageRequest,
  type SendMessageResponse,
  type SendMessageResult,
  type StreamMessagesRequest,
} from '../../gen/ts/channel/v1/channel.js';

interface ServerToClient {
  /** A channel message. */
  m: (data: string) => void;
  /** A topic message. */
  t: (topic: string, data: string) => void;
  /** The socket is connected and in its rooms. */
  w: () => void;
  /** The socket joined a topic. */
  tw: (topic: string) => void;
}

interface SocketData {
  clientId: string;
}

const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, 'grpc-port': { type: 'string', default: '0' }, 'http-port': { type: 'string', default: '0' } },
});
const host = values.host;

const tokens = new Map<string, string>();
/** Topic memberships per client id; they outlive sockets, as in channeld. */
const memberships = new Map<string, Set<string>>();
const seqs = new Map<string, number>();
const topicSeqs = new Map<string, number>();

const http = createServer();
const io = new Server<Record<string, never>, ServerToClient, Record<string, never>, SocketData>(http, {
  transports: ['websocket'],
  serveClient: false,
});

io.use((socket, next) => {
  const token: unknown = socket.handshake.auth['token'];
  const clientId = typeof token === 'string' ? tokens.get(token) : undefined;
  if (clientId === undefined) {
    next(new Error('Invalid token.'));
    return;
  }
  socket.data.clientId = clientId;
  next();
});

io.on('connection', (socket) => {
  const clientId = socket.data.clientId;
  const topics = memberships.get(clientId) ?? new Set<string>();
  void socket.join([clientId, ...topics]);
  socket.emit('w');
  for (const topic of topics) socket.emit('tw', topic);
});

function invalid(details: string): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details };
}

function unimplemented(): Partial<grpc.StatusObject> {
  return { code: grpc.status.UNIMPLEMENTED, details: 'not part of the baseline' };
}

function toResult(request: SendMessageRequest | undefined): SendMessageResult {
  const result = request === undefined ? 'request is missing' : send(request);
  return {
    result:
      typeof result === 'string'
        ? { $case: 'error', value: { code: grpc.status.INVALID_ARGUMENT, message: result } }
        : { $case: 'sent', value: result },
  };
}

function send(request: SendMessageRequest): SendMessageResponse | string {
  if (request.target?.$case !== 'clientId') return 'target: the baseline takes client_id only';
  if (request.message === '') return 'message is empty';
  const clientId = request.target.value;
  const seq = (seqs.get(clientId) ?? 0) + 1;
  seqs.set(clientId, seq);
  io.to(clientId).emit('m', request.message);
  return { seq, epoch: '', connected: io.sockets.adapter.rooms.has(clientId), delivered: false };
}

const service: ChannelServiceServer = {
  createChannel(call, callback) {
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, call.request.clientId);
    const minutes = call.request.durationMinutes || 120;
    callback(null, { token, expireTime: new Date(Date.now() + minutes * 60_000), durationMinutes: minutes });
  },
  sendMessage(call, callback) {
    const result = send(call.request);
    if (typeof result === 'string') callback(invalid(result));
    else callback(null, result);
  },
  streamMessages(call) {
    call.on('data', (request: StreamMessagesRequest) => {
      // A batch (`requests`) is the same loop a usual handler would write.
      const ok = call.write(
        request.requests.length > 0
          ? { id: request.id, result: undefined, results: request.requests.map(toResult) }
          : { id: request.id, result: toResult(request.request), results: [] },
      );
      // Honour HTTP/2 flow control: stop reading while the results cannot be written.
      if (!ok) {
        call.pause();
        call.once('drain', () => call.resume());
      }
    });
    call.on('end', () => call.end());
  },
  subscribe(call, callback) {
    const { clientIds, topic } = call.request;
    if (topic === '' || clientIds.length === 0) return callback(invalid('topic and client_ids are required'));
    let added = 0;
    for (const id of clientIds) {
      let set = memberships.get(id);
      if (set === undefined) memberships.set(id, (set = new Set()));
      if (!set.has(topic)) {
        set.add(topic);
        added++;
      }
    }
    io.in(clientIds).socketsJoin(topic);
    io.to(clientIds).emit('tw', topic);
    callback(null, { added });
  },
  broadcast(call, callback) {
    const { message, clientIds, topics } = call.request;
    if (message === '') return callback(invalid('message is empty'));
    for (const id of clientIds) send({ target: { $case: 'clientId', value: id }, message, idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined });
    const positions = topics.map((topic) => {
      const seq = (topicSeqs.get(topic) ?? 0) + 1;
      topicSeqs.set(topic, seq);
      io.to(topic).emit('t', topic, message);
      return { topic, seq, epoch: '', members: io.sockets.adapter.rooms.get(topic)?.size ?? 0 };
    });
    callback(null, { clients: clientIds.length, clientsConnected: clientIds.length, topics: positions });
  },
  sendMessages(call, callback) {
    // The batch API as a usual handler would write it: the same loop as a stream batch.
    callback(null, { results: call.request.requests.map(toResult) });
  },
  getPresence(_call, callback) {
    callback(unimplemented());
  },
  closeChannel(_call, callback) {
    callback(unimplemented());
  },
  unsubscribe(_call, callback) {
    callback(unimplemented());
  },
  watchPresence(call) {
    call.emit('error', unimplemented());
  },
  getTopicMembers(_call, callback) {
    callback(unimplemented());
  },
  countTopicMembers(_call, callback) {
    callback(unimplemented());
  },
  watchTopicPresence(call) {
    call.emit('error', unimplemented());
  },
  watchDeliveries(call) {
    call.emit('error', unimplemented());
  },
  getDelivery(_call, callback) {
    callback(unimplemented());
  },
};

const grpcServer = new grpc.Server();
grpcServer.addService(ChannelServiceService, service);
const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync(`${host}:${values['grpc-port']}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
    err ? reject(err) : resolve(port),
  ),
);
const httpPort = await new Promise<number>((resolve) =>
  http.listen(Number(values['http-port']), host, () => {
    const address = http.address();
    resolve(typeof address === 'object' && address !== null ? address.port : 0);
  }),
);
process.stdout.write(`${JSON.stringify({ msg: 'baseline ready', grpcPort, httpPort })}\n`);

const stop = (): void => {
  void io.close();
  grpcServer.forceShutdown();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
