/**
 * Messages between the coordinator (bench/run.ts) and its generator processes (bench/load/*).
 * Every request carries a `req` number; the reply to it carries the same number.
 */
import type { HistogramData } from './load/histogram.js';
import type { JitterSize } from './options.js';

/**
 * What a server speaks: channeld's protocol (one node or a cluster), Socket.IO (the baseline) or
 * Centrifugo's (JSON client protocol on the sockets, its gRPC server API for the senders).
 */
export type Protocol = 'channeld' | 'baseline' | 'centrifugo';

/** How a generator reaches one server: senders use `grpcPort`, receivers `httpPort`. */
export interface Endpoint {
  readonly kind: Protocol;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** Centrifugo: the HMAC secret the senders sign connection tokens (JWT, HS256) with. */
  readonly tokenSecret?: string;
  /** Sent as `authorization: Bearer <key>` when set (gRPC metadata, HTTP header). */
  readonly apiKey?: string;
  /** Receivers offer permessage-deflate on their upgrade and inflate what comes compressed. */
  readonly deflate?: boolean;
}

/** One socket a receiver opens; `clientIdx` is the client's index in its socket group, as in payloads. */
export interface SocketSpec {
  readonly clientIdx: number;
  readonly token: string;
}

export type ReceiverRequest =
  /** `topic`: the fan-out topic these sockets may be added to (Centrifugo's subscribe push names it). */
  | { readonly type: 'open'; readonly req: number; readonly endpoint: Endpoint; readonly sockets: readonly SocketSpec[]; readonly concurrency: number; readonly topic?: string }
  | { readonly type: 'await-topic'; readonly req: number; readonly topic: string; readonly timeoutMs: number }
  | { readonly type: 'phase'; readonly req: number }
  | { readonly type: 'report'; readonly req: number }
  | { readonly type: 'close'; readonly req: number };

export interface OpenReply {
  readonly opened: number;
  /** Sockets that never got their welcome (each one fails the run). */
  readonly failed: number;
  /** Of those, sockets the server dropped right after their 101, with no frame and no close frame. */
  readonly droppedAfterUpgrade: number;
  readonly firstError: string;
  readonly connectHistogram: HistogramData;
}

/** Counts since the last `phase` request, one entry per socket in the order they were opened. */
export interface ReceiverReport {
  readonly received: readonly number[];
  readonly duplicates: number;
  /** Server sequence numbers (channeld only) that skipped or went backwards. */
  readonly seqErrors: number;
  /** Messages whose payload named another client: a routing bug. */
  readonly misrouted: number;
  readonly unparsed: number;
  /** Sockets that closed while the receiver did not ask for it, since the sockets opened. */
  readonly unexpectedCloses: number;
  readonly firstProblem: string;
  readonly latency: HistogramData;
  /** Bytes read from the sockets since the last `phase` (frames and their headers, as on the wire). */
  readonly wireBytes: number;
}

export type ReceiverMessage =
  | { readonly type: 'reply'; readonly req: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly req: number; readonly ok: false; readonly error: string }
  | { readonly type: 'progress'; readonly delivered: number };

/**
 * unary: SendMessage (Centrifugo: Publish); batch: SendMessages with `batch` messages per call
 * (Centrifugo: Batch of Publish commands); stream: StreamMessages; broadcast: Broadcast to a topic
 * (Centrifugo: Publish to the channel every socket is in); http-unary, http-batch: channeld's
 * HTTP/JSON API (Go sender only).
 */
export type RunKind = 'unary' | 'batch' | 'stream' | 'broadcast' | 'http-unary' | 'http-batch';

export interface RunSpec {
  readonly kind: RunKind;
  /** Client ids this sender addresses (unary, stream), with their indexes for the payload. */
  readonly clients: readonly { readonly clientId: string; readonly clientIdx: number }[];
  readonly topic: string;
  readonly durationMs: number;
  /** Messages (or broadcasts) per second for this sender; 0 = as fast as the window allows. */
  readonly rate: number;
  readonly inFlight: number;
  /** Messages per call (batch, http-batch) or per StreamMessages request (1 sends `request`, more a batch in `requests`). */
  readonly batch: number;
  readonly messageBytes: number;
  /** Deliveries one successful call produces (1, or the topic's members for a broadcast). */
  readonly unitsPerCall: number;
  /** Broadcast payload numbers are `nOffset + k * nStride`, so senders never share one. */
  readonly nOffset: number;
  readonly nStride: number;
  /**
   * Broadcast only (Go sender): topics called in turn, one per Broadcast, instead of `topic`, so a
   * run's topics spread over Redis shards (bench/shards.ts).
   */
  readonly topics?: readonly string[];
}

export interface RunReply {
  /** Successful sends per entry of `clients` (unary, stream); empty for broadcast. */
  readonly sentPerClient: readonly number[];
  /** Successful broadcasts per entry of `topics` (empty without them). */
  readonly sentPerTopic?: readonly number[];
  /** Successful calls. */
  readonly calls: number;
  readonly errors: number;
  readonly firstError: string;
  readonly elapsedMs: number;
}

/** `http`: channeld's HTTP/JSON API answers something other than 404 (Go sender only). */
export type ProbeMethod = 'broadcast' | 'streamMessages' | 'sendMessages' | 'http';

export type SenderRequest =
  | { readonly type: 'connect'; readonly req: number; readonly endpoint: Endpoint }
  | { readonly type: 'mint'; readonly req: number; readonly clientIds: readonly string[]; readonly concurrency: number }
  | { readonly type: 'subscribe'; readonly req: number; readonly clientIds: readonly string[]; readonly topic: string }
  | { readonly type: 'probe'; readonly req: number; readonly method: ProbeMethod }
  | { readonly type: 'run'; readonly req: number; readonly spec: RunSpec }
  | { readonly type: 'gate'; readonly open: boolean }
  | { readonly type: 'disconnect'; readonly req: number };

export type SenderMessage = ReceiverMessage | { readonly type: 'sent'; readonly units: number };

/** The jitter process (bench/load/jitter.ts) runs test/helpers/jitter.ts against a target's nodes. */
export type JitterRequest = {
  readonly type: 'run';
  readonly req: number;
  /** Every node clients may reconnect to; calls go round-robin over them too. */
  readonly nodes: readonly Endpoint[];
  readonly size: JitterSize;
  readonly idPrefix: string;
};

export type JitterMessage = ReceiverMessage | { readonly type: 'log'; readonly line: string };

export type { HistogramData };
