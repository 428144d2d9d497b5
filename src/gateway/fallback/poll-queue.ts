import type { GatewayCounters } from '../../metrics/counters.js';
import type { Reply } from './exchange.js';
import type { Downstream } from './connection.js';
import { BadRequest, pollAnswer, type Close, type ConnectionRef } from './wire.js';

/** A held poll, answered when frames come or when it has waited long enough. */
interface Waiting {
  readonly reply: Reply;
  readonly timer: NodeJS.Timeout;
  /** The connection's id and key go with the first answer only. */
  readonly opening: ConnectionRef | undefined;
}

/**
 * A long-polling connection's frames, numbered from 0, kept until a poll says the client has them
 * (`seen`): an answer lost on the way is sent again by the next poll. What is kept counts against
 * the same cap as a socket's outgoing bytes; over it everything kept is dropped and only the close
 * (4001) is left for the next poll, and the client resumes from its last seq.
 */
export class PollQueue implements Downstream {
  private frames: string[] = [];
  /** The number of the first frame in `frames`. */
  private base = 0;
  private bytes = 0;
  private overflowed = false;
  private closeWith: Close | undefined;
  private waiting: Waiting | undefined;
  private scheduled = false;
  /** When the last poll was answered (or came), for the idle check; undefined while one is held. */
  idleSinceMs: number | undefined = performance.now();

  constructor(
    private readonly capBytes: number,
    private readonly holdMs: number,
    private readonly counters: GatewayCounters,
  ) {}

  get hasEnded(): boolean {
    return this.closeWith !== undefined;
  }

  push(frame: string): boolean {
    if (this.closeWith !== undefined) return true;
    if (this.overflowed) return false;
    this.frames.push(frame);
    this.bytes += Buffer.byteLength(frame);
    if (this.bytes > this.capBytes) {
      this.overflowed = true;
      this.base += this.frames.length;
      this.frames = [];
      this.bytes = 0;
      return false;
    }
    this.answerSoon();
    return true;
  }

  end(close: Close): void {
    if (this.closeWith !== undefined) return;
    this.closeWith = close;
    this.answerSoon();
  }

  /**
   * One poll: what the client has (`seen`) is forgotten, and the rest (or the close) is answered
   * at once; with nothing to send, the poll is held up to holdMs. A poll that comes while another
   * is held answers the older one empty: the client only waits on its newest.
   */
  poll(reply: Reply, seen: number, opening?: ConnectionRef): void {
    const next = this.base + this.frames.length;
    if (seen > next) throw new BadRequest(`"seen" is ${seen}, but only ${next} frames were sent`);
    if (seen > this.base) {
      for (const frame of this.frames.splice(0, seen - this.base)) this.bytes -= Buffer.byteLength(frame);
      this.base = seen;
    }
    this.answer();
    this.idleSinceMs = undefined;
    const timer = setTimeout(() => this.answer(), this.holdMs);
    this.waiting = { reply, timer, opening };
    if (this.frames.length > 0 || this.closeWith !== undefined) this.answerSoon();
  }

  /** The held poll's client went away. */
  aborted(reply: Reply): void {
    if (this.waiting?.reply !== reply) return;
    clearTimeout(this.waiting.timer);
    this.waiting = undefined;
    this.idleSinceMs = performance.now();
  }

  /** Ends a held poll without a close (the node is going away and the connection record with it). */
  release(): void {
    this.answer();
  }

  /** At the end of the turn: a burst of frames goes in one answer. */
  private answerSoon(): void {
    if (this.waiting === undefined || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.answer();
    });
  }

  private answer(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    this.idleSinceMs = performance.now();
    const body = pollAnswer(waiting.opening, this.frames, this.base + this.frames.length, this.closeWith);
    this.counters.bytesSent += Buffer.byteLength(body);
    waiting.reply.send('200 OK', 'application/json; charset=utf-8', body);
  }
}
