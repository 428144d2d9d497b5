import type { Logger } from 'pino';
import type { Hub } from '../core/hub.js';
import type { StreamPosition, Topic } from '../core/types.js';
import { CloseCode } from './close-codes.js';
import { decodeClientFrame, FrameType, parseResume } from './frames.js';
import { endSocket, type SocketData } from './socket-data.js';
import { FlushQueue, SocketWriter } from './socket-writer.js';
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket } from './uws.js';

export const PROTOCOL = 'channeld.v1';
const TOKEN_PREFIX = 'token.';
/** Acks are tiny; a topic resume frame lists up to 64 positions. Longer frames are protocol errors. */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;
/** How long a reconnect that announced topics=1 may take to send its topic resume frame. */
const TOPIC_RESUME_WAIT_MS = 10_000;

export interface SocketHandlers {
  handleUpgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void;
  handleOpen(ws: WebSocket<SocketData>): void;
  handleMessage(ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void;
  handleClose(ws: WebSocket<SocketData>): void;
}

export function socketHandlers(hub: Hub, sendBufferBytes: number, logger: Logger): SocketHandlers {
  const log = logger.child({ mod: 'gateway' });
  const sessions = hub.sessions;
  const flushes = new FlushQueue();
  return {
    handleUpgrade(res, req, context) {
      const protocols = req.getHeader('sec-websocket-protocol').split(',').map((p) => p.trim());
      const token = protocols.find((p) => p.startsWith(TOKEN_PREFIX))?.slice(TOKEN_PREFIX.length);
      const resume = parseResume(req.getQuery() ?? '');
      const refuse = (status: string, text: string): void => {
        res.writeStatus(status).writeHeader('content-type', 'text/plain').end(text);
      };
      if (!protocols.includes(PROTOCOL)) return refuse('400 Bad Request', `offer the "${PROTOCOL}" subprotocol`);
      if (token === undefined || token === '') return refuse('401 Unauthorized', 'offer the token as a "token.<token>" subprotocol');
      if (resume === 'bad') {
        return refuse('400 Bad Request', 'epoch and seq must be given together; seq is a non-negative integer; topics may only be 1');
      }
      // Upgraded synchronously, inside this handler: the pinned uWS build can shut a socket down
      // right after its 101 when the upgrade comes later from a promise (fixed upstream in
      // fe7c01a). The check here is CPU only (signature and expiry); revocation is checked by the
      // engine atomically with the attach.
      const data: SocketData = {
        check: sessions.checkToken(token),
        resume: resume.position,
        announcesTopics: resume.topics,
        awaitTopics: undefined,
        session: undefined,
        closed: false,
      };
      res.upgrade(
        data,
        req.getHeader('sec-websocket-key'),
        PROTOCOL,
        req.getHeader('sec-websocket-extensions'),
        context,
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
      data.session = sessions.open(check.claims, new SocketWriter(ws, sendBufferBytes, flushes), data.resume, topicResume);
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
      } else if (frame.topic === undefined) session.acknowledge(frame.seq);
      else session.acknowledgeTopic(frame.topic, frame.seq);
    },

    handleClose(ws) {
      const data = ws.getUserData();
      data.closed = true;
      data.awaitTopics?.(new Map());
      if (data.session !== undefined) sessions.closed(data.session);
    },
  };
}
