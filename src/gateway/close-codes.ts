import { SessionEnd } from '../core/session.js';

/**
 * WebSocket close codes, as documented in docs/protocol.md §4.
 * 4000–4499: the client reconnects by itself and resumes. 4500–4999: terminal, no reconnect.
 * Reasons use App Engine's '+'-for-space spelling and fit the 123-byte limit of a close frame.
 */
export const CloseCode = {
  GoingAway: { code: 1001, reason: 'Going+away.' },
  SlowConsumer: { code: 4001, reason: 'Slow+consumer.' },
  InvalidToken: { code: 4500, reason: 'Invalid+token.' },
  TokenExpired: { code: 4501, reason: 'Token+timed+out.' },
  Replaced: { code: 4502, reason: 'Replaced+by+newer+socket.' },
  ChannelClosed: { code: 4503, reason: 'Channel+closed.' },
  ProtocolError: { code: 4504, reason: 'Protocol+error.' },
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const CLOSE_FOR_SESSION_END: Record<SessionEnd, CloseCode> = {
  [SessionEnd.Replaced]: CloseCode.Replaced,
  [SessionEnd.TokenExpired]: CloseCode.TokenExpired,
  [SessionEnd.ChannelClosed]: CloseCode.ChannelClosed,
  [SessionEnd.SlowConsumer]: CloseCode.SlowConsumer,
  [SessionEnd.Shutdown]: CloseCode.GoingAway,
  [SessionEnd.Revoked]: CloseCode.InvalidToken,
};
