import type { Session } from '../core/session.js';
import type { GatewayCounters } from '../metrics/counters.js';
import type { TokenCheck } from '../core/tokens.js';
import type { StreamPosition, Topic } from '../core/types.js';
import type { CloseCode } from './close-codes.js';
import type { SocketWriter } from './socket-writer.js';
import type { TopicFanout } from './topic-fanout.js';
import type { WebSocket } from './uws.js';

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
  /** The node's topic fan-out, set by the gateway before open, so the socket's writer can join it. */
  fanout?: TopicFanout;
  /** The socket's writer, so the gateway can take it out of the fan-out when the socket closes. */
  writer?: SocketWriter;
  /** Where the writer counts frames and bytes (metrics), set by the gateway before open. */
  counters?: GatewayCounters;
  /** Send frames compressed (permessage-deflate, when the client negotiated it). */
  compress?: boolean;
}

/** Closes the socket with `close` unless it is closed already. */
export function endSocket(ws: WebSocket<SocketData>, close: CloseCode): void {
  const data = ws.getUserData();
  if (data.closed) return;
  ws.end(close.code, close.reason);
}
