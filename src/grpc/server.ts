import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { ChannelApi } from '../core/channel-api.js';
import { MAX_REQUEST_BYTES } from '../core/limits.js';
import { apiKeyInterceptor } from './auth.js';
import { channelService } from './channel-service.js';
import { addReflection } from './reflection.js';
import { StrictChannelService, strictUtf8Interceptor } from './strict-utf8.js';

const SERVICE_NAME = 'channel.v1.ChannelService';

export interface GrpcOptions {
  readonly host: string;
  readonly port: number;
  readonly apiKeys: readonly string[];
  readonly shutdownGraceMs: number;
}

export interface GrpcEndpoint {
  readonly port: number;
  /** Marks NOT_SERVING, refuses new calls, waits for in-flight ones (up to the grace), then stops. */
  shutdown(): Promise<void>;
}

export async function startGrpc(hub: ChannelApi, options: GrpcOptions, logger: Logger): Promise<GrpcEndpoint> {
  const log = logger.child({ mod: 'grpc' });
  const interceptors = [...(options.apiKeys.length > 0 ? [apiKeyInterceptor(options.apiKeys)] : []), strictUtf8Interceptor];
  const server = new grpc.Server({ interceptors, 'grpc.max_receive_message_length': MAX_REQUEST_BYTES });
  server.addService(StrictChannelService, channelService(hub, logger));

  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  addReflection(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err === null ? resolve(bound) : reject(err),
    ),
  );
  log.info({ host: options.host, port }, 'gRPC listening');

  return {
    port,
    shutdown: () =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(SERVICE_NAME, 'NOT_SERVING');
        const timer = setTimeout(() => {
          log.warn({ graceMs: options.shutdownGraceMs }, 'in-flight RPCs did not finish in time; cancelling them');
          server.forceShutdown();
          resolve();
        }, options.shutdownGraceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
