import { MAX_MESSAGE_BYTES } from '../core/limits.js';
import { SessionEnd, type SessionSink } from '../core/session.js';
import type { ChannelMessage, Epoch, Topic } from '../core/types.js';
import { GatewayCounters } from '../metrics/counters.js';
import { CLOSE_FOR_SESSION_END, CloseCode } from './close-codes.js';
import { encodeMessage, encodeTopicLeft, encodeTopicMessage, encodeTopicWelcome, encodeWelcome } from './frames.js';
import { endSocket, type SocketData } from './socket-data.js';
import { TOPIC_CHECK_BYTES, uwsTopic, type TopicFanout, type TopicMember } from './topic-fanout.js';
import type { WebSocket } from './uws.js';

// uWS send() results.
const DROPPED = 2;

/** For a writer whose gateway counts nothing (tests that build one by hand). */
const UNCOUNTED = new GatewayCounters();

/** Queued frames (UTF-16 units, close enough) past which a socket's queue is sent at once. */
const FLUSH_EARLY_BYTES = 16 * 1024;

/** The largest frame: a message's data JSON-escaped (a control character becomes \u00XX, 6 bytes), and the frame around it. */
const MAX_FRAME_BYTES = 6 * MAX_MESSAGE_BYTES + 512;
/** uWS holds up to this many topic frames per socket before writing them, each under UWS_HELD_FRAME_BYTES (larger ones it writes at once). */
const UWS_HELD_FRAMES = 32;
const UWS_HELD_FRAME_BYTES = 16 * 1024;

/**
 * How far past its cap a socket's backlog can grow before a writer or the topic fan-out sees it:
 * a channel batch (FLUSH_EARLY_BYTES of UTF-16 units, up to 3 bytes each, and the frame that
 * crossed it), the topic frames published since the fan-out last looked (TOPIC_CHECK_BYTES, or one
 * larger frame) and the topic frames uWS still holds for the socket. uWS's own limit must sit at
 * least this far (and a close frame) above the cap, so it never has to skip a frame: a slow socket
 * is closed with 4001 and resumes from history, whatever kind of frame filled it.
 */
export const BACKLOG_OVERSHOOT_BYTES =
  3 * FLUSH_EARLY_BYTES + MAX_FRAME_BYTES + Math.max(TOPIC_CHECK_BYTES, MAX_FRAME_BYTES) + UWS_HELD_FRAMES * UWS_HELD_FRAME_BYTES;

/**
 * The pinned uWS build writes frames of 16 KiB or more to a socket that is not a pub/sub
 * subscriber straight to the kernel, and when that write finds the kernel buffer full it keeps the
 * frame's header but loses its payload: the stream is corrupt from there (the client fails the
 * socket with 1006 after a garbled frame). Subscribers take uWS's ordinary buffered path, so a
 * socket is made one (of this topic, never published to) before its first frame that may be that
 * large. UTF-16 units × 3 bounds the UTF-8 size.
 */
const SUBSCRIBER_TOPIC = 'w:';
const UWS_LONG_FRAME_UNITS = Math.floor((16 * 1024) / 3);

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
 * The core's view of one socket, and its slow-consumer policy: every frame it sends, and every
 * topic frame uWS fans out to it, counts against the socket's cap; over it the socket gets nothing
 * more and is ended as a slow consumer (4001), so the client resumes from history rather than
 * miss a frame. A class rather than closures: its methods live on the prototype, so an idle
 * socket costs one small object.
 */
