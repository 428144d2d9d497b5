import type { StreamPosition } from '../../core/types.js';
import { decodeClientFrame, type ClientFrame } from '../frames.js';

/**
 * The fallback transport's HTTP surface (docs/protocol.md §5): what the browser POSTs and what it
 * gets back. Every body is one JSON object, sent as text/plain so a page on another origin needs
 * no CORS preflight; tokens and connection keys travel in bodies only, never in a URL.
 */
export const FallbackPath = {
  /** Opens a connection whose frames come back as a text/event-stream response. */
  Sse: '/_ah/channel/sse',
  /** Opens a long-polling connection, or polls one. */
  Poll: '/_ah/channel/poll',
  /** The client's frames (acks, the topic resume frame) and its close, for either kind. */
  Send: '/_ah/channel/send',
} as const;

/** A body bigger than this is refused with 413 before it is read whole (frames are under 16 KiB). */
export const MAX_FALLBACK_BODY_BYTES = 20 * 1024;
/** Frames one send body may carry (acks are coalesced; a topic resume frame is one). */
export const MAX_FRAMES_PER_SEND = 64;

export class BadRequest extends Error {}

/** A close as the client is told it: a code of docs/protocol.md §4 (or 1000 for its own close) and the reason. */
export interface Close {
  readonly code: number;
  readonly reason: string;
}

/** What opens a fallback connection: the token and, on a reconnect, where the client stands. */
export interface OpenRequest {
  readonly token: string;
  readonly resume: StreamPosition | undefined;
  /** A topic resume frame will follow as the first frame sent (as topics=1 announces on a socket). */
  readonly topics: boolean;
}

export interface ConnectionRef {
  readonly id: string;
  readonly key: string;
}

export interface SendRequest extends ConnectionRef {
  /** Undefined when a frame is not one this protocol allows (the connection is then closed with 4504). */
  readonly frames: readonly ClientFrame[] | undefined;
  readonly close: boolean;
}

export interface PollRequest extends ConnectionRef {
  /** How many frames of this connection the client has received. */
  readonly seen: number;
}

function object(raw: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadRequest('the body must be one JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequest('the body must be one JSON object');
  return value as Record<string, unknown>;
}

function text(body: Record<string, unknown>, name: string, maxLength: number): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw new BadRequest(`"${name}" must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

function count(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new BadRequest(`"${name}" must be a non-negative integer`);
  return value;
}

export function parseOpen(raw: Buffer): OpenRequest {
  const body = object(raw);
  const token = text(body, 'token', 4096);
  const hasEpoch = body['epoch'] !== undefined;
  const hasSeq = body['seq'] !== undefined;
  if (hasEpoch !== hasSeq) throw new BadRequest('"epoch" and "seq" must be given together');
  const resume = hasEpoch ? { epoch: text(body, 'epoch', 64), seq: count(body, 'seq') } : undefined;
  const topics = body['topics'];
  if (topics !== undefined && topics !== true) throw new BadRequest('"topics" may only be true');
  return { token, resume, topics: topics === true };
}

function ref(body: Record<string, unknown>): ConnectionRef {
  return { id: text(body, 'id', 64), key: text(body, 'key', 128) };
}

export function parseSend(raw: Buffer): SendRequest {
  const body = object(raw);
  const { id, key } = ref(body);
  const list = body['frames'] ?? [];
  if (!Array.isArray(list) || list.length > MAX_FRAMES_PER_SEND) throw new BadRequest(`"frames" must be an array of at most ${MAX_FRAMES_PER_SEND} frames`);
  const close = body['close'];
  if (close !== undefined && close !== true) throw new BadRequest('"close" may only be true');
  const frames: ClientFrame[] = [];
  for (const item of list) {
    const frame = decodeClientFrame(JSON.stringify(item));
    if (frame === undefined) return { id, key, frames: undefined, close: close === true };
    frames.push(frame);
  }
  return { id, key, frames, close: close === true };
}

/** A poll either opens a connection (it carries a token) or polls one (it carries id and key). */
export function parsePoll(raw: Buffer): { open: OpenRequest } | { poll: PollRequest } {
  const body = object(raw);
  if (body['token'] !== undefined) return { open: parseOpen(raw) };
  return { poll: { ...ref(body), seen: count(body, 'seen') } };
}

// ---- server → client -------------------------------------------------------------------------

/** The first event of a connection: the transport's own, not a protocol frame. */
export interface Opened extends ConnectionRef {
  /** How often an idle event stream gets a comment, so the client can tell a dead one. */
  readonly heartbeatMs: number;
}

export function sseOpened(opened: Opened): string {
  return `event: open\ndata: ${JSON.stringify(opened)}\n\n`;
}

export function sseFrame(frame: string): string {
  return `data: ${frame}\n\n`;
}

export function sseClose(close: Close): string {
  return `event: close\ndata: ${JSON.stringify([close.code, close.reason])}\n\n`;
}

export const SSE_HEARTBEAT = ':\n\n';

/** One poll's answer: frames `next - frames.length` … `next - 1` of the connection, then its close if it ended. */
export function pollAnswer(opened: ConnectionRef | undefined, frames: readonly string[], next: number, close: Close | undefined): string {
  const head = opened === undefined ? '' : `"id":${JSON.stringify(opened.id)},"key":${JSON.stringify(opened.key)},`;
  const tail = close === undefined ? '' : `,"close":${JSON.stringify([close.code, close.reason])}`;
  return `{${head}"next":${next},"frames":[${frames.join(',')}]${tail}}`;
}

/** Why an open was refused, for a client that can read the status (unlike a WebSocket's). */
export function refusedBody(close: Close): string {
  return JSON.stringify({ code: close.code, reason: close.reason });
}

/** On every fallback answer: pages on any origin may read them (no cookies are involved), and none is cached. */
export const ANSWER_HEADERS_BASE = { 'cache-control': 'no-store', 'access-control-allow-origin': '*', 'x-content-type-options': 'nosniff' } as const;
