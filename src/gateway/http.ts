import type { HttpResponse } from './uws.js';

/** A response that knows whether the client went away, so async handlers never touch a dead one. */
export interface Reply {
  readonly aborted: boolean;
  send(status: string, contentType: string, body: string | Buffer, headers?: Record<string, string>): void;
  json(status: string, value: unknown): void;
}

export function reply(res: HttpResponse): Reply {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const r: Reply = {
    get aborted() {
      return aborted;
    },
    send(status, contentType, body, headers = {}) {
      if (aborted) return;
      res.cork(() => {
        res.writeStatus(status).writeHeader('content-type', contentType);
        for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
        res.end(body);
      });
    },
    json(status, value) {
      r.send(status, 'application/json; charset=utf-8', JSON.stringify(value), { 'cache-control': 'no-store' });
    },
  };
  return r;
}

/** Reads a request body up to `limit` bytes; uWS neuters each chunk after the callback, so copy. */
export function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(new Error(`body is over ${limit} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}
