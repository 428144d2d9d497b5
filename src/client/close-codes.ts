/**
 * The close-code table of docs/protocol.md §4, as the browser sees it. The gateway has its own copy
 * (src/gateway/close-codes.ts); the client cannot import server code, so the protocol doc is the
 * single source both follow.
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  SLOW_CONSUMER: 4001,
  INVALID_TOKEN: 4500,
  TOKEN_TIMED_OUT: 4501,
  REPLACED: 4502,
  CHANNEL_CLOSED: 4503,
  PROTOCOL_ERROR: 4504,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The App Engine–style error a socket reports before it closes for good. */
export interface ChannelErrorInfo {
  readonly code: number;
  readonly description: string;
}

const errorsByCloseCode: ReadonlyMap<number, ChannelErrorInfo> = new Map([
  [CloseCode.INVALID_TOKEN, { code: 401, description: 'Invalid+token.' }],
  [CloseCode.TOKEN_TIMED_OUT, { code: 401, description: 'Token+timed+out.' }],
  [CloseCode.REPLACED, { code: 409, description: 'Replaced+by+newer+socket.' }],
  [CloseCode.CHANNEL_CLOSED, { code: 410, description: 'Channel+closed.' }],
  [CloseCode.PROTOCOL_ERROR, { code: 400, description: 'Protocol+error.' }],
]);

/** 4500–4999 are terminal: reconnecting would fail the same way (or, for 4502, ping-pong two tabs). */
export function isTerminalCloseCode(code: number): boolean {
  return code >= 4500 && code <= 4999;
}

/**
 * The error to report for a terminal close, or undefined when the close is not an error. A terminal
 * code this client does not know (a newer server) still gets reported, with the server's reason, so
 * the application is never left with a silent close.
 */
export function errorForCloseCode(code: number, reason: string): ChannelErrorInfo | undefined {
  const known = errorsByCloseCode.get(code);
  if (known !== undefined) return known;
  if (!isTerminalCloseCode(code)) return undefined;
  return { code: 500, description: reason === '' ? 'Unknown+error.' : reason };
}
