import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const SCENARIOS = ['storm', 'topic', 'unary', 'latency', 'fixed-rate', 'batch', 'stream', 'http-unary', 'http-batch', 'jitter'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** What runs without --scenarios: jitter takes a minute or more per target, so it is asked for by name. */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = ['storm', 'topic', 'unary', 'latency', 'fixed-rate', 'batch', 'stream', 'http-unary', 'http-batch'];
export const TARGETS = ['channeld', 'centrifugo', 'baseline', 'cluster', 'channeld-deflate'] as const;
/**
 * channeld (one node, memory engine), Centrifugo v6 (the peer), the grpc-js + Socket.IO baseline,
 * two channeld nodes over Redis, or one channeld node with --compression on (asked for by name).
 */
export type TargetKind = (typeof TARGETS)[number];
/** What runs without --targets: channeld-deflate is asked for by name. */
export const DEFAULT_TARGETS: readonly TargetKind[] = ['channeld', 'centrifugo', 'baseline', 'cluster'];

export interface BenchOptions {
  readonly targets: readonly TargetKind[];
  readonly scenarios: readonly ScenarioName[];
  /** Sockets for unary, latency and stream. */
  readonly sockets: number;
  /** Sockets for the connect storm, then subscribed to one topic for the broadcast scenario. */
  readonly topicSockets: number;
  readonly durationSeconds: number;
  readonly latencyDurationSeconds: number;
  readonly latencyLoad: number;
  /** Messages/s of the fixed-rate scenario, the same for every target. */
  readonly fixedRate: number;
  readonly receivers: number;
  readonly senders: number;
  readonly messageBytes: number;
  readonly unaryInFlight: number;
  readonly streamInFlight: number;
  /** Messages per StreamMessages request. */
  readonly streamBatch: number;
  /** Messages per SendMessages (Centrifugo: Batch) call. */
  readonly batchSize: number;
  /** SendMessages calls in flight per sender. */
  readonly batchInFlight: number;
  readonly broadcastInFlight: number;
  readonly maxOutstanding: number;
  readonly connectConcurrency: number;
  readonly settleSeconds: number;
  readonly drainTimeoutSeconds: number;
  readonly out: string;
  readonly name: string;
  readonly serverFromDist: boolean;
  readonly cpuProf: boolean;
  /** The redis-server binary the cluster target starts. */
  readonly redisServer: string;
  /** The centrifugo binary the centrifugo target starts. */
  readonly centrifugo: string;
  /** Use bench/load/sender.ts (grpc-js) instead of the Go load generator. */
  readonly nodeSenders: boolean;
  /** --compression of the channeld-deflate target. */
  readonly compression: 'shared' | 'dedicated';
  readonly jitter: JitterSize;
}

/** The jitter scenario's size (issue 8): see test/helpers/jitter.ts. */
export interface JitterSize {
  readonly clients: number;
  readonly sendSeconds: number;
  readonly dropEveryMs: number;
  readonly offlineGapMs: number;
  readonly messagesPerSecond: number;
  readonly broadcastsPerSecond: number;
}

/** Where scripts/install-bench-tools.sh puts the pinned Centrifugo. */
const PINNED_CENTRIFUGO = fileURLToPath(new URL('../.tools/bin/centrifugo', import.meta.url));

export const HELP = `npm run bench -- [flags]          (all numbers per run; defaults in brackets)

  --targets ${TARGETS.join(',')}
                                  which servers to measure [${DEFAULT_TARGETS.join(',')}];
                                  centrifugo = Centrifugo v6 (scripts/install-bench-tools.sh);
                                  cluster = two channeld nodes (--engine redis) and a redis-server
                                  the run starts itself; channeld-deflate = one node with
                                  --compression (--compression-mode), receivers offering
                                  permessage-deflate
  --scenarios ${SCENARIOS.join(',')}
                                  which scenarios, always run in this order [all but jitter];
                                  http-* run against channeld only, skipped when its HTTP API answers 404
  --sockets N                     sockets for unary, latency, stream [1000]
  --topic-sockets N               sockets for the connect storm and the topic broadcast [10000]
  --duration S                    seconds of sending per throughput scenario [10]
  --latency-duration S            seconds of the fixed-rate latency scenario [= --duration]
  --latency-load F                fraction of the unary peak used by the latency scenario [0.5]
  --fixed-rate N                  msg/s of the fixed-rate scenario, the same for every target [2000]
  --receivers N                   WebSocket generator processes [2]
  --senders N                     gRPC generator processes [2]
  --message-bytes N               payload size of each message [64]
  --unary-in-flight N             SendMessage calls in flight per sender [32]
  --stream-in-flight N            StreamMessages messages awaiting results per sender [4000]
  --stream-batch N                messages per StreamMessages request (1 = one \`request\` each) [100]
  --batch-size N                  messages per SendMessages / Centrifugo Batch call [100]
  --batch-in-flight N             SendMessages calls in flight per sender [8]
  --broadcast-in-flight N         Broadcast calls in flight per sender [8]
  --max-outstanding N             deliveries sent but not yet received before senders pause [400000]
  --connect-concurrency N         handshakes in progress per receiver during the storm [200]
  --settle S                      idle seconds before reading the server's RSS after the storm [2]
  --drain-timeout S               give up waiting for missing deliveries after S idle seconds [15]
  --out DIR                       where results go [bench/results]
  --name NAME                     results file name, NAME.json and NAME.md [latest]
  --server tsx|dist               run channeld from src/ with tsx, or from dist/ [tsx]
  --cpu-prof                      profile the servers (node --cpu-prof) into DIR/prof/
  --redis-server PATH             redis-server binary for the cluster target [redis-server]
  --centrifugo PATH               centrifugo binary [.tools/bin/centrifugo, else centrifugo on PATH]
  --compression-mode shared|dedicated
                                  channeld-deflate's --compression [shared]
  --node-senders                  grpc-js senders (bench/load/sender.ts) instead of the Go load
                                  generator (bench/loadgen); no Centrifugo, no HTTP API
  --jitter-clients N              jitter: clients, each cut off again and again [1000]
  --jitter-duration S             jitter: seconds of sending while sockets are cut [60]
  --jitter-drop-every S           jitter: mean seconds a socket lives before its TCP is destroyed [15]
  --jitter-gap S                  jitter: mean seconds offline before reconnecting (0…2×) [2]
  --jitter-rate N                 jitter: SendMessage calls per second over all clients [1000]
  --jitter-topic-rate N           jitter: Broadcasts per second to the topic all clients are in [2]
`;

function positive(name: string, raw: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} is "${raw}"; it must be a number ≥ ${min}`);
  return n;
}

function list<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`--${name}: unknown "${item}"; choose from ${allowed.join(', ')}`);
  return allowed.filter((a) => items.includes(a));
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      targets: { type: 'string', default: DEFAULT_TARGETS.join(',') },
      scenarios: { type: 'string', default: DEFAULT_SCENARIOS.join(',') },
      sockets: { type: 'string', default: '1000' },
      'topic-sockets': { type: 'string', default: '10000' },
      duration: { type: 'string', default: '10' },
      'latency-duration': { type: 'string' },
      'latency-load': { type: 'string', default: '0.5' },
      'fixed-rate': { type: 'string', default: '2000' },
      'batch-size': { type: 'string', default: '100' },
      'batch-in-flight': { type: 'string', default: '8' },
      centrifugo: { type: 'string', default: existsSync(PINNED_CENTRIFUGO) ? PINNED_CENTRIFUGO : 'centrifugo' },
      'compression-mode': { type: 'string', default: 'shared' },
      'node-senders': { type: 'boolean', default: false },
      receivers: { type: 'string', default: '2' },
      senders: { type: 'string', default: '2' },
      'message-bytes': { type: 'string', default: '64' },
      'unary-in-flight': { type: 'string', default: '32' },
      'stream-in-flight': { type: 'string', default: '4000' },
      'stream-batch': { type: 'string', default: '100' },
      'broadcast-in-flight': { type: 'string', default: '8' },
      'max-outstanding': { type: 'string', default: '400000' },
      'connect-concurrency': { type: 'string', default: '200' },
      settle: { type: 'string', default: '2' },
      'drain-timeout': { type: 'string', default: '15' },
      out: { type: 'string', default: 'bench/results' },
      name: { type: 'string', default: 'latest' },
      server: { type: 'string', default: 'tsx' },
      'cpu-prof': { type: 'boolean', default: false },
      'redis-server': { type: 'string', default: 'redis-server' },
      'jitter-clients': { type: 'string', default: '1000' },
      'jitter-duration': { type: 'string', default: '60' },
      'jitter-drop-every': { type: 'string', default: '15' },
      'jitter-gap': { type: 'string', default: '2' },
      'jitter-rate': { type: 'string', default: '1000' },
      'jitter-topic-rate': { type: 'string', default: '2' },
    },
  });
  if (values.help) return 'help';
  if (values.server !== 'tsx' && values.server !== 'dist') throw new Error(`--server is "${values.server}"; use tsx or dist`);
  const compression = values['compression-mode'];
  if (compression !== 'shared' && compression !== 'dedicated') throw new Error(`--compression-mode is "${compression}"; use shared or dedicated`);
  const duration = positive('duration', values.duration, 0.5);
  const latencyLoad = positive('latency-load', values['latency-load'], 0.01);
  if (latencyLoad > 1) throw new Error('--latency-load must be at most 1');
  return {
    targets: list('targets', values.targets, TARGETS),
    scenarios: list('scenarios', values.scenarios, SCENARIOS),
    sockets: positive('sockets', values.sockets),
    topicSockets: positive('topic-sockets', values['topic-sockets']),
    durationSeconds: duration,
    latencyDurationSeconds: values['latency-duration'] === undefined ? duration : positive('latency-duration', values['latency-duration'], 0.5),
    latencyLoad,
    fixedRate: positive('fixed-rate', values['fixed-rate']),
    batchSize: positive('batch-size', values['batch-size']),
    batchInFlight: positive('batch-in-flight', values['batch-in-flight']),
    receivers: positive('receivers', values.receivers),
    senders: positive('senders', values.senders),
    messageBytes: positive('message-bytes', values['message-bytes'], 16),
    unaryInFlight: positive('unary-in-flight', values['unary-in-flight']),
    streamInFlight: positive('stream-in-flight', values['stream-in-flight']),
    streamBatch: positive('stream-batch', values['stream-batch']),
    broadcastInFlight: positive('broadcast-in-flight', values['broadcast-in-flight']),
    maxOutstanding: positive('max-outstanding', values['max-outstanding']),
    connectConcurrency: positive('connect-concurrency', values['connect-concurrency']),
    settleSeconds: positive('settle', values.settle, 0),
    drainTimeoutSeconds: positive('drain-timeout', values['drain-timeout'], 1),
    out: values.out,
    name: values.name,
    serverFromDist: values.server === 'dist',
    cpuProf: values['cpu-prof'],
    redisServer: values['redis-server'],
    centrifugo: values.centrifugo,
    nodeSenders: values['node-senders'],
    compression,
    jitter: {
      clients: positive('jitter-clients', values['jitter-clients']),
      sendSeconds: positive('jitter-duration', values['jitter-duration'], 1),
      dropEveryMs: positive('jitter-drop-every', values['jitter-drop-every'], 0.1) * 1000,
      offlineGapMs: positive('jitter-gap', values['jitter-gap'], 0) * 1000,
      messagesPerSecond: positive('jitter-rate', values['jitter-rate'], 0),
      broadcastsPerSecond: positive('jitter-topic-rate', values['jitter-topic-rate'], 0),
    },
  };
}
