/** The resume position of docs/protocol.md §1: the channel's epoch and the last seq received. */
export interface ResumePosition {
  readonly epoch: string;
  readonly seq: number;
  /** The socket's first frame will be a topic resume frame (announced as `topics=1`). */
  readonly topics?: boolean;
}

const SOCKET_PATH = '/_ah/channel/ws';
const JSAPI_PATH = /\/_ah\/channel\/jsapi[^/]*$/;

/** Tokens use only these characters (docs/protocol.md §1), all legal in a subprotocol name. */
const TOKEN_PATTERN = /^[A-Za-z0-9._-]+$/;

export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/**
 * The WebSocket URL for a channeld base URL (http, https, ws or wss, optionally with a path prefix
 * when channeld sits behind a proxy). The query carries only the resume position, never the token.
 */
export function channelSocketUrl(baseUrl: string, resume?: ResumePosition): string {
  const url = new URL(baseUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`channeld base URL must be http(s) or ws(s), got ${url.protocol}`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '') + SOCKET_PATH;
  url.search = '';
  url.hash = '';
  if (resume !== undefined) {
    url.searchParams.set('epoch', resume.epoch);
    url.searchParams.set('seq', String(resume.seq));
    if (resume.topics === true) url.searchParams.set('topics', '1');
  }
  return url.toString();
}

/**
 * The channeld base URL implied by the address the jsapi script was loaded from, e.g.
 * `http://host:8080/_ah/channel/jsapi` → `http://host:8080`. The page usually lives on another
 * origin, so the script's own address is the only reliable way to find the server.
 */
export function baseUrlFromScriptSrc(src: string): string {
  const url = new URL(src);
  const prefix = JSAPI_PATH.test(url.pathname) ? url.pathname.replace(JSAPI_PATH, '') : '';
  return url.origin + prefix;
}

/** The fallback transport's endpoints (docs/protocol.md §5), under the same base URL as the socket. */
export type FallbackEndpoint = 'sse' | 'poll' | 'send';

/** The http(s) URL of a fallback endpoint; like the socket's, it never carries the token. */
export function fallbackUrl(baseUrl: string, endpoint: FallbackEndpoint): string {
  const url = new URL(baseUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`channeld base URL must be http(s) or ws(s), got ${url.protocol}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/_ah/channel/${endpoint}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}
