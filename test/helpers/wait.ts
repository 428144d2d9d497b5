/**
 * Wakes waiters when something they may be waiting for happened (a frame, an event, a close).
 * `until` re-checks its predicate on every wake-up, so it never polls and never sleeps.
 */
export class Signal {
  private waiters: (() => void)[] = [];

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` with `describe()` in the message. */
  async until(predicate: () => boolean, what: string, describe: () => string = () => '', timeoutMs = 10_000): Promise<void> {
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      this.notify();
    }, timeoutMs);
    try {
      while (!predicate()) {
        if (timedOut) throw new Error(`timed out waiting for ${what}${describe() === '' ? '' : `; ${describe()}`}`);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    } finally {
      clearTimeout(deadline);
    }
  }
}

/** Retries `fn` until it resolves (Redis, or one shard of it, coming back answers UNAVAILABLE meanwhile). */
export async function untilOk<T>(fn: () => Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
