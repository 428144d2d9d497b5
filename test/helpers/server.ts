import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import {
  ChannelServiceClient,
  type ChannelServiceClient as Client,
  type CreateChannelRequest,
  type CreateChannelResponse,
  type SendMessageRequest,
  type SendMessageResponse,
} from '../../gen/ts/channel/v1/channel.js';
import { rpcFor, type Rpc } from './grpc.js';
import { RawSocket } from './socket.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

export interface TestServer {
  readonly server: RunningServer;
  readonly client: Client;
  readonly wsUrl: string;
  readonly httpUrl: string;
  /** The metadata every call of `client` needs (the API key, when the server has any). */
  readonly metadata: grpc.Metadata;
  /** Every unary RPC as a promise, with `metadata`. */
  readonly rpc: Rpc;
  createChannel(clientId: string, durationMinutes?: number): Promise<CreateChannelResponse>;
  send(clientId: string, message: string): Promise<SendMessageResponse>;
  close(): Promise<void>;
}

export const silentLogger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

export function promisify<Req, Res>(
  fn: (req: Req, metadata: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  client: Client,
  metadata = new grpc.Metadata(),
): (req: Req) => Promise<Res> {
  return (req) => new Promise((resolve, reject) => fn.call(client, req, metadata, (err, res) => (err ? reject(err) : resolve(res))));
}

/** A channeld node on free ports with a real gRPC client, for one test file. */
export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = await startServer({
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    httpHost: '127.0.0.1',
    httpPort: 0,
    logger: silentLogger,
    shutdownGraceMs: 2000,
    ...options,
  });
  const client = new ChannelServiceClient(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (server.config.apiKeys.length > 0) metadata.set('authorization', `Bearer ${server.config.apiKeys[0]}`);
  const create = promisify<CreateChannelRequest, CreateChannelResponse>(client.createChannel, client, metadata);
  const send = promisify<SendMessageRequest, SendMessageResponse>(client.sendMessage, client, metadata);
  return {
    server,
    client,
    wsUrl: `ws://127.0.0.1:${server.httpPort}/_ah/channel/ws`,
    httpUrl: `http://127.0.0.1:${server.httpPort}`,
    metadata,
    rpc: rpcFor(client, metadata),
    createChannel: (clientId, durationMinutes = 0) => create({ clientId, durationMinutes }),
    send: (clientId, message) => send({ target: { $case: 'clientId', value: clientId }, message, idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined }),
    async close() {
      client.close();
      await server.close();
    },
  };
}

/** Mints a token for `clientId` and opens a socket with it; resolves once the welcome arrived. */
export async function connect(ts: TestServer, clientId: string): Promise<{ socket: RawSocket; token: string }> {
  const { token } = await ts.createChannel(clientId);
  const socket = new RawSocket(ts.wsUrl, token);
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, `the welcome for ${clientId}`);
  if (socket.welcome === undefined) throw new Error(`socket for ${clientId} closed before its welcome: ${socket.closeCode} ${socket.closeReason}`);
  return { socket, token };
}
