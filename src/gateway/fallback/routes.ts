import type { Logger } from 'pino';
import type { Hub } from '../../core/hub.js';
import type { StreamPosition, Topic } from '../../core/types.js';
import type { GatewayCounters } from '../../metrics/counters.js';
import { CloseCode } from '../close-codes.js';
import { FrameType } from '../frames.js';
import { UpgradeRefusal, type UpgradeLimits } from '../upgrade-limits.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws.js';
import { FallbackConnection, LOST, type ConnectionHome } from './connection.js';
import { exchange, readLimited, type Reply } from './exchange.js';
import { PollQueue } from './poll-queue.js';
import { SseStream } from './sse-stream.js';
import {
  BadRequest,
  FallbackPath,
  MAX_FALLBACK_BODY_BYTES,
  parseOpen,
  parsePoll,
  parseSend,
  refusedBody,
  sseOpened,
  type OpenRequest,
  type SendRequest,
} from './wire.js';

/** The fallback's timings; the defaults suit proxies that cut a response idle for 30–60 s. */
export interface FallbackTuning {
  /** An idle event stream gets a comment this often. @default 15000 */
  readonly heartbeatMs?: number;
  /** How long a poll is held when there is nothing to send. @default 20000 */
  readonly pollHoldMs?: number;
  /** A long-polling client that has not polled for this long is gone (as a lost socket). @default 10000 */
  readonly pollIdleMs?: number;
}

export interface FallbackOptions extends FallbackTuning {
  /** The same per-connection cap as a socket's outgoing bytes. */
  readonly sendBufferBytes: number;
  readonly limits: UpgradeLimits;
  readonly counters: GatewayCounters;
}

export interface Fallback {
  /** A topic frame, encoded once, for every fallback connection of this node on the topic. */
  publish(topic: Topic, frame: string): void;
  /** Ends the open event streams' responses as a network loss would (tests only: a forced drop). */
  dropStreams(): void;
  stop(): void;
}

/** How long a reconnect that announced a topic resume frame may take to send it (as on a socket). */
const TOPIC_RESUME_WAIT_MS = 10_000;
const NORMAL_CLOSE = { code: 1000, reason: '' } as const;
const NO_SUCH_CONNECTION = 'no such connection: it ended, or the id or key is wrong';

/**
 * The fallback transport (docs/protocol.md §5) for browsers that cannot open a WebSocket: a
 * text/event-stream response, or long polls, for the server's frames, and POSTs for the client's.
 * Each connection is a SessionSink over the same core as a socket; this module only carries frames.
 */
