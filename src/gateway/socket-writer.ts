import { SessionEnd, type SessionSink } from '../core/session.js';
import type { ChannelMessage, Epoch, Topic } from '../core/types.js';
import { CLOSE_FOR_SESSION_END } from './close-codes.js';
import { encodeMessage, encodeTopicLeft, encodeTopicMessage, encodeTopicWelcome, encodeWelcome } from './frames.js';
import { endSocket, type SocketData } from './socket-data.js';
import type { WebSocket } from './uws.js';

// uWS send() results.
const DROPPED = 2;
/** Our pub/sub namespace inside uWS, so later kinds of topics cannot collide with backend topics. */
const UWS_TOPIC_PREFIX = 't:';

export function uwsTopic(topic: Topic): string {
  return UWS_TOPIC_PREFIX + topic;
}

/** Queued bytes (UTF-16 units, close enough) past which a socket's queue is sent at once. */
const FLUSH_EARLY_BYTES = 16 * 1024;

/**
 * Sends queued frames once per event-loop turn. A turn of gRPC calls often carries several
 * messages for one socket; cork-and-send per message would cost a syscall each. setImmediate runs
 * right after the turn's I/O callbacks, so nothing waits for more than that turn.
 */
export class FlushQueue {
  private due: SocketWriter[] = [];
  private scheduled = false;

  add(sink: SocketWriter): void {
    this.due.push(sink);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = [];
    for (const sink of due) sink.flush();
  };
}

/**
 * The core's view of one socket. A class rather than closures: its methods live on the prototype,
 * so an idle socket costs one small object.
 */
export class SocketWriter implements SessionSink {
  private readonly data: SocketData;
  /** Frames not yet handed to uWS, in order, and their UTF-8 size (counted against the cap). */
  private queue: string[] | undefined;
  private queuedBytes = 0;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly sendBufferBytes: number,
    private readonly flushes: FlushQueue,
  ) {
    this.data = ws.getUserData();
  }

  /** Hands the queue to uWS in one corked write; false when a send was dropped or the socket is over its cap. */
  private flushNow(): boolean {
    const frames = this.queue;
    this.queue = undefined;
    this.queuedBytes = 0;
    if (frames === undefined || this.data.closed) return true;
    const ws = this.ws;
    let dropped = false;
    ws.cork(() => {
      for (const frame of frames) {
        // Never send past a dropped frame: the socket would see a gap instead of being closed.
        if (ws.send(frame, false) === DROPPED) {
          dropped = true;
          return;
        }
      }
    });
    // Our cap sits below uWS's maxBackpressure, so the 4001 close frame still fits behind the data.
    return !dropped && ws.getBufferedAmount() <= this.sendBufferBytes;
  }

  /** The end-of-turn flush. The cap is checked as frames are queued, so this only trips if uWS still dropped one. */
  flush(): void {
    if (!this.flushNow()) this.data.session?.end(SessionEnd.SlowConsumer);
  }

  /**
   * Queues a frame for this turn's flush; false when the socket is over its outgoing cap. The cap
   * is about what the client has not taken yet: a burst (a history replay) that the kernel accepts
   * at once must not count, so a queue past FLUSH_EARLY_BYTES is handed to uWS right away and
   * only uWS's own backlog is measured.
   */
  private enqueue(frame: string): boolean {
    if (this.data.closed) return true;
    if (this.queue === undefined) {
      this.queue = [frame];
      this.flushes.add(this);
    } else this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_EARLY_BYTES) return this.flushNow();
    return this.ws.getBufferedAmount() <= this.sendBufferBytes;
  }

  /**
   * Topic frames go out at once, behind anything queued: the gateway publishes topic messages
   * straight to uWS, and a topic's welcome and catch-up must keep their place among those.
   */
  private sendNow(frame: string): boolean {
    if (this.data.closed) return true;
    this.enqueue(frame);
    return this.flushNow();
  }

  welcome(epoch: Epoch, seq: number, recovered: boolean): void {
    this.enqueue(encodeWelcome(epoch, seq, recovered));
  }

  message(message: ChannelMessage): boolean {
    return this.enqueue(encodeMessage(message));
  }

  close(reason: SessionEnd): void {
    // What was queued before the close goes out before the close frame.
    this.flushNow();
    endSocket(this.ws, CLOSE_FOR_SESSION_END[reason]);
  }

  subscribe(topic: Topic): void {
    if (!this.data.closed) this.ws.subscribe(uwsTopic(topic));
  }

  unsubscribe(topic: Topic): void {
    if (this.data.closed) return;
    this.flushNow();
    this.ws.unsubscribe(uwsTopic(topic));
    this.sendNow(encodeTopicLeft(topic));
  }

  topicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): void {
    this.sendNow(encodeTopicWelcome(topic, epoch, seq, recovered));
  }

  topicMessage(topic: Topic, message: ChannelMessage): boolean {
    return this.sendNow(encodeTopicMessage(topic, message));
  }
}
