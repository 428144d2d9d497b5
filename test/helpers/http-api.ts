import { request as httpRequest } from 'node:http';

export const SERVICE_PATH = '/channel.v1.ChannelService';

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
}

export interface CallOptions {
  readonly key?: string;
  readonly headers?: Record<string, string>;
  readonly method?: string;
}

/** One call of the HTTP API with fetch (undici), as a backend would make it; `body` is sent as JSON unless it is a string or bytes. */
export async function apiCall(base: string, method: string, body: unknown, options: CallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : body === undefined ? undefined : JSON.stringify(body);
  const response = await fetch(`${base}${SERVICE_PATH}/${method}`, {
    method: options.method ?? 'POST',
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export type StreamItem = Record<string, unknown>;

/**
 * A WatchPresence stream over HTTP read as it comes (node:http, so a test can stop reading and
 * watch backpressure): NDJSON lines, or SSE events as `{event, id, data}`.
 */
export class HttpPresenceStream {
  readonly items: StreamItem[] = [];
  status: number | undefined;
  contentType = '';
  ended = false;
  private buffer = '';
  private waiters: (() => void)[] = [];
  private readonly request: ReturnType<typeof httpRequest>;

  constructor(base: string, body: unknown, options: { sse?: boolean; key?: string; headers?: Record<string, string> } = {}) {
    const url = new URL(`${base}${SERVICE_PATH}/WatchPresence`);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: options.sse ? 'text/event-stream' : 'application/x-ndjson', ...options.headers };
    if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
    this.request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      this.status = res.statusCode;
      this.contentType = String(res.headers['content-type'] ?? '');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.buffer += chunk;
        this.parse(options.sse === true);
        this.wake();
      });
      res.on('end', () => {
        this.parse(options.sse === true);
        if (this.buffer.trim() !== '' && this.status !== 200) this.items.push(JSON.parse(this.buffer) as StreamItem);
        this.ended = true;
        this.wake();
      });
      res.on('error', () => undefined);
    });
    this.request.on('error', () => {
      this.ended = true;
      this.wake();
    });
    this.request.end(JSON.stringify(body));
  }

  private parse(sse: boolean): void {
    if (this.status !== 200) return;
    const separator = sse ? '\n\n' : '\n';
    let at: number;
    while ((at = this.buffer.indexOf(separator)) >= 0) {
      const block = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + separator.length);
      if (!sse) {
        this.items.push(JSON.parse(block) as StreamItem);
        continue;
      }
      const item: Record<string, unknown> = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === '') item['comment'] = value;
        else item[field] = field === 'data' ? JSON.parse(value) : value;
      }
      this.items.push(item);
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Presence events so far (NDJSON `event` lines or SSE `presence` events), as PresenceEvent JSON. */
  get events(): Record<string, unknown>[] {
    return this.items.flatMap((item) => {
      if ('event' in item && typeof item['event'] === 'object') return [item['event'] as Record<string, unknown>];
      if (item['event'] === 'presence') return [item['data'] as Record<string, unknown>];
      return [];
    });
  }

  async until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; items: ${JSON.stringify(this.items).slice(0, 2000)}`);
      if (this.ended && !predicate()) throw new Error(`stream ended before ${what}; items: ${JSON.stringify(this.items).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.request.destroy();
  }
}
