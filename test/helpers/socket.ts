import WebSocket from 'ws';

export type Frame = readonly unknown[];

/**
 * A raw protocol client (docs/protocol.md), not our browser client: it records every frame and
 * the close, and lets a test wait for them without sleeping.
 */
export class RawSocket {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private waiters: (() => void)[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(
    url: string,
    token: string | undefined,
    opts: {
      resume?: { epoch: string; seq: number };
      protocols?: string[];
      /** Topic positions to resume: adds topics=1 and sends the [5, …] frame first. */
      topics?: [topic: string, epoch: string, seq: number][];
    } = {},
  ) {
    const params = new URLSearchParams();
    if (opts.resume) {
      params.set('epoch', opts.resume.epoch);
      params.set('seq', String(opts.resume.seq));
    }
    if (opts.topics) params.set('topics', '1');
    const query = params.size > 0 ? `?${params}` : '';
    const protocols = opts.protocols ?? ['channeld.v1', ...(token === undefined ? [] : [`token.${token}`])];
    this.ws = new WebSocket(url + query, protocols);
    this.ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? ['binary'] : (JSON.parse(String(data)) as Frame));
      this.wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        if (opts.topics) this.ws.send(JSON.stringify([5, opts.topics]));
        resolve();
      });
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve({ code, reason: this.closeReason });
      }),
    );
    // Swallow errors surfaced through `opened`, so an expected refusal does not crash the test.
    this.opened.catch(() => undefined);
  }

  /** The `[1, seq, data]` frames received so far. */
  get messages(): { seq: number; data: string }[] {
    return this.frames.filter((f) => f[0] === 1).map((f) => ({ seq: f[1] as number, data: f[2] as string }));
  }

  /** The `[2, topic, seq, data]` frames of one topic received so far. */
  topicMessages(topic: string): { seq: number; data: string }[] {
    return this.frames.filter((f) => f[0] === 2 && f[1] === topic).map((f) => ({ seq: f[2] as number, data: f[3] as string }));
  }

  /** The `[4, topic, epoch, seq, recovered]` frame of a topic, if it came. */
  topicWelcome(topic: string): Frame | undefined {
    return this.frames.find((f) => f[0] === 4 && f[1] === topic);
  }

  get welcome(): Frame | undefined {
    return this.frames.find((f) => f[0] === 0);
  }

  /** Resolves once `predicate` holds (checked after every frame and at close). */
  async until(predicate: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
    // A flag the deadline sets, not a clock comparison: a timer may fire a hair before the
    // elapsed time reaches timeoutMs, and then nothing would ever wake the loop again.
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      this.wake();
    }, timeoutMs);
    try {
      while (!predicate()) {
        if (timedOut) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(0, 500)}`);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  untilMessages(count: number): Promise<void> {
    return this.until(() => this.messages.length >= count, `${count} messages`);
  }

  ack(seq: number): void {
    this.ws.send(JSON.stringify([3, seq]));
  }

  close(): void {
    this.ws.close(1000);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
