import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { ChannelApi } from '../core/channel-api.js';
import { MAX_REQUEST_BYTES } from '../core/limits.js';
import type { GrpcCounters } from '../metrics/counters.js';
import type { Readiness } from '../metrics/readiness.js';
import { apiKeyCheck } from './auth.js';
import { connectionGuard } from './connection-guard.js';
import { channelService } from './channel-service.js';
import { channeldInterceptor } from './interceptor.js';
import { addReflection } from './reflection.js';
import { StrictChannelService } from './strict-utf8.js';

const SERVICE_NAME = 'channel.v1.ChannelService';

export interface GrpcOptions {
  readonly host: string;
  readonly port: number;
  readonly apiKeys: readonly string[];
  readonly shutdownGraceMs: number;
  /** Serve TLS only; without it, plaintext. */
  readonly tls?: GrpcTls;
  /** Where calls are counted (metrics). */
  readonly counters: GrpcCounters;
  /** gRPC health says SERVING exactly while this says ready. */
  readonly readiness: Readiness;
}

/** PEM files; `clientCaFile` makes it mutual TLS (every client presents a certificate the CA signed). */
export interface GrpcTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile?: string;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function serverCredentials(tls: GrpcTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const keyPair = { cert_chain: readPem(tls.certFile, '--grpc-tls-cert'), private_key: readPem(tls.keyFile, '--grpc-tls-key') };
  const clientCa = tls.clientCaFile === undefined || tls.clientCaFile === '' ? null : readPem(tls.clientCaFile, '--grpc-tls-client-ca');
  try {
    // grpc-js only parses the PEMs when it binds, with a less helpful error; check them now.
    createSecureContext({ cert: keyPair.cert_chain, key: keyPair.private_key, ...(clientCa === null ? {} : { ca: clientCa }) });
    return grpc.ServerCredentials.createSsl(clientCa, [keyPair], clientCa !== null);
  } catch (err) {
    throw new Error(`gRPC TLS: ${(err as Error).message} (check --grpc-tls-cert, --grpc-tls-key and --grpc-tls-client-ca)`);
  }
}

export interface GrpcEndpoint {
  readonly port: number;
  /** Marks NOT_SERVING, refuses new calls, waits for in-flight ones (up to the grace), then stops. */
  shutdown(): Promise<void>;
}

export async function startGrpc(hub: ChannelApi, options: GrpcOptions, logger: Logger): Promise<GrpcEndpoint> {
  const log = logger.child({ mod: 'grpc' });
  const guard = connectionGuard(logger, options.counters);
  const interceptor = channeldInterceptor({
    counters: options.counters,
    guard,
    ...(options.apiKeys.length > 0 ? { apiKeys: apiKeyCheck(options.apiKeys) } : {}),
  });
  const server = new grpc.Server({
    interceptors: [interceptor],
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    // channelz (grpc-js's introspection service, which channeld does not serve) keeps per-call
    // counters and a trace on every server and connection; nobody reads them.
    'grpc.enable_channelz': 0,
  });
  server.addService(StrictChannelService, channelService(hub, logger));

  const servingStatus = (): 'SERVING' | 'NOT_SERVING' => (options.readiness.ready ? 'SERVING' : 'NOT_SERVING');
  const health = new HealthImplementation({ '': servingStatus(), [SERVICE_NAME]: servingStatus() });
  options.readiness.onChange(() => {
    health.setStatus('', servingStatus());
    health.setStatus(SERVICE_NAME, servingStatus());
  });
  health.addToServer(server);
  addReflection(server);

  const credentials = serverCredentials(options.tls);
  const port = await guard.listen(server, credentials, options.host, options.port);
  log.info({ host: options.host, port, tls: options.tls !== undefined, mutualTls: (options.tls?.clientCaFile ?? '') !== '' }, 'gRPC listening');

  return {
    port,
    shutdown: () =>
      new Promise<void>((resolve) => {
        guard.close();
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
