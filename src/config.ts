import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_REDIS_PARTITIONS } from './core/limits.js';

/** Every setting of a channeld node. Each is a flag and an environment variable (see SETTINGS). */
export interface Config {
  /** @default '127.0.0.1' */
  grpcHost: string;
  /** @default 50051 */
  grpcPort: number;
  /** PEM certificate chain file; with grpcTlsKey, gRPC is served over TLS only. @default '' (plaintext) */
  grpcTlsCert: string;
  /** PEM private key file of grpcTlsCert. @default '' */
  grpcTlsKey: string;
  /** PEM CA bundle file; when set, every gRPC client must present a certificate it signed (mutual TLS). @default '' */
  grpcTlsClientCa: string;
  /** @default '0.0.0.0' */
  httpHost: string;
  /** @default 8080 */
  httpPort: number;
  /** Serve the HTTP/JSON API (POST /channel.v1.ChannelService/<Method>) on the HTTP port. @default true */
  httpApi: boolean;
  /** A listener of its own for the HTTP API; -1: none. @default -1 */
  apiPort: number;
  /** Listen address of apiPort. @default '127.0.0.1' */
  apiHost: string;
  /** Seconds between heartbeats on an idle HTTP presence stream. @default 15 */
  apiHeartbeatSeconds: number;
  /** @default 'memory' */
  engine: 'memory' | 'redis';
  /** Redis for the redis engine. @default 'redis://127.0.0.1:6379' */
  redisUrl: string;
  /** Prefix of channeld's Redis keys and channels; nodes of one cluster share it. @default 'channeld' */
  redisPrefix: string;
  /** Sentinels (host:port) that find the Redis master; empty: connect to redisUrl. @default none */
  redisSentinels: string[];
  /** The master name the Sentinels watch. @default 'mymaster' */
  redisSentinelName: string;
  /** Redis Cluster nodes (host:port) to start from; empty: not a cluster. @default none */
  redisClusterNodes: string[];
  /**
   * Independent Redis instances (redis:// URLs) to shard channel state over; empty: the one Redis
   * of redisUrl (or the Sentinels, or the Cluster). @default none
   */
  redisShards: string[];
  /** Partitions (hash tags) a Redis Cluster's state is spread over; 1 keeps every key in one slot. @default 16 */
  redisPartitions: number;
  /** A node silent this long is dead and its clients DISCONNECTED. @default 15 */
  nodeLeaseSeconds: number;
  /** Secrets that sign and verify tokens; the first signs. @default one random secret per start */
  tokenSecrets: string[];
  /** Keys backends must send as `authorization: Bearer <key>`. @default none (no auth) */
  apiKeys: string[];
  /** Messages kept per channel for replay. @default 500 */
  replayBufferSize: number;
  /** How long a message stays replayable. @default 600 */
  replayWindowSeconds: number;
  /** Outgoing bytes a socket may have queued before it is closed as slow (4001). @default 1048576 */
  socketSendBufferBytes: number;
  /** Seconds of silence before a socket is pinged and then dropped; a multiple of 4, 8–960. @default 32 */
  socketIdleTimeoutSeconds: number;
  /** Presence changes kept for WatchPresence resume. @default 10000 */
  presenceHistorySize: number;
  /** Presence events a watcher may fall behind before it is cut off. @default 10000 */
  presenceWatcherQueue: number;
  /** Membership and connection changes kept per topic for WatchTopicPresence resume. @default 1000 */
  topicPresenceHistorySize: number;
  /** Delivery receipts kept for WatchDeliveries resume. @default 10000 */
  deliveryHistorySize: number;
  /** At most one delivery receipt per client id (and per topic of it) this often. @default 100 */
  receiptIntervalMs: number;
  /** SendMessage calls with wait_for_delivery this node holds at once. @default 100000 */
  maxDeliveryWaiters: number;
  /** App Engine's old behaviour: a fresh open does not get what was sent before it. @default false */
  dropWhenDisconnected: boolean;
  /** Serve the demo page and its token-minting endpoint. Never with API keys. @default false */
  demo: boolean;
  /** Let the demo's endpoints answer requests from beyond this machine. @default false */
  demoPublic: boolean;
  /** PEM certificate chain file: serve HTTPS and wss:// on the HTTP port. @default '' (plain HTTP) */
  httpTlsCert: string;
  /** PEM private key file of httpTlsCert. @default '' */
  httpTlsKey: string;
  /** permessage-deflate for channel and topic frames. @default 'off' */
  compression: 'off' | 'shared' | 'dedicated';
  /** Sockets this node holds at most; past it upgrades get 503. @default 0 (no limit) */
  maxSockets: number;
  /** WebSocket upgrades per second one IP address may make on average; past it 429. @default 0 (no limit) */
  upgradeRatePerIp: number;
  /** Upgrades one IP address may make at once on top of the rate. @default 50 */
  upgradeBurstPerIp: number;
  /** Origins whose pages may open sockets; empty: any origin. @default none */
  allowedOrigins: string[];
  /** Serve Prometheus metrics at /metrics (on the HTTP port, or on metricsPort). @default true */
  metrics: boolean;
  /** A listener of its own for /metrics, /healthz and /readyz (HTTP/1.0 and 1.1); -1: none, they are on the HTTP port. @default -1 */
  metricsPort: number;
  /** @default '0.0.0.0' */
  metricsHost: string;
  /** pino level. @default 'info' */
  logLevel: string;
  /** How long shutdown waits for in-flight RPCs before cancelling them. @default 10000 */
  shutdownGraceMs: number;
  /** Base URL for App Engine–style presence POSTs (`<url>/_ah/channel/connected/`). @default '' (off) */
  presenceWebhook: string;
  /** Signs presence POSTs (X-Channeld-Signature) when non-empty; ≥16 bytes. @default '' (unsigned) */
  presenceWebhookSecret: string;
  /** Presence notices waiting for the webhook before new ones are dropped. @default 10000 */
  presenceWebhookQueue: number;
  /** Tries per presence notice before it is dropped. @default 10 */
  presenceWebhookMaxAttempts: number;
  /** How long a presence notice is retried before it is dropped. @default 300 */
  presenceWebhookRetrySeconds: number;
  /** The deadline of one presence POST. @default 10000 */
  presenceWebhookTimeoutMs: number;
}

