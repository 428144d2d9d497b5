import { encodeAck, encodeTopicResume, type TopicPosition } from './frames.js';

/** The server's incoming frame limit (docs/protocol.md §2); a longer resume frame would be fatal. */
export const MAX_RESUME_FRAME_BYTES = 16 * 1024;

/** Messages of a topic were lost for good (or its history was replaced); the app should resynchronise. */
export interface TopicGap {
  readonly topic: string;
  readonly epoch: string;
  /** The topic's epoch the client had; undefined when it had no position in the topic yet. */
  readonly previousEpoch: string | undefined;
  /** The last seq delivered in `previousEpoch` (0 when there was none). */
  readonly lastSeq: number;
}

/** What the topic streams hand back to the channel socket; called synchronously. */
export interface TopicSink {
  deliver(topic: string, seq: number, data: string): void;
  gap(gap: TopicGap): void;
  /** A topic position moved past what the server was told: an ack is due. */
  ackDue(): void;
  /**
   * The topic, welcomed on this socket, holds messages beyond a missing seq. `moved`: its position
   * advanced (or it was welcomed) since it last waited.
   */
  waiting(topic: string, moved: boolean): void;
  /** The topic waits for no missing seq (any more): it caught up, or was left. */
  caughtUp(topic: string): void;
}

interface TopicState {
  /** Undefined until the topic's first welcome: until then its seqs cannot be placed. */
  epoch: string | undefined;
  /** The last seq delivered in `epoch`. */
  seq: number;
  /** The highest seq the server has been told (or told us) this client has. */
  acked: number;
  /** Whether this socket has had the topic's welcome; until then its messages are held. */
  welcomed: boolean;
  /** Messages not deliverable yet, by seq: before the welcome, or beyond a missing seq. */
  readonly held: Map<number, string>;
}

/**
 * The client's topics (docs/protocol.md §2, Topics). Topic messages travel by pub/sub, apart from
 * the replay the topic welcome starts, so they may arrive before that welcome and out of order
 * around it. Each topic therefore delivers strictly in seq order: a message waits until the topic
 * is welcomed on this socket and every seq before it has been delivered, and one at or below the
 * position is a duplicate. How long a welcomed topic may wait for a missing seq is the sink's to
 * bound (`waiting`). Positions outlive sockets, so a reconnect can resume them.
 */
export class TopicStreams {
  private readonly topics = new Map<string, TopicState>();

  constructor(private readonly sink: TopicSink) {}

  message(topic: string, seq: number, data: string): void {
    const state = this.state(topic);
    if (state.welcomed && seq <= state.seq) return;
    if (!state.held.has(seq)) state.held.set(seq, data);
    if (state.welcomed) this.drain(topic, state);
  }

  /** Like the channel welcome: the position moves to (epoch, seq), and a lost stretch is reported. */
  welcome(topic: string, epoch: string, seq: number, recovered: boolean): void {
    const state = this.state(topic);
    const previousEpoch = state.epoch;
    const lastSeq = state.seq;
    // In the same epoch we already hold everything up to our own seq, whatever the server thinks.
    state.seq = epoch === previousEpoch ? Math.max(state.seq, seq) : seq;
    state.epoch = epoch;
    state.acked = seq;
    state.welcomed = true;
    // Most recently welcomed last: the resume frame keeps those first when it must leave some out.
    this.topics.delete(topic);
    this.topics.set(topic, state);
    if (!recovered || (previousEpoch !== undefined && epoch !== previousEpoch)) {
      this.sink.gap({ topic, epoch, previousEpoch, lastSeq });
    }
    for (const held of state.held.keys()) if (held <= state.seq) state.held.delete(held);
    this.drain(topic, state, true);
  }

  /** The client id left the topic: its position means nothing any more. */
  left(topic: string): void {
    this.topics.delete(topic);
    this.sink.caughtUp(topic);
  }

  /** The socket is gone: the next one must welcome each topic again; held messages will be resent. */
  socketLost(): void {
    for (const [topic, state] of this.topics) {
      if (state.epoch === undefined) this.topics.delete(topic);
      state.welcomed = false;
      state.held.clear();
    }
  }

  /**
   * The topic resume frame for a reconnect, or undefined when there is no position to resume. It
   * stays under the server's frame limit by leaving out the least recently welcomed topics (say,
   * ones the client id was removed from while away); those resume from their last ack instead.
   */
  resumeFrame(): string | undefined {
    const positions: TopicPosition[] = [];
    const utf8 = new TextEncoder();
    let bytes = 16;
    for (const [topic, { epoch, seq }] of [...this.topics].reverse()) {
      if (epoch === undefined) continue;
      const position: TopicPosition = [topic, epoch, seq];
      bytes += utf8.encode(JSON.stringify(position)).length + 1;
      if (bytes > MAX_RESUME_FRAME_BYTES) break;
      positions.push(position);
    }
    return positions.length === 0 ? undefined : encodeTopicResume(positions);
  }

  /** Sends an ack for every topic welcomed on this socket whose position moved since the last. */
  flushAcks(send: (frame: string) => boolean): void {
    for (const [topic, state] of this.topics) {
      if (state.welcomed && state.seq > state.acked && send(encodeAck(state.seq, topic))) state.acked = state.seq;
    }
  }

  private state(topic: string): TopicState {
    let state = this.topics.get(topic);
    if (state === undefined) {
      state = { epoch: undefined, seq: 0, acked: 0, welcomed: false, held: new Map() };
      this.topics.set(topic, state);
    }
    return state;
  }

  private drain(topic: string, state: TopicState, justWelcomed = false): void {
    const from = state.seq;
    let data: string | undefined;
    while ((data = state.held.get(state.seq + 1)) !== undefined) {
      state.held.delete(++state.seq);
      this.sink.deliver(topic, state.seq, data);
      // A listener may have made the client leave the topic, or the socket go, meanwhile.
      if (this.topics.get(topic) !== state || !state.welcomed) return;
    }
    if (state.seq > state.acked) this.sink.ackDue();
    // Whatever is still held lies beyond a missing seq.
    if (state.held.size > 0) this.sink.waiting(topic, justWelcomed || state.seq > from);
    else this.sink.caughtUp(topic);
  }
}
