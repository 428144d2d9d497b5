import type { HttpResponse } from '../gateway/uws.js';

export type BodyOutcome = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly bytes: number };

/**
 * Reads a request body of at most `limit` bytes as it streams in. Past the limit it stops at once
 * (with the count so far) instead of holding more: nothing past `limit` bytes is ever kept. With
 * a Content-Length the body goes straight into one buffer of that size. uWS neuters each chunk
 * when the callback returns, so every chunk is copied.
 */
export function readLimitedBody(res: HttpResponse, declaredLength: number | undefined, limit: number, done: (outcome: BodyOutcome) => void): void {
  let size = 0;
  let finished = false;
  const whole = declaredLength === undefined ? undefined : Buffer.allocUnsafe(declaredLength);
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit || (whole !== undefined && size > whole.byteLength)) {
      finished = true;
      done({ ok: false, bytes: size });
      return;
    }
    if (whole !== undefined) Buffer.from(chunk).copy(whole, size - chunk.byteLength);
    else if (chunk.byteLength > 0) chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast) return;
    finished = true;
    done({ ok: true, body: whole !== undefined ? whole.subarray(0, size) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
  });
}
