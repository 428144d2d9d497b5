import type { Logger } from 'pino';
import { DEFAULT_CONFIG, type Config, validate } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { Hub } from './core/hub.js';
import { TokenAuthority } from './core/tokens.js';
import type { Engine } from './engine/engine.js';
import { MemoryEngine } from './engine/memory.js';
import { RedisEngine } from './engine/redis.js';
import type { Fallback, FallbackTuning } from './gateway/fallback/routes.js';
import { startGateway, type Gateway } from './gateway/gateway.js';
import type { TemplatedApp } from './gateway/uws.js';
import { startGrpc, type GrpcEndpoint } from './grpc/server.js';
import { startApiListener, type ApiListener } from './http-api/listener.js';
import { HttpApi } from './http-api/routes.js';
import { createLogger } from './logger.js';
import { GatewayCounters, GrpcCounters } from './metrics/counters.js';
import { startOpsListener } from './metrics/ops-server.js';
import { OpsAnswers } from './metrics/probes.js';
import { Readiness } from './metrics/readiness.js';
import { createMetrics } from './metrics/registry.js';
import { startPresenceWebhook } from './webhooks/presence-webhook.js';

export interface ServerOptions extends Partial<Config> {
  /** Injected by tests to move time (token expiry, replay window) without waiting. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Timings of the browser fallback transport; tests shorten them. */
  readonly fallback?: FallbackTuning;
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The --metrics-port listener's port, when there is one. */
  readonly metricsPort: number | undefined;
  /** The --api-port listener's port, when there is one. */
  readonly apiPort: number | undefined;
  /** What /readyz and gRPC health say. */
  readonly readiness: Readiness;
  readonly hub: Hub;
  /** The gateway's fallback transport (tests force drops through it). */
  readonly fallback: Fallback;
  readonly config: Readonly<Config>;
  /**
   * Graceful stop: stop accepting sockets, close open ones with 1001 (clients reconnect elsewhere),
   * end presence streams, let in-flight RPCs finish (up to the grace), then stop the engine.
   */
  close(): Promise<void>;
}

/** How often readiness looks at the engine (Redis reachable or not). */
const ENGINE_POLL_MS = 1000;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function createEngine(config: Config, clock: Clock, logger: Logger): Engine {
  const options = {
    replayBufferSize: config.replayBufferSize,
    replayWindowMs: config.replayWindowSeconds * 1000,
    presenceHistorySize: config.presenceHistorySize,
    topicPresenceHistorySize: config.topicPresenceHistorySize,
    deliveryHistorySize: config.deliveryHistorySize,
  };
  if (config.engine === 'memory') return new MemoryEngine(options, clock);
  return new RedisEngine(
    {
      ...options,
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      nodeLeaseMs: config.nodeLeaseSeconds * 1000,
      sentinels: config.redisSentinels,
      sentinelName: config.redisSentinelName,
      clusterNodes: config.redisClusterNodes,
      shards: config.redisShards,
      partitions: config.redisPartitions,
    },
    clock,
    logger,
  );
}

/** Says loudly what an operator may not have meant: a port anyone can mint tokens through. */
function warnAboutExposure(config: Config, log: Logger): void {
  // Mutual TLS authenticates every backend as API keys do.
  if (config.apiKeys.length === 0 && config.grpcTlsClientCa === '' && !isLoopback(config.grpcHost)) {
    log.warn(
      { grpcHost: config.grpcHost },
      '!!! gRPC listens beyond loopback WITHOUT API keys: anyone who reaches it can mint tokens and send messages. Set --api-key. !!!',
    );
  }
  if (config.demo && config.demoPublic) {
    log.warn(
      { httpHost: config.httpHost },
      '!!! --demo-public: ANYONE who reaches the HTTP port can mint tokens and send messages through the demo; never in production !!!',
    );
  } else if (config.demo && !isLoopback(config.httpHost)) {
    log.warn(
      { httpHost: config.httpHost },
      '!!! the demo page is reachable beyond loopback: its token-minting endpoints answer requests from this machine only, and only from the demo page itself; do not run --demo in production !!!',
    );
  }
}