export class SocketWriter implements SessionSink, TopicMember {
  private readonly data: SocketData;
  private readonly fanout: TopicFanout | undefined;
  /** Frames not yet handed to uWS, in order, and their size (counted against the cap). */
  private queue: string[] | undefined;
  private queuedBytes = 0;
  /** Over its cap: nothing more is sent, and the session is being ended as a slow consumer. */
  private overflowed = false;
  /** Subscribed to SUBSCRIBER_TOPIC. */
  private subscriber = false;
  /** Topics it receives through the fan-out. */
  private topics: Set<Topic> | undefined;
  private readonly counters: GatewayCounters;
  private readonly compress: boolean;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly sendBufferBytes: number,
    private readonly flushes: FlushQueue,
  ) {
    this.data = ws.getUserData();
    this.fanout = this.data.fanout;
    this.data.writer = this;
    this.counters = this.data.counters ?? UNCOUNTED;
    this.compress = this.data.compress === true;
  }

  /** Hands the queue to uWS in one corked write; false when the socket is over its cap. */
  private flushNow(): boolean {
    const frames = this.queue;
    this.queue = undefined;
    this.queuedBytes = 0;
    if (this.overflowed) return false;
    if (frames === undefined || this.data.closed) return true;
    const ws = this.ws;
    if (!this.subscriber && frames.some((frame) => frame.length >= UWS_LONG_FRAME_UNITS)) {
      this.subscriber = true;
      ws.subscribe(SUBSCRIBER_TOPIC);
    }
    let dropped = false;
    const counters = this.counters;
    ws.cork(() => {
      for (const frame of frames) {
        // Never send past a dropped frame: the socket would see a gap instead of being closed.
        if (ws.send(frame, false, this.compress) === DROPPED) {
          dropped = true;
          return;
        }
        counters.bytesSent += Buffer.byteLength(frame);
      }
    });
    if (dropped || ws.getBufferedAmount() > this.sendBufferBytes) {
      this.overflow();
      return false;
    }
    return true;
  }

  /** The end-of-turn flush, and where an overflow found outside a core call ends the session. */
  flush(): void {
    if (this.flushNow() || this.data.closed) return;
    const session = this.data.session;
    if (session !== undefined) session.end(SessionEnd.SlowConsumer);
    else endSocket(this.ws, CloseCode.SlowConsumer);
  }

  /**
   * Over the cap: stop everything at once, so no frame can follow a gap. Queued frames are
   * dropped (the resume fetches them) and the socket leaves the fan-out, which also keeps uWS's
   * backlog low enough for the close frame. The session is ended at the end of the turn, outside
   * whatever core or uWS call found the overflow.
   */
  private overflow(): void {
    if (this.overflowed) return;
    this.overflowed = true;
    this.queue = undefined;
    this.queuedBytes = 0;
    for (const topic of this.topics ?? []) {
      this.ws.unsubscribe(uwsTopic(topic));
      this.fanout?.leave(topic, this);
    }
    this.topics = undefined;
    this.flushes.add(this);
  }

  /** The fan-out's look at this socket: what it has not taken yet, against the cap. */
  checkBacklog(): void {
    if (this.overflowed || this.data.closed) return;
    if (this.ws.getBufferedAmount() > this.sendBufferBytes) this.overflow();
  }

  /**
   * Queues a frame for this turn's flush; false when the socket is over its outgoing cap. The cap
   * is about what the client has not taken yet: a burst (a history replay) that the kernel accepts
   * at once must not count, so a queue past FLUSH_EARLY_BYTES is handed to uWS right away and
   * only uWS's own backlog is measured.
   */
  private enqueue(frame: string): boolean {
    if (this.data.closed) return true;
    if (this.overflowed) return false;
    if (this.queue === undefined) {
      this.queue = [frame];
      this.flushes.add(this);
    } else this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_EARLY_BYTES) return this.flushNow();
    if (this.ws.getBufferedAmount() <= this.sendBufferBytes) return true;
    this.overflow();
    return false;
  }

  /**
   * Topic frames go out at once, behind anything queued: the gateway publishes topic messages
   * straight to uWS, and a topic's welcome and catch-up must keep their place among those.
   */
  private sendNow(frame: string): boolean {
    return this.enqueue(frame) && this.flushNow();
  }

  welcome(epoch: Epoch, seq: number, recovered: boolean): void {
    this.counters.framesControl++;
    this.enqueue(encodeWelcome(epoch, seq, recovered));
  }

  message(message: ChannelMessage): boolean {
    this.counters.framesChannel++;
    return this.enqueue(encodeMessage(message));
  }

  close(reason: SessionEnd): void {
    // What was queued before the close goes out before the close frame (unless it overflowed).
    this.flushNow();
    endSocket(this.ws, CLOSE_FOR_SESSION_END[reason]);
  }

  subscribe(topic: Topic): void {
    if (this.data.closed || this.overflowed) return;
    this.ws.subscribe(uwsTopic(topic));
    (this.topics ??= new Set()).add(topic);
    this.fanout?.join(topic, this);
  }

  unsubscribe(topic: Topic): void {
    if (this.data.closed || this.overflowed) return;
    this.flushNow();
    this.ws.unsubscribe(uwsTopic(topic));
    this.topics?.delete(topic);
    this.fanout?.leave(topic, this);
    this.counters.framesControl++;
    this.sendNow(encodeTopicLeft(topic));
  }

  topicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): void {
    this.counters.framesControl++;
    this.sendNow(encodeTopicWelcome(topic, epoch, seq, recovered));
  }

  topicMessage(topic: Topic, message: ChannelMessage): boolean {
    this.counters.framesTopic++;
    return this.sendNow(encodeTopicMessage(topic, message));
  }

  /** The transport saw the socket close: uWS dropped its subscriptions, the fan-out forgets it. */
  socketClosed(): void {
    for (const topic of this.topics ?? []) this.fanout?.leave(topic, this);
    this.topics = undefined;
  }
}
