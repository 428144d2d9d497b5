import type { Logger } from 'pino';
import type { Hub } from '../core/hub.js';
import { SessionEnd, type Session, type SessionSink } from '../core/session.js';
import type { TokenCheck } from '../core/tokens.js';
import type { ChannelMessage, Epoch, StreamPosition, Topic } from '../core/types.js';
import { CLOSE_FOR_SESSION_END, CloseCode } from './close-codes.js';
import {
  decodeClientFrame,
  encodeMessage,
  encodeTopicLeft,
  encodeTopicMessage,
  encodeTopicWelcome,
  encodeWelcome,
  FrameType,
  parseResume,
} from './frames.js';
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket } from './uws.js';

export const PROTOCOL = 'channeld.v1';
const TOKEN_PREFIX = 'token.';
/** Acks are tiny; a topic resume frame lists up to 64 positions. Longer frames are protocol errors. */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;
/** How long a reconnect that announced topics=1 may take to send its topic resume frame. */
const TOPIC_RESUME_WAIT_MS = 10_000;
// uWS send() results.
const DROPPED = 2;
/** Our pub/sub namespace inside uWS, so later kinds of topics cannot collide with backend topics. */
const UWS_TOPIC_PREFIX = 't:';

export function uwsTopic(topic: Topic): string {
  return UWS_TOPIC_PREFIX + topic;
}

/** Per-socket state, carried by uWS as the socket's user data. */
export interface SocketData {
  readonly check: TokenCheck;
  readonly resume: StreamPosition | undefined;
  /** The URL announced a topic resume frame (topics=1). */
  readonly announcesTopics: boolean;
  /** Takes the announced topic resume frame; set from open until it arrives (or times out). */
  awaitTopics: ((positions: ReadonlyMap<Topic, StreamPosition>) => void) | undefined;
  session: Session | undefined;
  closed: boolean;
}

export interface SocketHandlers {
  handleUpgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void;
  handleOpen(ws: WebSocket<SocketData>): void;
  handleMessage(ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void;
  handleClose(ws: WebSocket<SocketData>): void;
}

function endSocket(ws: WebSocket<SocketData>, close: CloseCode): void {
  const data = ws.getUserData();
  if (data.closed) return;
  ws.end(close.code, close.reason);
}

/**
 * Sends queued frames once per event-loop turn. A turn of gRPC calls often carries several
 * messages for one socket; cork-and-send per message would cost a syscall each. setImmediate runs
 * right after the turn's I/O callbacks, so nothing waits for more than that turn.
 */
/** Queued bytes (UTF-16 units, close enough) past which a socket's queue is sent at once. */
const FLUSH_EARLY_BYTES = 16 * 1024;

class FlushQueue {
  private due: SocketSink[] = [];
  private scheduled = false;

  add(sink: SocketSink): void {
    this.due.push(sink);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = [];
    for (const sink of due) sink.flush();
  };
}

/**
 * The core's view of one socket. A class rather than closures: its methods live on the prototype,
 * so an idle socket costs one small object.
 */
class SocketSink implements SessionSink {
  private readonly data: SocketData;
  /** Frames not yet handed to uWS, in order, and their UTF-8 size (counted against the cap). */
  private queue: string[] | undefined;
  private queuedBytes = 0;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly sendBufferBytes: number,
    private readonly flushes: FlushQueue,
  ) {
    this.data = ws.getUserData();
  }

  /** Hands the queue to uWS in one corked write; false when a send was dropped or the socket is over its cap. */
  private flushNow(): boolean {
    const frames = this.queue;
    this.queue = undefined;
    this.queuedBytes = 0;
    if (frames === undefined || this.data.closed) return true;
    const ws = this.ws;
    let dropped = false;
    ws.cork(() => {
      for (const frame of frames) {
        // Never send past a dropped frame: the socket would see a gap instead of being closed.
        if (ws.send(frame, false) === DROPPED) {
          dropped = true;
          return;
        }
      }
    });
    // Our cap sits below uWS's maxBackpressure, so the 4001 close frame still fits behind the data.
    return !dropped && ws.getBufferedAmount() <= this.sendBufferBytes;
  }

  /** The end-of-turn flush. The cap is checked as frames are queued, so this only trips if uWS still dropped one. */
  flush(): void {
    if (!this.flushNow()) this.data.session?.end(SessionEnd.SlowConsumer);
  }

