import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReceiverMessage, ReceiverRequest, SenderMessage, SenderRequest } from './ipc.js';

type WithoutReq<T> = T extends { readonly req: number } ? Omit<T, 'req'> : never;

/** One generator process and its request/reply channel. */
export class Generator<Req extends { readonly type: string }, Msg extends { readonly type: string }> {
  readonly child: ChildProcess;
  private nextReq = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    readonly name: string,
    script: string,
    onMessage: (message: Msg) => void,
  ) {
    this.child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (raw) => {
      const message = raw as Msg | { type: 'reply'; req: number; ok: boolean; value?: unknown; error?: string };
      if (message.type !== 'reply' || !('req' in message)) {
        onMessage(message as Msg);
        return;
      }
      const waiter = this.pending.get(message.req);
      this.pending.delete(message.req);
      if (waiter === undefined) return;
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`${this.name}: ${message.error}`));
    });
    this.child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${this.name} exited (code ${code}, signal ${signal})`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T>(message: WithoutReq<Req>): Promise<T> {
    const req = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...message, req });
    });
  }

  post(message: Req): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Disconnects the IPC channel, which makes the process exit (bench/load/serve.ts). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}

export type Receiver = Generator<ReceiverRequest, ReceiverMessage>;
export type Sender = Generator<SenderRequest, SenderMessage>;

/**
 * The generator processes of a run. It sums what the senders issued and what the receivers got,
 * and closes the senders' gate while more than `maxOutstanding` deliveries are in the pipe.
 */
export class Fleet {
  readonly receivers: Receiver[];
  readonly senders: Sender[];
  private readonly deliveredBy: number[];
  private readonly sentBy: number[];
  private maxOutstanding = Number.POSITIVE_INFINITY;
  private gateOpen = true;
  /** When the delivered total last grew (performance.now()). */
  lastDeliveryMs = 0;
  private listeners = new Set<() => void>();

  constructor(receivers: number, senders: number) {
    this.deliveredBy = new Array<number>(receivers).fill(0);
    this.sentBy = new Array<number>(senders).fill(0);
    this.receivers = Array.from(
      { length: receivers },
      (_, i) =>
        new Generator<ReceiverRequest, ReceiverMessage>(`receiver ${i}`, './load/receiver.ts', (m) => {
          if (m.type !== 'progress') return;
          if (m.delivered > this.deliveredBy[i]!) this.lastDeliveryMs = performance.now();
          this.deliveredBy[i] = m.delivered;
          this.update();
        }),
    );
    this.senders = Array.from(
      { length: senders },
      (_, i) =>
        new Generator<SenderRequest, SenderMessage>(`sender ${i}`, './load/sender.ts', (m) => {
          if (m.type !== 'sent') return;
          this.sentBy[i] = m.units;
          this.update();
        }),
    );
  }

  /** Every generator process, named as in the results (r0, r1, s0, s1, …). */
  get processes(): { name: string; pid: number }[] {
    return [
      ...this.receivers.map((r, i) => ({ name: `r${i}`, pid: r.pid })),
      ...this.senders.map((s, i) => ({ name: `s${i}`, pid: s.pid })),
    ];
  }

  get delivered(): number {
    return this.deliveredBy.reduce((a, b) => a + b, 0);
  }

  /** Call after the receivers reset their counters and before the senders start. */
  beginPhase(maxOutstanding: number): void {
    this.deliveredBy.fill(0);
    this.sentBy.fill(0);
    this.maxOutstanding = maxOutstanding;
    this.lastDeliveryMs = performance.now();
    this.setGate(true);
  }

  endPhase(): void {
    this.maxOutstanding = Number.POSITIVE_INFINITY;
    this.setGate(true);
  }

  /** Resolves once `predicate` holds or `idleMs` pass without a new delivery. */
  waitFor(predicate: () => boolean, idleMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate()) done(true);
        else if (performance.now() - this.lastDeliveryMs > idleMs) done(false);
      };
      const timer = setInterval(check, 50);
      const done = (ok: boolean): void => {
        clearInterval(timer);
        this.listeners.delete(check);
        resolve(ok);
      };
      this.listeners.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.receivers, ...this.senders].map((g) => g.close()));
  }

  private update(): void {
    const outstanding = this.sentBy.reduce((a, b) => a + b, 0) - this.delivered;
    if (this.gateOpen && outstanding > this.maxOutstanding) this.setGate(false);
    else if (!this.gateOpen && outstanding <= this.maxOutstanding / 2) this.setGate(true);
    for (const listener of this.listeners) listener();
  }

  private setGate(open: boolean): void {
    if (this.gateOpen === open) return;
    this.gateOpen = open;
    for (const s of this.senders) s.post({ type: 'gate', open });
  }
}