export const DEFAULT_CONFIG: Readonly<Config> = {
  grpcHost: '127.0.0.1',
  grpcPort: 50051,
  grpcTlsCert: '',
  grpcTlsKey: '',
  grpcTlsClientCa: '',
  httpHost: '0.0.0.0',
  httpPort: 8080,
  httpApi: true,
  apiPort: -1,
  apiHost: '127.0.0.1',
  apiHeartbeatSeconds: 15,
  engine: 'memory',
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'channeld',
  redisSentinels: [],
  redisSentinelName: 'mymaster',
  redisClusterNodes: [],
  redisShards: [],
  redisPartitions: 16,
  nodeLeaseSeconds: 15,
  tokenSecrets: [],
  apiKeys: [],
  replayBufferSize: 500,
  replayWindowSeconds: 600,
  socketSendBufferBytes: 1024 * 1024,
  socketIdleTimeoutSeconds: 32,
  presenceHistorySize: 10_000,
  presenceWatcherQueue: 10_000,
  topicPresenceHistorySize: 1000,
  deliveryHistorySize: 10_000,
  receiptIntervalMs: 100,
  maxDeliveryWaiters: 100_000,
  dropWhenDisconnected: false,
  demo: false,
  demoPublic: false,
  httpTlsCert: '',
  httpTlsKey: '',
  compression: 'off',
  maxSockets: 0,
  upgradeRatePerIp: 0,
  upgradeBurstPerIp: 50,
  allowedOrigins: [],
  metrics: true,
  metricsPort: -1,
  metricsHost: '0.0.0.0',
  logLevel: 'info',
  shutdownGraceMs: 10_000,
  presenceWebhook: '',
  presenceWebhookSecret: '',
  presenceWebhookQueue: 10_000,
  presenceWebhookMaxAttempts: 10,
  presenceWebhookRetrySeconds: 300,
  presenceWebhookTimeoutMs: 10_000,
};

