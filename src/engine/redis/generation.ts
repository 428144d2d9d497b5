import type { Logger } from 'pino';

const BOOT_RETRY_FIRST_MS = 50;
const BOOT_RETRY_MAX_MS = 2000;

export interface DataGenerationDeps {
  /** Runs boot.lua: the run id of the Redis process serving the data, and the one recorded before. */
  readonly boot: () => Promise<[runId: string, recorded: string | null]>;
  /**
   * Redis is served by another process than when this node last booted (a restart or a
   * fail-over): its data may be older or gone. Runs before any other command of the node, with
   * the new run id; a failure makes the next command boot again.
   */
  readonly onNewProcess: (runId: string, previous: string) => Promise<void>;
  readonly log: Logger;
}

/**
 * Which Redis process this node's commands reach. Every script carries the run id this node
 * booted against and is refused (CHANNELD_STALE) by another process, so the node must boot
 * (boot.lua) after each (re)connect before anything else; `current()` holds commands until it has.
 * Channel and topic hashes written under an earlier process get new epochs as they are used
 * (generation.lua).
 */
export class DataGeneration {
  private runId: string | undefined;
  private lastRunId: string | undefined;
  /** Bumped by every invalidate(), so a boot that raced a reconnect is not trusted. */
  private incarnation = 0;
  private booting: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: DataGenerationDeps) {}

  /** The run id to send with a command, booting first if the connection is new. */
  current(): Promise<string> {
    if (this.runId !== undefined) return Promise.resolve(this.runId);
    this.booting ??= this.boot();
    return this.booting;
  }

  /**
   * The connection closed (or a script was refused as stale): boot before the next command, and
   * soon even if none comes, so a Redis that lost its data hears again from this node at once.
   */
  invalidate(): void {
    this.incarnation++;
    this.runId = undefined;
    this.booting = undefined;
    this.bootSoon(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private bootSoon(attempt: number): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.runId !== undefined) return;
      // Fails at once while Redis is still away; the connection retries on its own meanwhile.
      this.current().catch(() => this.bootSoon(attempt + 1));
    }, Math.min(BOOT_RETRY_FIRST_MS * 2 ** attempt, BOOT_RETRY_MAX_MS));
    this.timer.unref();
  }

  private async boot(): Promise<string> {
    const incarnation = this.incarnation;
    try {
      const [runId, recorded] = await this.deps.boot();
      if (this.lastRunId !== undefined && this.lastRunId !== runId) {
        await this.deps.onNewProcess(runId, this.lastRunId);
      } else if (this.lastRunId === undefined && recorded !== null && recorded !== runId) {
        this.deps.log.info({ runId, recorded }, 'redis data was last served by another redis process: epochs start anew as they are used');
      }
      this.lastRunId = runId;
      if (incarnation === this.incarnation) this.runId = runId;
      return runId;
    } finally {
      if (incarnation === this.incarnation) this.booting = undefined;
    }
  }
}
