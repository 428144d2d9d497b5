/** Where a node is in its life, as load balancers see it. */
export const Phase = {
  /** Listeners may be up, but the engine, gRPC or the gateway are not all started yet. */
  Starting: 'starting',
  Ready: 'ready',
  /** Shutting down: sockets are being closed, new traffic should go elsewhere. */
  Draining: 'draining',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * Whether the node should get traffic: started, not draining, and its engine reachable. /readyz
 * and gRPC health both read it; listeners learn of changes through `onChange` (the engine's state
 * is polled, since an engine has no event for it).
 */
export class Readiness {
  private phase: Phase = Phase.Starting;
  private engineUp = true;
  private readonly listeners = new Set<(ready: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private last: boolean | undefined;

  constructor(private readonly isEngineUp: () => boolean) {}

  /** Why the node is not ready, or undefined when it is. */
  notReadyBecause(): string | undefined {
    if (this.phase === Phase.Starting) return 'starting';
    if (this.phase === Phase.Draining) return 'draining';
    if (!this.engineUp) return 'engine unreachable';
    return undefined;
  }

  get ready(): boolean {
    return this.notReadyBecause() === undefined;
  }

  /** Start-up finished: watch the engine from now on. */
  markReady(pollMs: number): void {
    if (this.phase !== Phase.Starting) return;
    this.phase = Phase.Ready;
    this.engineUp = this.isEngineUp();
    this.timer = setInterval(() => {
      this.engineUp = this.isEngineUp();
      this.changed();
    }, pollMs);
    this.timer.unref();
    this.changed();
  }

  markDraining(): void {
    this.phase = Phase.Draining;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.changed();
  }

  /** Reads the engine now (a probe wants the current state, not the last poll's). */
  refresh(): boolean {
    if (this.phase === Phase.Ready) {
      this.engineUp = this.isEngineUp();
      this.changed();
    }
    return this.ready;
  }

  onChange(listener: (ready: boolean) => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    const ready = this.ready;
    if (ready === this.last) return;
    this.last = ready;
    for (const listener of this.listeners) listener(ready);
  }
}
