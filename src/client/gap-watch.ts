/** Which of a socket's streams: a topic's name, or undefined for the channel's own messages. */
export type StreamName = string | undefined;

/**
 * Long enough for a replay (read from history after a topic welcome) to reach the live messages
 * held after it, short enough that a message the server will never send on this socket holds the
 * ones after it only briefly.
 */
export const DEFAULT_GAP_TIMEOUT_MS = 5000;

/**
 * Bounds how long a stream may wait for a missing seq while later ones are held. A seq missing on
 * a socket may never come (a server that skipped a slow socket, say), and in-order delivery would
 * then hold the stream forever; when a stream has waited `timeoutMs` without moving, `expired` is
 * called, and the owner resumes on a new socket, where the server fills the gap from history or
 * reports it as not recovered.
 */
export class GapWatch {
  private readonly timers = new Map<StreamName, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly expired: (stream: StreamName) => void,
  ) {}

  /**
   * `stream` waits for a missing seq. `moved`: its position advanced since it last waited (the
   * replay is coming in), so its clock starts again.
   */
  waiting(stream: StreamName, moved: boolean): void {
    const running = this.timers.get(stream);
    if (running !== undefined) {
      if (!moved) return;
      clearTimeout(running);
    }
    const timer = setTimeout(() => {
      this.timers.delete(stream);
      this.expired(stream);
    }, this.timeoutMs);
    this.timers.set(stream, timer);
  }

  /** `stream` waits for nothing (any more). */
  caughtUp(stream: StreamName): void {
    const running = this.timers.get(stream);
    if (running === undefined) return;
    clearTimeout(running);
    this.timers.delete(stream);
  }

  /** The socket is gone: what it was waiting for no longer matters. */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
