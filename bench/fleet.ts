import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReceiverMessage, ReceiverRequest, SenderMessage, SenderRequest } from './ipc.js';

type WithoutReq<T> = T extends { readonly req: number } ? Omit<T, 'req'> : never;

/** How a generator process is started: a Node script over Node's IPC, or a program speaking JSON lines. */
export type Launch =
  | { readonly kind: 'fork'; readonly script: string }
  | { readonly kind: 'exec'; readonly command: string; readonly args: readonly string[] };

/**
 * One generator process and its request/reply channel. A forked script talks over Node's IPC
 * channel; an exec'd program (bench/loadgen, Go) reads one JSON message a line on stdin and
 * writes its replies and progress the same way on stdout. Closing the channel (IPC disconnect,
 * stdin EOF) makes the process exit.
 */
export class Generator<Req extends { readonly type: string }, Msg extends { readonly type: string }> {
  readonly child: ChildProcess;
  private nextReq = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly write: (message: object) => void;
  private readonly connected: () => boolean;
  private readonly hangUp: () => void;

  constructor(
    readonly name: string,
    launch: string | Launch,
    onMessage: (message: Msg) => void,
  ) {
    const how: Launch = typeof launch === 'string' ? { kind: 'fork', script: launch } : launch;
    const receive = (raw: unknown): void => {
      const message = raw as Msg | { type: 'reply'; req: number; ok: boolean; value?: unknown; error?: string };
      if (message.type !== 'reply' || !('req' in message)) {
        onMessage(message as Msg);
        return;
      }
      const waiter = this.pending.get(message.req);
      this.pending.delete(message.req);
      if (waiter === undefined) return;
      if (message.ok) waiter.resolve(message.value ?? null);
      else waiter.reject(new Error(`${this.name}: ${message.error}`));
    };
    if (how.kind === 'fork') {
      const child = fork(fileURLToPath(new URL(how.script, import.meta.url)), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.child = child;
      child.on('message', receive);
      this.write = (m) => child.send(m);
      this.connected = () => child.connected;
      this.hangUp = () => child.disconnect();
    } else {
      const child = spawn(how.command, [...how.args], { stdio: ['pipe', 'pipe', 'inherit'] });
      this.child = child;
      let open = true;
      child.stdin.on('error', () => (open = false));
      createInterface({ input: child.stdout }).on('line', (line) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          process.stderr.write(`[${name}] ${line}\n`);
          return;
        }
        receive(parsed);
      });
      this.write = (m) => {
        if (open) child.stdin.write(`${JSON.stringify(m)}\n`);
      };
      this.connected = () => open && child.exitCode === null;
      this.hangUp = () => {
        open = false;
        child.stdin.end();
      };
    }
    this.child.on('error', (err) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${this.name}: ${err.message}`));
      this.pending.clear();
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
      this.write({ ...message, req });
    });
  }

  post(message: Req): void {
    if (this.connected()) this.write(message);
  }

  /** Closes the request channel, which makes the process exit (bench/load/serve.ts, bench/loadgen). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.hangUp();
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

  /** `sender` launches each sender process: the Go load generator, or bench/load/sender.ts. */
  constructor(receivers: number, senders: number, sender: Launch) {
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
        new Generator<SenderRequest, SenderMessage>(`sender ${i}`, sender, (m) => {
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
