import type { GatewayCounters } from '../../metrics/counters.js';
import type { HttpResponse } from '../uws.js';
import type { Downstream } from './connection.js';
import { SSE_HEARTBEAT, sseClose, sseFrame, type Close } from './wire.js';

/** Events of one turn past which they are written at once (a history replay), as a socket's writer does. */
const FLUSH_EARLY_BYTES = 16 * 1024;

/**
 * A connection's frames as one text/event-stream response. Frames of one event-loop turn go out
 * in one corked write. When uWS reports backpressure, later events wait here until it says the
 * response is writable again, and everything waiting (with what uWS still held) counts against
 * the same per-connection cap as a socket's: over it the stream gets only its close event
 * (4001), and the client resumes from its last seq.
 */
export class SseStream implements Downstream {
  private pending = '';
  private scheduled = false;
  /** uWS holds part of what was written: write nothing more until it says it is writable. */
  private blocked = false;
  /** Bytes not yet taken by the client, as far as we can tell: uWS's part (at most the last write) and ours. */
  private backlogBytes = 0;
  private overflowed = false;
  private finished = false;
  /** Written since the last heartbeat look, so an active stream gets no comments. */
  wroteSinceLook = true;

  constructor(
    private readonly res: HttpResponse,
    private readonly capBytes: number,
    private readonly counters: GatewayCounters,
    /** Told once, when the stream goes over its cap outside a push (at a turn's flush). */
    private readonly onOverflow: () => void,
  ) {
    res.onWritable(() => {
      if (this.finished) return true;
      this.blocked = false;
      this.backlogBytes = 0;
      if (this.pending !== '') this.flush();
      return true;
    });
  }

  /** The response went away (uWS's onAborted): nothing may touch it any more. */
  aborted(): void {
    this.finished = true;
    this.pending = '';
  }

  push(frame: string): boolean {
    if (this.finished) return true;
    if (this.overflowed) return false;
    this.pending += sseFrame(frame);
    if (this.pending.length >= FLUSH_EARLY_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
    return !this.overflowed;
  }

  /** A comment, when nothing was written since the last look, so proxies keep the stream open. */
  heartbeat(): void {
    if (!this.wroteSinceLook && !this.finished && !this.blocked && this.pending === '') this.write(SSE_HEARTBEAT);
    this.wroteSinceLook = false;
  }

  end(close: Close): void {
    if (this.finished) return;
    const last = (this.overflowed ? '' : this.pending) + sseClose(close);
    this.pending = '';
    this.finished = true;
    this.res.cork(() => this.res.end(last));
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    if (this.pending !== '') this.flush();
  };

  private flush(): void {
    if (this.finished || this.overflowed) return;
    const chunk = this.pending;
    const bytes = Buffer.byteLength(chunk);
    if (this.blocked) {
      // Held here until uWS drains; pending keeps growing, and counts.
      if (this.backlogBytes + bytes > this.capBytes) this.overflow();
      return;
    }
    this.pending = '';
    this.write(chunk);
    if (this.blocked) {
      this.backlogBytes = bytes;
      if (bytes > this.capBytes) this.overflow();
    }
  }

  private write(chunk: string): void {
    this.wroteSinceLook = true;
    let ok = true;
    this.res.cork(() => (ok = this.res.write(chunk)));
    this.counters.bytesSent += Buffer.byteLength(chunk);
    if (!ok) this.blocked = true;
  }

  private overflow(): void {
    this.overflowed = true;
    this.pending = '';
    this.onOverflow();
  }
}
