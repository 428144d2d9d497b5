import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SessionEnd, type Session, type SessionSink } from '../../core/session.js';
import type { ChannelMessage, Epoch, StreamPosition, Topic } from '../../core/types.js';
import type { GatewayCounters } from '../../metrics/counters.js';
import { CLOSE_FOR_SESSION_END, CloseCode } from '../close-codes.js';
import type { Close } from './wire.js';
import { encodeMessage, encodeTopicLeft, encodeTopicMessage, encodeTopicWelcome, encodeWelcome } from '../frames.js';

/** Where a fallback connection's frames go: an event stream, or the queue long polls drain. */
export interface Downstream {
  /** Queues one protocol frame; false when the connection is over its outgoing cap. */
  push(frame: string): boolean;
  /** Sends `close` after whatever is queued (nothing, after an overflow) and ends. */
  end(close: Close): void;
}

/** What a connection needs of the set of connections it belongs to. */
export interface ConnectionHome {
  readonly counters: GatewayCounters;
  join(topic: Topic, connection: FallbackConnection): void;
  leave(topic: Topic, connection: FallbackConnection): void;
  /** The connection ended: the core is told (through `closed`), the set forgets it when it may. */
  ended(connection: FallbackConnection): void;
}

/** The close of a connection whose client went away (no close can reach it): 1006, as for a socket lost without a close frame. */
export const LOST: Close = { code: 1006, reason: '' };

/**
 * One browser's connection over the fallback transport, as the core sees it: the same SessionSink
 * a WebSocket's writer is, so the one-socket rule, resume, "not recovered", displacement and
 * presence are the core's and identical. The id names it in the client's POSTs; the key (256
 * random bits, compared in constant time) proves a POST comes from the client that opened it.
 */
export class FallbackConnection implements SessionSink {
  readonly id = randomBytes(12).toString('base64url');
  readonly key = randomBytes(32).toString('base64url');
  session: Session | undefined;
  /** Takes the announced topic resume frame; set from open until it arrives (or times out). */
  awaitTopics: ((positions: ReadonlyMap<Topic, StreamPosition>) => void) | undefined;
  /** The close it ended with; undefined while it is open. */
  closedWith: Close | undefined;
  private readonly topics = new Set<Topic>();
  private slowPending = false;
  downstream!: Downstream;

  constructor(private readonly home: ConnectionHome) {}

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Whether `key` is this connection's, in time independent of where they differ. */
  owns(key: string): boolean {
    const given = Buffer.from(key);
    const own = Buffer.from(this.key);
    return given.length === own.length && timingSafeEqual(given, own);
  }

  private push(frame: string): boolean {
    if (this.closed) return true;
    if (this.downstream.push(frame)) return true;
    this.overflowed();
    return false;
  }

  /** Over the cap, found in a core call or outside one: the session is ended at the end of the turn. */
  overflowed(): void {
    if (this.slowPending) return;
    this.slowPending = true;
    setImmediate(() => {
      if (this.session !== undefined) this.session.end(SessionEnd.SlowConsumer);
      else this.end(CloseCode.SlowConsumer);
    });
  }

  welcome(epoch: Epoch, seq: number, recovered: boolean): void {
    this.home.counters.framesControl++;
    this.push(encodeWelcome(epoch, seq, recovered));
  }

  message(message: ChannelMessage): boolean {
    this.home.counters.framesChannel++;
    return this.push(encodeMessage(message));
  }

  close(reason: SessionEnd): void {
    this.end(CLOSE_FOR_SESSION_END[reason]);
  }

  subscribe(topic: Topic): void {
    if (this.closed || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.home.join(topic, this);
  }

  unsubscribe(topic: Topic): void {
    if (this.closed) return;
    this.topics.delete(topic);
    this.home.leave(topic, this);
    this.home.counters.framesControl++;
    this.push(encodeTopicLeft(topic));
  }

  topicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): void {
    this.home.counters.framesControl++;
    this.push(encodeTopicWelcome(topic, epoch, seq, recovered));
  }

  topicMessage(topic: Topic, message: ChannelMessage): boolean {
    this.home.counters.framesTopic++;
    return this.push(encodeTopicMessage(topic, message));
  }

  /** A published topic frame, encoded once for every member. */
  published(frame: string): void {
    this.home.counters.framesTopic++;
    this.push(frame);
  }

  /**
   * Ends the connection: the client is sent `close` (unless it is gone, `LOST`) and the core is
   * told, synchronously, as a WebSocket's close handler would.
   */
  end(close: Close): void {
    if (this.closed) return;
    this.closedWith = close;
    if (close !== LOST) this.downstream.end(close);
    for (const topic of this.topics) this.home.leave(topic, this);
    this.topics.clear();
    this.awaitTopics?.(new Map());
    this.home.ended(this);
  }
}
