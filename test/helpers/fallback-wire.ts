/**
 * A Node client of the fallback transport's wire (docs/protocol.md §5), by hand and without the
 * bundled client, so tests can check the server against the document: an event stream read
 * through fetch(), or long polls, for the server's frames; POSTs for the client's.
 */
export type FallbackKind = 'sse' | 'poll';

export interface OpenBody {
  readonly token: string;
  readonly epoch?: string;
  readonly seq?: number;
  readonly topics?: true;
}

export interface ConnectionRef {
  readonly id: string;
  readonly key: string;
}

export interface FallbackWireEvents {
  /** The connection's id and key came (the `open` event, or the first poll's answer). */
  open(ref: ConnectionRef): void;
  frame(frame: unknown[]): void;
  /** The server's close (its `close` event or field), or 1006 when the connection was lost. Once. */
  close(code: number, reason: string): void;
}

/** The http(s) base URL of a node, from its WebSocket URL. */
export function httpBaseOf(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http').replace(/\/_ah\/channel\/ws$/, '');
}

export function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'text/plain;charset=UTF-8' }, ...(signal === undefined ? {} : { signal }) });
}

export class FallbackWire {
  ref: ConnectionRef | undefined;
  /** The status of a refused open, and its body. */
  refused: { status: number; body: string } | undefined;
  private readonly abort = new AbortController();
  private ended = false;
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly baseUrl: string,
    readonly kind: FallbackKind,
    body: OpenBody,
    private readonly events: FallbackWireEvents,
  ) {
    if (kind === 'sse') void this.stream(body);
    else void this.poll(body);
  }

  /** Posts frames, one POST after the other (so a topic resume frame precedes the acks); resolves to the status. */
  send(frames: readonly unknown[], close = false): Promise<number> {
    const ref = this.ref;
    if (ref === undefined) return Promise.resolve(0);
    const sent = this.sending.then(() =>
      post(`${this.baseUrl}/_ah/channel/send`, { ...ref, frames, ...(close ? { close: true } : {}) }).then(
        (res) => res.status,
        () => 0,
      ),
    );
    this.sending = sent;
    return sent;
  }

  /** Drops the connection without a word, as a lost network would: no close is reported. */
  cut(): void {
    this.ended = true;
    this.abort.abort();
  }

  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    this.events.close(code, reason);
  }

  private async stream(body: OpenBody): Promise<void> {
    try {
      const res = await post(`${this.baseUrl}/_ah/channel/sse`, body, this.abort.signal);
      if (!res.ok || res.body === null) {
        this.refused = { status: res.status, body: await res.text() };
        return this.finish(res.status === 401 ? (JSON.parse(this.refused.body) as { code: number }).code : 1006, '');
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.ended) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (event.startsWith(':')) continue;
          const type = /^event: (.*)$/m.exec(event)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(event)?.[1] ?? '';
          if (type === 'open') {
            this.ref = JSON.parse(data) as ConnectionRef;
            this.events.open(this.ref);
          } else if (type === 'close') {
            const [code, reason] = JSON.parse(data) as [number, string];
            return this.finish(code, reason);
          } else this.events.frame(JSON.parse(data) as unknown[]);
          if (this.ended) return;
        }
      }
      this.finish(1006, '');
    } catch {
      this.finish(1006, '');
    }
  }

  private async poll(open: OpenBody): Promise<void> {
    let body: unknown = open;
    try {
      for (;;) {
        const res = await post(`${this.baseUrl}/_ah/channel/poll`, body, this.abort.signal);
        if (this.ended) return;
        if (!res.ok) {
          this.refused = { status: res.status, body: await res.text() };
          return this.finish(res.status === 401 ? (JSON.parse(this.refused.body) as { code: number }).code : 1006, '');
        }
        const answer = (await res.json()) as { id?: string; key?: string; next: number; frames: unknown[][]; close?: [number, string] };
        if (this.ended) return;
        if (this.ref === undefined) {
          this.ref = { id: answer.id!, key: answer.key! };
          this.events.open(this.ref);
        }
        for (const frame of answer.frames) {
          this.events.frame(frame);
          if (this.ended) return;
        }
        if (answer.close !== undefined) return this.finish(answer.close[0], answer.close[1]);
        body = { ...this.ref, seen: answer.next };
      }
    } catch {
      this.finish(1006, '');
    }
  }
}