/** Starts one channeld node: the core, the gRPC API and the gateway. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { clock = systemClock, logger: given, fallback: _fallback, ...overrides } = options;
  const config: Config = { ...DEFAULT_CONFIG, ...overrides };
  const logger = given ?? createLogger(config.logLevel);
  const log = logger.child({ mod: 'server' });
  if (config.demo && config.apiKeys.length > 0) {
    log.warn('demo mode lets anyone mint tokens, so it is off while API keys are configured');
    config.demo = false;
  }
  validate(config);
  warnAboutExposure(config, log);
  if (config.engine === 'redis' && config.tokenSecrets.length === 0) {
    // A random per-process secret would make every node refuse the others' tokens.
    throw new Error('--engine redis needs --token-secret, the same on every node');
  }
  const tokens =
    config.tokenSecrets.length > 0 ? new TokenAuthority(config.tokenSecrets) : TokenAuthority.withRandomSecret();
  if (config.tokenSecrets.length === 0) log.info('no token secret configured: tokens from this run die with it');

  const engine = createEngine(config, clock, logger);
  const hub = new Hub({
    engine,
    tokens,
    clock,
    logger,
    presenceWatcherQueue: config.presenceWatcherQueue,
    dropWhenDisconnected: config.dropWhenDisconnected,
    receiptIntervalMs: config.receiptIntervalMs,
    maxDeliveryWaiters: config.maxDeliveryWaiters,
  });
  const readiness = new Readiness(() => engine.isUp());
  const gatewayCounters = new GatewayCounters();
  const grpcCounters = new GrpcCounters();
  const httpApiCounters = new GrpcCounters();
  let presenceWebhook: ReturnType<typeof startPresenceWebhook> | undefined;
  const metrics = config.metrics
    ? createMetrics({
        engineName: config.engine,
        engine,
        gateway: gatewayCounters,
        sessions: hub.sessions.counters,
        grpc: grpcCounters,
        httpApi: httpApiCounters,
        presenceWatchers: () => hub.presence.watcherCount,
        deliveryWatchers: () => hub.deliveries.watcherCount,
        topicPresenceWatchers: () => hub.topicPresence.watcherCount,
        deliveryWaiters: () => hub.deliveries.waiterCount,
        webhook: config.presenceWebhook === '' ? undefined : () => presenceWebhook?.webhook,
        readiness,
      })
    : undefined;
  // Its own listener starts first, so /readyz answers 503 while the rest starts.
  const opsListener =
    config.metricsPort < 0 ? undefined : await startOpsListener(config.metricsHost, config.metricsPort, new OpsAnswers(readiness, metrics), logger);
  const httpOps = new OpsAnswers(readiness, opsListener === undefined ? metrics : undefined);

  const httpApi = new HttpApi({
    api: hub.api,
    apiKeys: config.apiKeys,
    counters: httpApiCounters,
    heartbeatMs: config.apiHeartbeatSeconds * 1000,
    logger,
  });
  const httpTls = config.httpTlsCert === '' ? undefined : { certFile: config.httpTlsCert, keyFile: config.httpTlsKey };

  let grpc: GrpcEndpoint | undefined;
  let apiListener: ApiListener | undefined;
  let gateway: Gateway;
  try {
    await hub.start();
    // Subscribed before the gateway opens, so no presence change goes unnoticed.
    presenceWebhook =
      config.presenceWebhook === ''
        ? undefined
        : startPresenceWebhook(
            hub.presence,
            {
              url: config.presenceWebhook,
              secret: config.presenceWebhookSecret,
              maxQueued: config.presenceWebhookQueue,
              maxAttempts: config.presenceWebhookMaxAttempts,
              maxRetryMs: config.presenceWebhookRetrySeconds * 1000,
              requestTimeoutMs: config.presenceWebhookTimeoutMs,
            },
            logger,
          );
    grpc = await startGrpc(
      hub.api,
      {
        host: config.grpcHost,
        port: config.grpcPort,
        apiKeys: config.apiKeys,
        shutdownGraceMs: config.shutdownGraceMs,
        ...(config.grpcTlsCert === ''
          ? {}
          : { tls: { certFile: config.grpcTlsCert, keyFile: config.grpcTlsKey, clientCaFile: config.grpcTlsClientCa } }),
        counters: grpcCounters,
        readiness,
      },
      logger,
    );
    gateway = await startGateway(
      hub,
      {
        host: config.httpHost,
        port: config.httpPort,
        socketSendBufferBytes: config.socketSendBufferBytes,
        socketIdleTimeoutSeconds: config.socketIdleTimeoutSeconds,
        demo: config.demo,
        demoPublic: config.demoPublic,
        tls: httpTls,
        compression: config.compression,
        limits: {
          maxSockets: config.maxSockets,
          upgradesPerIpPerSecond: config.upgradeRatePerIp,
          upgradeBurstPerIp: config.upgradeBurstPerIp,
          allowedOrigins: config.allowedOrigins,
        },
        ops: httpOps,
        counters: gatewayCounters,
        ...(config.httpApi ? { routes: (app: TemplatedApp) => httpApi.mount(app) } : {}),
        ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
      },
      logger,
    );
    if (config.apiPort >= 0) {
      try {
        apiListener = await startApiListener(httpApi, config.apiHost, config.apiPort, httpTls, logger);
      } catch (err) {
        gateway.stopListening();
        throw err;
      }
    }
  } catch (err) {
    // A node that cannot start must not linger half-started (its ports, its engine, its lease).
    readiness.markDraining();
    await grpc?.shutdown();
    await hub.stop().catch(() => undefined);
    await presenceWebhook?.close(0);
    await opsListener?.close();
    throw err;
  }
  const grpcEndpoint = grpc;
  readiness.markReady(ENGINE_POLL_MS);

  let closing: Promise<void> | undefined;
  return {
    grpcPort: grpcEndpoint.port,
    httpPort: gateway.port,
    metricsPort: opsListener?.port,
    apiPort: apiListener?.port,
    readiness,
    hub,
    fallback: gateway.fallback,
    config,
    close() {
      closing ??= (async () => {
        log.info('shutting down');
        readiness.markDraining();
        gateway.stopListening();
        apiListener?.close();
        await hub.drain();
        await grpcEndpoint.shutdown();
        await hub.stop();
        // After the hub stopped, so the DISCONNECTED notices of the drained sockets are sent too.
        await presenceWebhook?.close(config.shutdownGraceMs);
        await opsListener?.close();
        log.info('stopped');
      })();
      return closing;
    },
  };
}