export function mountFallback(app: TemplatedApp, hub: Hub, options: FallbackOptions, logger: Logger): Fallback {
  const log = logger.child({ mod: 'fallback' });
  const sessions = hub.sessions;
  const { counters, limits } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const pollHoldMs = options.pollHoldMs ?? 20_000;
  const pollIdleMs = options.pollIdleMs ?? 10_000;
  const connections = new Map<string, FallbackConnection>();
  const streams = new Map<FallbackConnection, { stream: SseStream; res: HttpResponse }>();
  const polls = new Map<FallbackConnection, PollQueue>();
  const topics = new Map<Topic, Set<FallbackConnection>>();

  const home: ConnectionHome = {
    counters,
    join(topic, connection) {
      let members = topics.get(topic);
      if (members === undefined) topics.set(topic, (members = new Set()));
      members.add(connection);
    },
    leave(topic, connection) {
      const members = topics.get(topic);
      if (members === undefined || !members.delete(connection)) return;
      if (members.size === 0) topics.delete(topic);
    },
    ended(connection) {
      counters.socketClosed(connection.closedWith!.code);
      // A polling connection stays findable until its close has been fetched (or it goes idle),
      // so a client whose answer was lost still learns a terminal close and does not reconnect.
      if (!polls.has(connection)) connections.delete(connection.id);
      streams.delete(connection);
      if (connection.session !== undefined) sessions.closed(connection.session);
    },
  };

  /**
   * What the limits need of a request, read before anything is awaited (uWS's request object
   * lives for the handler's call only); they are asked only for an open, which is what counts.
   */
  const opener = (res: HttpResponse, req: HttpRequest): (() => UpgradeRefusal | undefined) => {
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    const origin = req.getHeader('origin');
    return () => limits.check(remote, origin, counters.socketsOpen);
  };

  const refuse = (r: Reply, why: UpgradeRefusal): void => {
    if (why === UpgradeRefusal.MaxSockets) counters.upgradesRefusedMaxSockets++;
    else if (why === UpgradeRefusal.Rate) counters.upgradesRefusedRate++;
    else counters.upgradesRefusedOrigin++;
    r.error(why.status, why.text, why.retryAfterSeconds === undefined ? {} : { 'retry-after': String(why.retryAfterSeconds) });
  };

  /** Checks the token; on success opens the connection's session, with `topics` waiting as on a socket. */
  const open = (r: Reply, request: OpenRequest, connection: FallbackConnection, start: () => void): boolean => {
    const check = sessions.checkToken(request.token);
    if (!check.ok) {
      const close = check.reason === 'expired' ? CloseCode.TokenExpired : CloseCode.InvalidToken;
      r.send('401 Unauthorized', 'application/json; charset=utf-8', refusedBody(close));
      return false;
    }
    connections.set(connection.id, connection);
    counters.socketOpened();
    start();
    let topicResume: Promise<ReadonlyMap<Topic, StreamPosition>> | undefined;
    if (request.topics) {
      topicResume = new Promise((resolve) => {
        const timer = setTimeout(() => {
          connection.awaitTopics = undefined;
          resolve(new Map());
        }, TOPIC_RESUME_WAIT_MS);
        connection.awaitTopics = (positions) => {
          clearTimeout(timer);
          connection.awaitTopics = undefined;
          resolve(positions);
        };
      });
    }
    connection.session = sessions.open(check.claims, connection, request.resume, topicResume);
    // Ended while opening (the node is draining): the core never registered it.
    if (connection.closed) connection.session = undefined;
    return true;
  };

  const badBody = (r: Reply, raw: Buffer | undefined): raw is undefined => {
    if (raw !== undefined) return false;
    r.error('413 Payload Too Large', `the body is over ${MAX_FALLBACK_BODY_BYTES} bytes`);
    return true;
  };

  const answerError = (r: Reply, err: unknown, what: string): void => {
    if (err instanceof BadRequest) {
      r.error('400 Bad Request', err.message);
      return;
    }
    log.warn({ err }, `${what} failed`);
    r.error('500 Internal Server Error', `${what} failed`);
  };

  app.post(FallbackPath.Sse, (res, req) => {
    let stream: SseStream | undefined;
    let connection: FallbackConnection | undefined;
    const r = exchange(res, () => {
      stream?.aborted();
      connection?.end(LOST);
    });
    const refusal = opener(res, req);
    void readLimited(res, MAX_FALLBACK_BODY_BYTES).then((raw) => {
      if (r.aborted || badBody(r, raw)) return;
      try {
        const request = parseOpen(raw);
        const why = refusal();
        if (why !== undefined) return refuse(r, why);
        const conn = new FallbackConnection(home);
        const sse = new SseStream(res, options.sendBufferBytes, counters, () => conn.overflowed());
        conn.downstream = sse;
        open(r, request, conn, () => {
          connection = conn;
          stream = sse;
          streams.set(conn, { stream: sse, res });
          res.cork(() => {
            res.writeStatus('200 OK').writeHeader('content-type', 'text/event-stream; charset=utf-8');
            res.writeHeader('cache-control', 'no-store').writeHeader('access-control-allow-origin', '*');
            // Asks nginx-like proxies not to buffer the stream.
            res.writeHeader('x-accel-buffering', 'no').writeHeader('x-content-type-options', 'nosniff');
            res.write(sseOpened({ id: conn.id, key: conn.key, heartbeatMs }));
          });
        });
      } catch (err) {
        answerError(r, err, 'opening an event stream');
      }
    });
  });

  app.post(FallbackPath.Poll, (res, req) => {
    const r = exchange(res);
    const refusal = opener(res, req);
    void readLimited(res, MAX_FALLBACK_BODY_BYTES).then((raw) => {
      if (r.aborted || badBody(r, raw)) return;
      try {
        const request = parsePoll(raw);
        if ('open' in request) {
          const why = refusal();
          if (why !== undefined) return refuse(r, why);
          const conn = new FallbackConnection(home);
          const queue = new PollQueue(options.sendBufferBytes, pollHoldMs, counters);
          conn.downstream = queue;
          open(r, request.open, conn, () => {
            polls.set(conn, queue);
            r.onAbort(() => queue.aborted(r));
            queue.poll(r, 0, { id: conn.id, key: conn.key });
          });
          return;
        }
        const conn = connections.get(request.poll.id);
        const queue = conn === undefined ? undefined : polls.get(conn);
        if (conn === undefined || queue === undefined || !conn.owns(request.poll.key)) return r.error('404 Not Found', NO_SUCH_CONNECTION);
        r.onAbort(() => queue.aborted(r));
        queue.poll(r, request.poll.seen);
      } catch (err) {
        answerError(r, err, 'a poll');
      }
    });
  });

  app.post(FallbackPath.Send, (res) => {
    const r = exchange(res);
    void readLimited(res, MAX_FALLBACK_BODY_BYTES).then((raw) => {
      if (r.aborted || badBody(r, raw)) return;
      let request: SendRequest;
      try {
        request = parseSend(raw);
      } catch (err) {
        return answerError(r, err, 'a send');
      }
      const conn = connections.get(request.id);
      if (conn === undefined || !conn.owns(request.key) || conn.closed) return r.error('404 Not Found', NO_SUCH_CONNECTION);
      if (!receive(conn, request)) {
        conn.end(CloseCode.ProtocolError);
        return r.error('400 Bad Request', 'a frame is not one this protocol allows here (docs/protocol.md §2); the connection is closed with 4504');
      }
      if (request.close) conn.end(NORMAL_CLOSE);
      r.send('204 No Content', 'text/plain; charset=utf-8', '');
    });
  });

  for (const path of Object.values(FallbackPath)) {
    app.options(path, (res) => {
      res.cork(() => {
        res.writeStatus('204 No Content').writeHeader('access-control-allow-origin', '*');
        res.writeHeader('access-control-allow-methods', 'POST').writeHeader('access-control-allow-headers', 'content-type');
        res.end('');
      });
    });
  }

  // Shared timers, not one per connection: an idle connection costs no timer of its own.
  const heartbeats = setInterval(() => {
    for (const { stream } of streams.values()) stream.heartbeat();
  }, heartbeatMs);
  heartbeats.unref();
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [conn, queue] of polls) {
      if (queue.idleSinceMs === undefined || now - queue.idleSinceMs < pollIdleMs) continue;
      polls.delete(conn);
      connections.delete(conn.id);
      conn.end(LOST);
    }
  }, Math.min(1000, pollIdleMs / 2));
  sweeper.unref();

  return {
    publish(topic, frame) {
      const members = topics.get(topic);
      if (members === undefined) return;
      for (const conn of members) conn.published(frame);
    },
    dropStreams() {
      for (const [conn, { stream, res }] of [...streams]) {
        stream.aborted();
        conn.end(LOST);
        res.close();
      }
    },
    stop() {
      clearInterval(heartbeats);
      clearInterval(sweeper);
      for (const queue of polls.values()) queue.release();
    },
  };
}

/** Applies a send's frames as a socket's messages are; false for one the protocol does not allow. */
function receive(conn: FallbackConnection, request: SendRequest): boolean {
  const session = conn.session;
  if (request.frames === undefined || session === undefined) return request.frames !== undefined && request.frames.length === 0;
  for (const frame of request.frames) {
    if (frame.type === FrameType.TopicResume) {
      if (conn.awaitTopics === undefined) return false;
      conn.awaitTopics(frame.positions);
    } else if (conn.awaitTopics !== undefined) {
      // The announced topic resume frame must come first.
      return false;
    } else if (frame.topic === undefined) session.acknowledge(frame.seq);
    else session.acknowledgeTopic(frame.topic, frame.seq);
  }
  return true;
}