type Kind = 'string' | 'port' | 'int' | 'bool' | 'list';

interface Setting {
  readonly key: keyof Config;
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly help: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
}

/** The one table of settings: flags, environment variables, help text and README all come from it. */
export const SETTINGS: readonly Setting[] = [
  { key: 'grpcHost', flag: 'grpc-host', env: 'CHANNELD_GRPC_HOST', kind: 'string', help: 'gRPC listen address' },
  { key: 'grpcPort', flag: 'grpc-port', env: 'CHANNELD_GRPC_PORT', kind: 'port', help: 'gRPC port (0: any free port)' },
  { key: 'grpcTlsCert', flag: 'grpc-tls-cert', env: 'CHANNELD_GRPC_TLS_CERT', kind: 'string', help: 'PEM certificate chain file: serve gRPC over TLS (needs --grpc-tls-key); empty: plaintext' },
  { key: 'grpcTlsKey', flag: 'grpc-tls-key', env: 'CHANNELD_GRPC_TLS_KEY', kind: 'string', help: 'PEM private key file of --grpc-tls-cert' },
  { key: 'grpcTlsClientCa', flag: 'grpc-tls-client-ca', env: 'CHANNELD_GRPC_TLS_CLIENT_CA', kind: 'string', help: 'PEM CA file: gRPC clients must present a certificate it signed (mutual TLS; needs --grpc-tls-cert)' },
  { key: 'httpHost', flag: 'http-host', env: 'CHANNELD_HTTP_HOST', kind: 'string', help: 'HTTP/WebSocket listen address' },
  { key: 'httpPort', flag: 'http-port', env: 'CHANNELD_HTTP_PORT', kind: 'port', help: 'HTTP/WebSocket port (0: any free port)' },
  { key: 'httpApi', flag: 'http-api', env: 'CHANNELD_HTTP_API', kind: 'bool', help: 'serve the HTTP/JSON API (POST /channel.v1.ChannelService/<Method>, API keys as Authorization: Bearer) on the HTTP port; without API keys it answers loopback only; --no-http-api: off' },
  { key: 'apiPort', flag: 'api-port', env: 'CHANNELD_API_PORT', kind: 'int', min: -1, max: 65_535, help: 'a listener of its own for the HTTP/JSON API (with the HTTP port\'s TLS); -1: none; 0: any free port' },
  { key: 'apiHost', flag: 'api-host', env: 'CHANNELD_API_HOST', kind: 'string', help: 'listen address of --api-port' },
  { key: 'apiHeartbeatSeconds', flag: 'api-heartbeat-seconds', env: 'CHANNELD_API_HEARTBEAT_SECONDS', kind: 'int', min: 1, max: 3600, help: 'seconds between heartbeats on an idle HTTP WatchPresence stream (keeps proxies from closing it)' },
  { key: 'engine', flag: 'engine', env: 'CHANNELD_ENGINE', kind: 'string', choices: ['memory', 'redis'], help: 'where channel state lives: memory (one node) or redis (many nodes)' },
  { key: 'redisUrl', flag: 'redis-url', env: 'CHANNELD_REDIS_URL', kind: 'string', help: 'Redis for --engine redis: redis://[user:password@]host:port[/db]' },
  { key: 'redisPrefix', flag: 'redis-prefix', env: 'CHANNELD_REDIS_PREFIX', kind: 'string', help: 'prefix of Redis keys and channels; every node of one cluster uses the same' },
  { key: 'redisSentinels', flag: 'redis-sentinel', env: 'CHANNELD_REDIS_SENTINELS', kind: 'list', help: 'Sentinel host:port (repeatable; env: comma-separated); then --redis-url gives only credentials and db' },
  { key: 'redisSentinelName', flag: 'redis-sentinel-name', env: 'CHANNELD_REDIS_SENTINEL_NAME', kind: 'string', help: 'the master name the Sentinels watch' },
  { key: 'redisClusterNodes', flag: 'redis-cluster-node', env: 'CHANNELD_REDIS_CLUSTER_NODES', kind: 'list', help: 'a Redis Cluster node host:port to start from (repeatable; env: comma-separated); --redis-url gives only credentials' },
  { key: 'redisShards', flag: 'redis-shard', env: 'CHANNELD_REDIS_SHARDS', kind: 'list', help: 'an independent Redis (redis://host:port) to shard channel state over (repeatable; env: comma-separated); every node lists the same shards in the same order' },
  { key: 'redisPartitions', flag: 'redis-partitions', env: 'CHANNELD_REDIS_PARTITIONS', kind: 'int', min: 1, max: MAX_REDIS_PARTITIONS, help: 'with --redis-cluster-node: how many hash tags (partitions) state is spread over; the same on every node' },
  { key: 'nodeLeaseSeconds', flag: 'node-lease-seconds', env: 'CHANNELD_NODE_LEASE_SECONDS', kind: 'int', min: 2, max: 3600, help: 'redis engine: a node silent this long is dead; its clients become DISCONNECTED' },
  { key: 'tokenSecrets', flag: 'token-secret', env: 'CHANNELD_TOKEN_SECRETS', kind: 'list', help: 'token signing secret, ≥16 bytes; repeat to rotate (first signs, all verify); env: comma-separated; @file reads one per line' },
  { key: 'apiKeys', flag: 'api-key', env: 'CHANNELD_API_KEYS', kind: 'list', help: 'API key backends send as "authorization: Bearer <key>"; repeatable; env: comma-separated; @file reads one per line' },
  { key: 'replayBufferSize', flag: 'replay-buffer-size', env: 'CHANNELD_REPLAY_BUFFER_SIZE', kind: 'int', min: 1, max: 100_000, help: 'messages kept per channel for replay' },
  { key: 'replayWindowSeconds', flag: 'replay-window-seconds', env: 'CHANNELD_REPLAY_WINDOW_SECONDS', kind: 'int', min: 1, max: 86_400, help: 'how long a message stays replayable' },
  { key: 'socketSendBufferBytes', flag: 'socket-send-buffer-bytes', env: 'CHANNELD_SOCKET_SEND_BUFFER_BYTES', kind: 'int', min: 65_536, max: 1 << 30, help: 'outgoing bytes queued per socket before it is closed as slow (code 4001)' },
  { key: 'socketIdleTimeoutSeconds', flag: 'socket-idle-timeout-seconds', env: 'CHANNELD_SOCKET_IDLE_TIMEOUT_SECONDS', kind: 'int', min: 8, max: 960, help: 'silence before a socket is dropped (pinged first); multiple of 4' },
  { key: 'presenceHistorySize', flag: 'presence-history-size', env: 'CHANNELD_PRESENCE_HISTORY_SIZE', kind: 'int', min: 1, max: 10_000_000, help: 'presence changes kept for WatchPresence resume' },
  { key: 'presenceWatcherQueue', flag: 'presence-watcher-queue', env: 'CHANNELD_PRESENCE_WATCHER_QUEUE', kind: 'int', min: 1, max: 10_000_000, help: 'presence events a slow watcher may lag before it is cut off' },
  { key: 'topicPresenceHistorySize', flag: 'topic-presence-history-size', env: 'CHANNELD_TOPIC_PRESENCE_HISTORY_SIZE', kind: 'int', min: 1, max: 1_000_000, help: 'changes kept per topic for WatchTopicPresence resume' },
  { key: 'deliveryHistorySize', flag: 'delivery-history-size', env: 'CHANNELD_DELIVERY_HISTORY_SIZE', kind: 'int', min: 1, max: 10_000_000, help: 'delivery receipts kept for WatchDeliveries resume' },
  { key: 'receiptIntervalMs', flag: 'receipt-interval-ms', env: 'CHANNELD_RECEIPT_INTERVAL_MS', kind: 'int', min: 0, max: 60_000, help: "delivery receipts (a browser's acknowledgements, recorded and streamed) come at most once per client id per this many ms; the first after a quiet spell at once" },
  { key: 'maxDeliveryWaiters', flag: 'max-delivery-waiters', env: 'CHANNELD_MAX_DELIVERY_WAITERS', kind: 'int', min: 0, max: 10_000_000, help: 'SendMessage calls with wait_for_delivery held at once; past it they fail with RESOURCE_EXHAUSTED' },
  { key: 'dropWhenDisconnected', flag: 'drop-when-disconnected', env: 'CHANNELD_DROP_WHEN_DISCONNECTED', kind: 'bool', help: "App Engine's old behaviour: a socket opened afresh does not get the messages sent before it (a reconnect still resumes)" },
  { key: 'demo', flag: 'demo', env: 'CHANNELD_DEMO', kind: 'bool', help: 'serve the demo page at / and its token-minting endpoint (off whenever API keys are set)' },
  { key: 'demoPublic', flag: 'demo-public', env: 'CHANNELD_DEMO_PUBLIC', kind: 'bool', help: "let the demo's token-minting endpoints answer requests from beyond this machine (anyone who reaches the port can then mint tokens)" },
  { key: 'httpTlsCert', flag: 'http-tls-cert', env: 'CHANNELD_HTTP_TLS_CERT', kind: 'string', help: 'PEM certificate chain file: serve HTTPS and wss:// on the HTTP port (needs --http-tls-key); empty: plain HTTP' },
  { key: 'httpTlsKey', flag: 'http-tls-key', env: 'CHANNELD_HTTP_TLS_KEY', kind: 'string', help: 'PEM private key file of --http-tls-cert' },
  { key: 'compression', flag: 'compression', env: 'CHANNELD_COMPRESSION', kind: 'string', choices: ['off', 'shared', 'dedicated'], help: 'permessage-deflate for channel and topic frames: off, shared (one compressor for all sockets, little memory) or dedicated (one per socket: better ratio, more memory per socket)' },
  { key: 'maxSockets', flag: 'max-sockets', env: 'CHANNELD_MAX_SOCKETS', kind: 'int', min: 0, max: 100_000_000, help: 'sockets this node holds at most; past it WebSocket upgrades get 503 (clients retry, elsewhere); 0: no limit' },
  { key: 'upgradeRatePerIp', flag: 'upgrade-rate-per-ip', env: 'CHANNELD_UPGRADE_RATE_PER_IP', kind: 'int', min: 0, max: 1_000_000, help: 'WebSocket upgrades per second one IP address may make on average (past it: 429); 0: no limit' },
  { key: 'upgradeBurstPerIp', flag: 'upgrade-burst-per-ip', env: 'CHANNELD_UPGRADE_BURST_PER_IP', kind: 'int', min: 1, max: 1_000_000, help: 'upgrades one IP address may make at once on top of --upgrade-rate-per-ip' },
  { key: 'allowedOrigins', flag: 'allowed-origin', env: 'CHANNELD_ALLOWED_ORIGINS', kind: 'list', help: 'an origin (scheme://host[:port]) whose pages may open sockets (repeatable; env: comma-separated); none: any origin, as on App Engine' },
  { key: 'metrics', flag: 'metrics', env: 'CHANNELD_METRICS', kind: 'bool', help: 'serve Prometheus metrics at /metrics (on the HTTP port, or on --metrics-port); --no-metrics: off' },
  { key: 'metricsPort', flag: 'metrics-port', env: 'CHANNELD_METRICS_PORT', kind: 'int', min: -1, max: 65_535, help: 'a listener of its own for /metrics, /healthz and /readyz that speaks HTTP/1.0 and 1.1 (for load balancers); /metrics then leaves the HTTP port; -1: none; 0: any free port' },
  { key: 'metricsHost', flag: 'metrics-host', env: 'CHANNELD_METRICS_HOST', kind: 'string', help: 'listen address of --metrics-port' },
  { key: 'logLevel', flag: 'log-level', env: 'CHANNELD_LOG_LEVEL', kind: 'string', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'log level' },
  { key: 'shutdownGraceMs', flag: 'shutdown-grace-ms', env: 'CHANNELD_SHUTDOWN_GRACE_MS', kind: 'int', min: 0, max: 600_000, help: 'how long shutdown waits for in-flight RPCs' },
  { key: 'presenceWebhook', flag: 'presence-webhook', env: 'CHANNELD_PRESENCE_WEBHOOK', kind: 'string', help: 'base URL that gets App Engine-style presence POSTs (<url>/_ah/channel/connected/ and /disconnected/, form field "from"); empty: off' },
  { key: 'presenceWebhookSecret', flag: 'presence-webhook-secret', env: 'CHANNELD_PRESENCE_WEBHOOK_SECRET', kind: 'string', help: 'shared secret, ≥16 bytes, that signs each presence POST (X-Channeld-Signature; see docs/presence-webhooks.md); empty: unsigned' },
  { key: 'presenceWebhookQueue', flag: 'presence-webhook-queue', env: 'CHANNELD_PRESENCE_WEBHOOK_QUEUE', kind: 'int', min: 1, max: 10_000_000, help: 'presence notices waiting for the webhook before new ones are dropped (logged)' },
  { key: 'presenceWebhookMaxAttempts', flag: 'presence-webhook-max-attempts', env: 'CHANNELD_PRESENCE_WEBHOOK_MAX_ATTEMPTS', kind: 'int', min: 1, max: 1000, help: 'tries per presence notice (exponential backoff with jitter) before it is dropped (logged)' },
  { key: 'presenceWebhookRetrySeconds', flag: 'presence-webhook-retry-seconds', env: 'CHANNELD_PRESENCE_WEBHOOK_RETRY_SECONDS', kind: 'int', min: 0, max: 86_400, help: 'how long a presence notice is retried before it is dropped (logged)' },
  { key: 'presenceWebhookTimeoutMs', flag: 'presence-webhook-timeout-ms', env: 'CHANNELD_PRESENCE_WEBHOOK_TIMEOUT_MS', kind: 'int', min: 100, max: 600_000, help: 'how long one presence POST may take' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function readList(value: string, source: string): string[] {
  if (value.startsWith('@')) {
    const path = value.slice(1);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${source}: cannot read ${path}: ${(err as Error).message}`);
    }
    return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  }
  return [value];
}

function parseValue(setting: Setting, raw: string, source: string): string | number | boolean {
  switch (setting.kind) {
    case 'bool':
      if (['1', 'true', 'yes', ''].includes(raw)) return true;
      if (['0', 'false', 'no'].includes(raw)) return false;
      throw new ConfigError(`${source} is "${raw}"; use true or false`);
    case 'port':
    case 'int': {
      const n = Number(raw);
      const [min, max] = setting.kind === 'port' ? [0, 65_535] : [setting.min ?? 0, setting.max ?? Number.MAX_SAFE_INTEGER];
      if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
        throw new ConfigError(`${source} is "${raw}"; it must be an integer from ${min} to ${max}`);
      }
      return n;
    }
    default:
      if (setting.choices !== undefined && !setting.choices.includes(raw)) {
        throw new ConfigError(`${source} is "${raw}"; it must be one of ${setting.choices.join(', ')}`);
      }
      return raw;
  }
}

function assign(config: Config, setting: Setting, value: string | number | boolean | string[]): void {
  (config as unknown as Record<string, unknown>)[setting.key] = value;
}

/** Builds the config from defaults, then the environment, then flags; rejects unknown or bad values. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: Config; help: boolean; version: boolean } {
  const config: Config = { ...DEFAULT_CONFIG, tokenSecrets: [], apiKeys: [], redisSentinels: [], redisClusterNodes: [], redisShards: [], allowedOrigins: [] };
  for (const setting of SETTINGS) {
    const raw = env[setting.env];
    if (raw === undefined || raw === '') continue;
    if (setting.kind === 'list') {
      assign(config, setting, raw.split(',').map((s) => s.trim()).filter((s) => s !== '').flatMap((v) => readList(v, setting.env)));
    } else {
      assign(config, setting, parseValue(setting, raw, setting.env));
    }
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const s of SETTINGS) options[s.flag] = s.kind === 'bool' ? { type: 'boolean' } : { type: 'string', multiple: s.kind === 'list' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, allowNegative: true });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  for (const setting of SETTINGS) {
    const value = parsed.values[setting.flag];
    if (value === undefined) continue;
    const source = `--${setting.flag}`;
    if (setting.kind === 'list') assign(config, setting, (value as string[]).flatMap((v) => readList(v, source)));
    else if (setting.kind === 'bool') assign(config, setting, value as boolean);
    else assign(config, setting, parseValue(setting, value as string, source));
  }
  validate(config);
  return { config, help: parsed.values.help === true, version: parsed.values.version === true };
}

export function validate(config: Config): void {
  if (config.socketIdleTimeoutSeconds % 4 !== 0) {
    throw new ConfigError(`socket idle timeout is ${config.socketIdleTimeoutSeconds}; it must be a multiple of 4`);
  }
  validatePresenceWebhook(config);
  validateGrpcTls(config);
  validateHttp(config);
  validateRedisShards(config);
}

function validateRedisShards(config: Config): void {
  if (config.redisShards.length === 0) return;
  if (config.redisSentinels.length > 0 || config.redisClusterNodes.length > 0) {
    throw new ConfigError('--redis-shard lists independent Redis instances: it does not go with --redis-sentinel or --redis-cluster-node');
  }
  for (const shard of config.redisShards) {
    let url: URL | undefined;
    try {
      url = new URL(shard);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
      throw new ConfigError(`redis shard "${shard}" is not a redis:// URL; write redis://[user:password@]host:port[/db]`);
    }
  }
  if (config.redisShards.length > MAX_REDIS_PARTITIONS) {
    throw new ConfigError(`${config.redisShards.length} redis shards are listed; at most ${MAX_REDIS_PARTITIONS} are supported`);
  }
  if (new Set(config.redisShards).size !== config.redisShards.length) {
    throw new ConfigError('a redis shard is listed twice: each shard holds its own part of the state');
  }
}

function validateHttp(config: Config): void {
  if ((config.httpTlsCert === '') !== (config.httpTlsKey === '')) {
    throw new ConfigError('--http-tls-cert and --http-tls-key go together: give both or neither');
  }
  for (const origin of config.allowedOrigins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.origin === 'null' || url.origin !== origin.replace(/\/+$/, '').toLowerCase()) {
      throw new ConfigError(`allowed origin "${origin}" is not an origin; write scheme://host[:port], e.g. https://app.example.com`);
    }
  }
}

