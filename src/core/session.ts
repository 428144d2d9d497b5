import type { Logger } from 'pino';
import type { HistoryResult, MessageLog, SocketDirectory, TopicMembership, TopicStore } from '../engine/engine.js';
import type { SessionCounters } from '../metrics/counters.js';
import type { TimerHandle } from './clock.js';
import { SessionEnd, type SessionSink } from './session-sink.js';
import { StepQueue } from './step-queue.js';
import type { AckCoalescer } from './ack-coalescer.js';
import type { TopicInterest } from './topic-interest.js';
import { TopicStream } from './topic-stream.js';
import type { TokenClaims } from './tokens.js';
import type { ChannelMessage, ClientId, Epoch, SocketId, StreamPosition, Topic } from './types.js';

export { SessionEnd, type SessionSink } from './session-sink.js';

/** What a session needs of its node. */
export interface SessionDeps {
  readonly engine: MessageLog & SocketDirectory & TopicStore;
  readonly interest: TopicInterest;
  /** Where the client's acknowledgements go (they become delivery receipts). */
  readonly acks: AckCoalescer;
  readonly log: Logger;
  readonly counters: SessionCounters;
  /** A fresh open (no resume) starts after the channel's last message, as on App Engine. */
  readonly dropWhenDisconnected: boolean;
}

/** Where a reconnecting client stands in its topics; resolves when the transport knows. */
export type TopicResume = Promise<ReadonlyMap<Topic, StreamPosition>>;