  /**
   * Queues a frame for this turn's flush; false when the socket is over its outgoing cap. The cap
   * is about what the client has not taken yet: a burst (a history replay) that the kernel accepts
   * at once must not count, so a queue past FLUSH_EARLY_BYTES is handed to uWS right away and
   * only uWS's own backlog is measured.
   */
  private enqueue(frame: string): boolean {
    if (this.data.closed) return true;
    if (this.queue === undefined) {
      this.queue = [frame];
      this.flushes.add(this);
    } else this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_EARLY_BYTES) return this.flushNow();
    return this.ws.getBufferedAmount() <= this.sendBufferBytes;
  }

  /**
   * Topic frames go out at once, behind anything queued: the gateway publishes topic messages
   * straight to uWS, and a topic's welcome and catch-up must keep their place among those.
   */
  private sendNow(frame: string): boolean {
    if (this.data.closed) return true;
    this.enqueue(frame);
    return this.flushNow();
  }

  welcome(epoch: Epoch, seq: number, recovered: boolean): void {
    this.enqueue(encodeWelcome(epoch, seq, recovered));
  }

  message(message: ChannelMessage): boolean {
    return this.enqueue(encodeMessage(message));
  }

  close(reason: SessionEnd): void {
    // What was queued before the close goes out before the close frame.
    this.flushNow();
    endSocket(this.ws, CLOSE_FOR_SESSION_END[reason]);
  }

  subscribe(topic: Topic): void {
    if (!this.data.closed) this.ws.subscribe(uwsTopic(topic));
  }

  unsubscribe(topic: Topic): void {
    if (this.data.closed) return;
    this.flushNow();
    this.ws.unsubscribe(uwsTopic(topic));
    this.sendNow(encodeTopicLeft(topic));
  }

  topicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): void {
    this.sendNow(encodeTopicWelcome(topic, epoch, seq, recovered));
  }

  topicMessage(topic: Topic, message: ChannelMessage): boolean {
    return this.sendNow(encodeTopicMessage(topic, message));
  }
}

export function socketHandlers(hub: Hub, sendBufferBytes: number, logger: Logger): SocketHandlers {
  const log = logger.child({ mod: 'gateway' });
  const flushes = new FlushQueue();
  return {
    handleUpgrade(res, req, context) {
      // req lives on the stack of this call: copy everything before the first await.
      const key = req.getHeader('sec-websocket-key');
      const offered = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const resume = parseResume(req.getQuery() ?? '');
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const protocols = offered.split(',').map((p) => p.trim());
      const token = protocols.find((p) => p.startsWith(TOKEN_PREFIX))?.slice(TOKEN_PREFIX.length);
      const refuse = (status: string, text: string): void => {
        res.cork(() => res.writeStatus(status).writeHeader('content-type', 'text/plain').end(text));
      };
      if (!protocols.includes(PROTOCOL)) return refuse('400 Bad Request', `offer the "${PROTOCOL}" subprotocol`);
      if (token === undefined || token === '') return refuse('401 Unauthorized', 'offer the token as a "token.<token>" subprotocol');
      if (resume === 'bad') {
        return refuse('400 Bad Request', 'epoch and seq must be given together; seq is a non-negative integer; topics may only be 1');
      }
      hub.authenticate(token).then(
        (check) => {
          if (aborted) return;
          const data: SocketData = {
            check,
            resume: resume.position,
            announcesTopics: resume.topics,
            awaitTopics: undefined,
            session: undefined,
            closed: false,
          };
          res.cork(() => res.upgrade(data, key, PROTOCOL, extensions, context));
        },
        (err: unknown) => {
          log.error({ err }, 'token check failed');
          if (!aborted) refuse('503 Service Unavailable', 'cannot check tokens right now');
        },
      );
    },

    handleOpen(ws) {
      const data = ws.getUserData();
      const check = data.check;
      if (!check.ok) {
        endSocket(ws, check.reason === 'expired' ? CloseCode.TokenExpired : CloseCode.InvalidToken);
        return;
      }
      let topicResume: Promise<ReadonlyMap<Topic, StreamPosition>> | undefined;
      if (data.announcesTopics) {
        topicResume = new Promise((resolve) => {
          const timer = setTimeout(() => {
            data.awaitTopics = undefined;
            resolve(new Map());
          }, TOPIC_RESUME_WAIT_MS);
          data.awaitTopics = (positions) => {
            clearTimeout(timer);
            data.awaitTopics = undefined;
            resolve(positions);
          };
        });
      }
      data.session = hub.openSession(check.claims, new SocketSink(ws, sendBufferBytes, flushes), data.resume, topicResume);
    },

    handleMessage(ws, message, isBinary) {
      const data = ws.getUserData();
      const frame =
        isBinary || message.byteLength > MAX_CLIENT_FRAME_BYTES
          ? undefined
          : decodeClientFrame(Buffer.from(message).toString('utf8'));
      const session = data.session;
      const valid =
        frame !== undefined &&
        session !== undefined &&
        (frame.type === FrameType.Ack || data.awaitTopics !== undefined);
      if (!valid) {
        log.debug({ bytes: message.byteLength, isBinary }, 'protocol error from browser');
        endSocket(ws, CloseCode.ProtocolError);
        return;
      }
      if (frame.type === FrameType.TopicResume) data.awaitTopics!(frame.positions);
      else if (data.awaitTopics !== undefined) {
        // The announced topic resume frame must come first.
        endSocket(ws, CloseCode.ProtocolError);
      } else if (frame.topic === undefined) hub.acknowledge(session, frame.seq);
      else hub.acknowledgeTopic(session, frame.topic, frame.seq);
    },

    handleClose(ws) {
      const data = ws.getUserData();
      data.closed = true;
      data.awaitTopics?.(new Map());
      if (data.session !== undefined) hub.socketClosed(data.session);
    },
  };
}