function validateGrpcTls(config: Config): void {
  if ((config.grpcTlsCert === '') !== (config.grpcTlsKey === '')) {
    throw new ConfigError('--grpc-tls-cert and --grpc-tls-key go together: give both or neither');
  }
  if (config.grpcTlsClientCa !== '' && config.grpcTlsCert === '') {
    throw new ConfigError('--grpc-tls-client-ca needs --grpc-tls-cert and --grpc-tls-key: mutual TLS is TLS first');
  }
}

function validatePresenceWebhook(config: Config): void {
  if (config.presenceWebhook !== '') {
    let url: URL | undefined;
    try {
      url = new URL(config.presenceWebhook);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError(`presence webhook is "${config.presenceWebhook}"; it must be an http:// or https:// URL`);
    }
  }
  const secretBytes = Buffer.byteLength(config.presenceWebhookSecret, 'utf8');
  if (secretBytes > 0 && secretBytes < 16) {
    throw new ConfigError(`presence webhook secret is ${secretBytes} bytes; it must be at least 16`);
  }
}

export function helpText(): string {
  const lines = ['Usage: channeld [options]', '', 'Every option can also be set with the environment variable shown.', ''];
  for (const s of SETTINGS) {
    const arg = s.kind === 'bool' ? '' : s.kind === 'list' ? ' <value>' : ` <${s.kind === 'port' ? 'port' : s.kind === 'int' ? 'n' : 'value'}>`;
    const def = DEFAULT_CONFIG[s.key];
    const shown = Array.isArray(def) ? (def.length === 0 ? 'none' : def.join(',')) : def === '' ? 'none' : String(def);
    lines.push(`  --${s.flag}${arg}`.padEnd(40) + `${s.help} [${s.env}] (default: ${shown})`);
  }
  lines.push('  -h, --help'.padEnd(40) + 'show this text');
  lines.push('  -v, --version'.padEnd(40) + 'print the version');
  return lines.join('\n');
}