/** Tries to read history for a gap (about 6 s in all) before closing the socket so it resumes. */
const GAP_FILL_ATTEMPTS = 6;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * One open socket of one client id on this node, and the one owner of its life. Every
 * asynchronous step (attach, memberships, history, each topic's join and leave, gap fills) runs
 * on a serial queue: one for the channel, one per topic. Engine events become steps. Nothing
 * reaches the socket before its welcome; live messages that arrive while history is read are held
 * and merged by seq, so the socket sees every message once and in order.
 */
export class Session {
  private state: 'opening' | 'live' | 'filling' | 'closed' = 'opening';
  private pending: { epoch: Epoch; message: ChannelMessage }[] = [];
  private epoch: Epoch | undefined;
  private lastSeq = 0;
  private ended: SessionEnd | undefined;
  /**
   * An attach was sent (and not refused): the engine may have made this socket the client's
   * socket even if its reply was lost, so the close must detach it (a no-op if it did not).
   */
  private attachSent = false;
  private readonly steps = new StepQueue();
  private readonly topics = new Map<Topic, TopicStream>();
  /**
   * Membership reads whose answer is still to be weighed against the joins and leaves that came
   * meanwhile: while any is, a left topic's stream (and so its generation) is kept.
   */
  private membershipReads = 0;
  private readonly welcomed: Promise<void>;
  private markWelcomed!: () => void;
  expiryTimer: TimerHandle | undefined;
  /** An older socket of the same client id on this node, open until its displacement lands. */
  older: Session | undefined;

  constructor(
    readonly socketId: SocketId,
    readonly claims: TokenClaims,
    private readonly sink: SessionSink,
    private readonly deps: SessionDeps,
  ) {
    this.welcomed = new Promise((resolve) => (this.markWelcomed = resolve));
  }

  get clientId(): ClientId {
    return this.claims.clientId;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Why the core ended it; undefined when the socket went away by itself. */
  get endReason(): SessionEnd | undefined {
    return this.ended;
  }

  /** Whether closing it must detach it from the engine. */
  get isAttached(): boolean {
    return this.attachSent;
  }

  /** Settles when every channel step queued so far has run (an attach in flight among them). */
  get settled(): Promise<void> {
    return this.steps.idle;
  }

  // ---- the channel ---------------------------------------------------------------------------

  /**
   * Attaches (refused if a CloseChannel revoked the token), reads memberships and history, sends
   * the welcome and the recovered history, then starts each topic. Resolves when the welcome is out.
   */
  open(resume: StreamPosition | undefined, topicResume: TopicResume | undefined): Promise<void> {
    return this.steps.run(() => this.runOpen(resume, topicResume), (err) => this.fail(err, 'could not open session'));
  }

  private async runOpen(resume: StreamPosition | undefined, topicResume: TopicResume | undefined): Promise<void> {
    const { engine } = this.deps;
    if (this.isClosed) return;
    this.attachSent = true;
    const attach = await engine.attach(this.clientId, this.socketId, this.claims.issuedAtMs);
    if (!attach.attached) {
      this.attachSent = false;
      this.end(SessionEnd.Revoked);
      return;
    }
    if (this.isClosed) return;
    // A join or leave that arrives while memberships are read is newer than what the read says.
    const gens = new Map([...this.topics].map(([topic, stream]) => [topic, stream.gen]));
    const unchanged = (topic: Topic): boolean => (this.topics.get(topic)?.gen ?? 0) === (gens.get(topic) ?? 0);
    this.membershipReads++;
    let memberships: TopicMembership[];
    try {
      memberships = await engine.memberships(this.clientId);
    } catch (err) {
      this.membershipReads--;
      throw err;
    }
    if (this.isClosed) {
      this.membershipReads--;
      return;
    }
    const read = memberships;
    // Not a step of the channel queue: it only waits for the client's topic resume frame and then
    // queues each topic's join on that topic's own queue.
    void (async () => {
      try {
        const positions = topicResume === undefined ? new Map<Topic, StreamPosition>() : await topicResume;
        if (this.isClosed) return;
        const members = new Set<Topic>();
        for (const m of read) {
          members.add(m.topic);
          if (unchanged(m.topic)) this.join(m.topic, positions.get(m.topic) ?? m.position);
        }
        // The client resumed topics it no longer belongs to: it forgets them.
        for (const topic of positions.keys()) if (!members.has(topic) && unchanged(topic)) this.leave(topic);
      } finally {
        this.membershipReads--;
      }
    })();
    const mark = this.pending.length;
    let history = await engine.history(this.clientId, resume);
    if (resume === undefined && this.deps.dropWhenDisconnected) {
      // What was sent before the welcome stays undelivered, as on App Engine; a resume still replays.
      history = { ...history, fromSeq: history.messages.at(-1)?.seq ?? history.fromSeq, messages: [] };
    }
    if (resume !== undefined) {
      if (history.recovered) this.deps.counters.resumesRecovered++;
      else this.deps.counters.resumesNotRecovered++;
    }
    this.begin(history, mark);
  }

  /** `mark`: how many held messages had arrived when the history read was sent. */
  private begin(history: HistoryResult, mark: number): void {
    if (this.state !== 'opening') return;
    this.epoch = history.epoch;
    this.lastSeq = history.fromSeq;
    this.sink.welcome(history.epoch, history.fromSeq, history.recovered);
    this.state = 'live';
    this.markWelcomed();
    this.deliverAll(history.epoch, history.messages, mark);
  }

  deliver(epoch: Epoch, message: ChannelMessage): void {
    if (this.state === 'closed') return;
    if (this.state === 'opening' || this.state === 'filling') {
      this.pending.push({ epoch, message });
      return;
    }
    if (epoch === this.epoch && message.seq > this.lastSeq + 1) {
      // Live delivery skipped messages: read them from history first, hold this one meanwhile.
      this.pending.push({ epoch, message });
      this.startFill();
      return;
    }
    if (epoch !== this.epoch) {
      // The channel's history was replaced under a live socket: say so rather than leave a gap.
      this.epoch = epoch;
      this.lastSeq = message.seq - 1;
      this.sink.welcome(epoch, this.lastSeq, false);
    }
    if (message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    if (!this.sink.message(message)) this.end(SessionEnd.SlowConsumer);
  }

  /**
   * Delivers `messages` (read in `epoch`), then whatever was held meanwhile; reads again if a
   * resync asked to. A message held from before the read (the first `mark`) in another epoch is
   * older than the read: its history was replaced, and delivering it would flip the socket back.
   */
  private deliverAll(epoch: Epoch, messages: readonly ChannelMessage[], mark: number): void {
    for (const message of messages) this.deliver(epoch, message);
    const pending = this.pending;
    this.pending = [];
    for (let i = 0; i < pending.length; i++) {
      const item = pending[i]!;
      if (i < mark && item.epoch !== epoch) continue;
      this.deliver(item.epoch, item.message);
    }
  }

  /** Catches up from history after what the socket has, holding live messages meanwhile. */
  private startFill(): Promise<void> {
    this.state = 'filling';
    const after: StreamPosition = { epoch: this.epoch!, seq: this.lastSeq };
    return this.steps.run(() => this.runFill(after), (err) => this.fail(err, 'could not fill a gap'));
  }

  private async runFill(after: StreamPosition): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.isClosed) return;
      try {
        const mark = this.pending.length;
        const history = await this.deps.engine.history(this.clientId, after);
        this.fill(history, mark);
        return;
      } catch (err) {
        if (attempt >= GAP_FILL_ATTEMPTS) throw err;
        await delay(100 * 2 ** attempt);
      }
    }
  }

  private fill(history: HistoryResult, mark: number): void {
    if (this.state !== 'filling') return;
    this.state = 'live';
    if (!history.recovered) {
      // The missed messages are gone from the window: say so rather than leave a silent gap.
      this.epoch = history.epoch;
      this.lastSeq = history.fromSeq;
      this.sink.welcome(history.epoch, history.fromSeq, false);
    }
    this.deliverAll(history.epoch, history.messages, mark);
  }

  /**
   * The engine's feed of events may have lost some: a step that reads again where this socket
   * stands (still the client's socket? channel closed? which topics?) and acts on what changed,
   * then catches up from history. Resolves when it has run, so a node can pace many of them.
   */
  resync(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return this.steps.run(() => this.runResync(), (err) => this.fail(err, 'could not resync'));
  }

  private async runResync(): Promise<void> {
    const { engine } = this.deps;
    // Queued behind the open: a socket the engine refused, or that closed, has nothing to catch up.
    if (this.isClosed || !this.attachSent) return;
    const holder = await engine.holder(this.clientId);
    if (this.isClosed) return;
    if (holder.revokedAtMs !== undefined && this.claims.issuedAtMs <= holder.revokedAtMs) {
      this.end(SessionEnd.ChannelClosed);
      return;
    }
    if (holder.socketId !== this.socketId) {
      // Displaced while the feed was away; with no holder at all, attach again on a new socket.
      this.end(holder.socketId === undefined ? SessionEnd.Shutdown : SessionEnd.Replaced);
      return;
    }
    const gens = new Map([...this.topics].map(([topic, stream]) => [topic, stream.gen]));
    this.membershipReads++;
    let memberships: TopicMembership[];
    try {
      memberships = await engine.memberships(this.clientId);
    } finally {
      this.membershipReads--;
    }
    if (this.isClosed) return;
    const members = new Map(memberships.map((m) => [m.topic, m.position]));
    for (const [topic, position] of members) {
      const stream = this.topics.get(topic);
      // A join or leave that arrived meanwhile is newer than this read.
      if ((stream?.gen ?? 0) !== (gens.get(topic) ?? 0)) continue;
      if (stream === undefined || !stream.wanted) this.join(topic, position);
    }
    for (const [topic, stream] of this.topics) {
      if (stream.gen === gens.get(topic) && stream.wanted && !members.has(topic)) this.leave(topic);
    }
    // A fill queued behind this step reads after it anyway.
    if (this.state !== 'live') return;
    this.state = 'filling';
    await this.runFill({ epoch: this.epoch!, seq: this.lastSeq });
  }

  /**
   * Another socket took the client id a while ago (the registry waits a grace first). If nobody
   * holds it now — the newer socket closed at once, as a tab that opens and closes does — this
   * socket takes it back and catches up from history; otherwise it ends as replaced.
   */
  takeBack(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return this.steps.run(() => this.runTakeBack(), (err) => this.fail(err, 'could not take the client id back'));
  }

  private async runTakeBack(): Promise<void> {
    const { engine } = this.deps;
    if (this.isClosed) return;
    const holder = await engine.holder(this.clientId);
    if (this.isClosed || holder.socketId === this.socketId) return;
    if (holder.socketId !== undefined) {
      this.end(SessionEnd.Replaced);
      return;
    }
    const attach = await engine.attach(this.clientId, this.socketId, this.claims.issuedAtMs);
    if (!attach.attached) {
      this.end(SessionEnd.Revoked);
      return;
    }
    if (this.state !== 'live') return;
    this.state = 'filling';
    await this.runFill({ epoch: this.epoch!, seq: this.lastSeq });
  }

  /** Ends the socket for a core reason; the transport's close event follows. */
  end(reason: SessionEnd): void {
    if (this.state === 'closed' || this.ended !== undefined) return;
    this.ended = reason;
    this.sink.close(reason);
  }

  /** Where the client stands, for acknowledgements. */
  acknowledge(seq: number): void {
    const epoch = this.epoch;
    // Past what this socket was sent: a receipt must never claim a message the client did not get.
    if (epoch === undefined || seq > this.lastSeq) return;
    this.deps.acks.acknowledge(this.clientId, { epoch, seq });
  }

  // ---- topics --------------------------------------------------------------------------------

  /** The client id joined `topic` (or is found a member at open): catch up from `position`, then live. */
  join(topic: Topic, position: StreamPosition): void {
    if (!this.isClosed) this.stream(topic).join(position);
  }

  /** The client id left `topic`: stop it and tell the client, after its welcome. */
  leave(topic: Topic): void {
    if (!this.isClosed) this.stream(topic).leave();
  }

  /** The epoch this socket was welcomed into for `topic`, if it receives the topic. */
  topicEpoch(topic: Topic): Epoch | undefined {
    return this.topics.get(topic)?.epoch;
  }

  acknowledgeTopic(topic: Topic, seq: number): void {
    const epoch = this.topicEpoch(topic);
    if (epoch === undefined) return;
    this.deps.acks.acknowledge(this.clientId, { epoch, seq }, topic);
  }

  private stream(topic: Topic): TopicStream {
    let stream = this.topics.get(topic);
    if (stream === undefined) {
      stream = new TopicStream(topic, this.sink, this.deps, {
        welcomed: this.welcomed,
        isClosed: () => this.isClosed,
        end: (reason) => this.end(reason),
        fail: (err, what) => this.fail(err, what, topic),
        forget: (left) => {
          if (this.membershipReads === 0 && this.topics.get(topic) === left) this.topics.delete(topic);
        },
      });
      this.topics.set(topic, stream);
    }
    return stream;
  }

  /** A step failed (the engine is unreachable, say): close the socket so the client resumes. */
  private fail(err: unknown, what: string, topic?: Topic): void {
    if (this.isClosed) return;
    this.deps.log.warn({ err, clientId: this.clientId, socketId: this.socketId, topic }, `${what}; closing the socket so it resumes`);
    this.end(SessionEnd.Shutdown);
  }

  // ---- the end -------------------------------------------------------------------------------

  /** The transport saw the socket close. */
  markClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pending = [];
    this.expiryTimer?.cancel();
    for (const stream of this.topics.values()) stream.close();
    // Steps waiting for the welcome see the close and stop.
    this.markWelcomed();
  }
}
