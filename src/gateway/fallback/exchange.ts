import type { HttpResponse } from '../uws.js';
import { ANSWER_HEADERS_BASE } from './wire.js';

/** One request's answer, which may come after its client went away. */
export interface Reply {
  readonly aborted: boolean;
  send(status: string, contentType: string, body: string, headers?: Record<string, string>): void;
  error(status: string, message: string, headers?: Record<string, string>): void;
}

/**
 * Like the gateway's reply(), with a hook for the abort: uWS keeps one onAborted handler per
 * response, and a held poll or an event stream must learn that its client left.
 */
export function exchange(res: HttpResponse, onAborted: () => void = () => undefined): Reply & { onAbort(fn: () => void): void } {
  let aborted = false;
  let done = false;
  let hook = onAborted;
  res.onAborted(() => {
    aborted = true;
    hook();
  });
  const r = {
    get aborted() {
      return aborted;
    },
    onAbort(fn: () => void) {
      hook = fn;
    },
    send(status: string, contentType: string, body: string, headers: Record<string, string> = {}) {
      if (aborted || done) return;
      done = true;
      res.cork(() => {
        res.writeStatus(status).writeHeader('content-type', contentType);
        for (const [name, value] of Object.entries({ ...ANSWER_HEADERS_BASE, ...headers })) res.writeHeader(name, value);
        res.end(body);
      });
    },
    error(status: string, message: string, headers: Record<string, string> = {}) {
      r.send(status, 'application/json; charset=utf-8', JSON.stringify({ error: message }), headers);
    },
  };
  return r;
}

/**
 * Reads a body up to `limit` bytes. Past the limit it stops collecting and resolves undefined at
 * once, so the caller answers 413 without holding the rest (uWS then drops what still comes).
 */
export function readLimited(res: HttpResponse, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    res.onData((chunk, isLast) => {
      if (over) return;
      size += chunk.byteLength;
      if (size > limit) {
        over = true;
        resolve(undefined);
        return;
      }
      // uWS neuters each chunk after the callback: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}
