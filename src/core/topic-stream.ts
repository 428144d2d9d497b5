import type { TopicStore } from '../engine/engine.js';
import { SessionEnd, type SessionSink } from './session-sink.js';
import { StepQueue } from './step-queue.js';
import type { TopicInterest, TopicReceiver } from './topic-interest.js';
import type { ChannelMessage, Epoch, StreamPosition, Topic } from './types.js';

/** What a topic stream needs of the session it belongs to. */
export interface TopicStreamHost {
  /** Settles once the channel's welcome is out: no topic frame may go before it. */
  readonly welcomed: Promise<void>;
  isClosed(): boolean;
  end(reason: SessionEnd): void;
  /** A step failed: the session closes the socket so the client resumes. */
  fail(err: unknown, what: string): void;
  /** The stream was left and nothing was asked of it since: the session may drop it. */
  forget(stream: TopicStream): void;
}

/**
 * One topic of one socket: its joins and leaves run one at a time on its own queue, so a slow
 * topic read holds neither the channel nor other topics. A join follows the topic first, takes
 * the live messages that arrive while it reads the topic's history, sends the welcome and the
 * catch-up after the channel's welcome, and only then hands the socket to the live feed.
 */
export class TopicStream implements TopicReceiver {
  /** Bumped by every join or leave asked for: a join that started under an older one is dropped. */
  gen = 0;
  /** Whether the last of those was a join: the socket is, or is becoming, a receiver of the topic. */
  wanted = false;
  /** Set once welcomed into the topic: the epoch acks refer to. */
  epoch: Epoch | undefined;
  private readonly steps = new StepQueue();
  /** Counted in the node's topic interest (so the node follows the topic). */
  private followed = false;
  /** Live messages taken while the catch-up is being read. */
  private captured: { epoch: Epoch; message: ChannelMessage }[] | undefined;
  /**
   * The catch-up is out, up to `last`, but the node's feed has not passed it yet (history can be
   * read further than the feed has delivered): the socket joins the live feed at the first
   * message after `last`, so no seq reaches it twice.
   */
  private handover: { epoch: Epoch; last: number } | undefined;

  constructor(
    readonly topic: Topic,
    private readonly sink: SessionSink,
    private readonly deps: { readonly engine: TopicStore; readonly interest: TopicInterest },
    private readonly host: TopicStreamHost,
  ) {}

  join(position: StreamPosition): void {
    const gen = ++this.gen;
    this.wanted = true;
    this.steps.run(() => this.runJoin(gen, position), (err) => this.host.fail(err, 'could not start a topic'));
  }

  private async runJoin(gen: number, position: StreamPosition): Promise<void> {
    if (this.host.isClosed() || this.gen !== gen || this.epoch !== undefined) return;
    const { interest, engine } = this.deps;
    const topic = this.topic;
    const following = interest.follow(topic, this);
    this.followed = true;
    this.captured = [];
    interest.startCapture(topic, this);
    await following;
    const mark = this.captured?.length ?? 0;
    const history = await engine.topicHistory(topic, position);
    await this.host.welcomed;
    if (this.host.isClosed() || this.gen !== gen) {
      this.stopCapture();
      return;
    }
    // From here to the transport's subscribe nothing awaits, so no live message can slip between.
    const captured = this.captured ?? [];
    this.stopCapture();
    let epoch = history.epoch;
    let last = history.fromSeq;
    this.sink.topicWelcome(topic, epoch, last, history.recovered);
    const send = (message: ChannelMessage): boolean => {
      last = message.seq;
      if (this.sink.topicMessage(topic, message)) return true;
      this.host.end(SessionEnd.SlowConsumer);
      return false;
    };
    for (const message of history.messages) if (!send(message)) return;
    for (let i = 0; i < captured.length; i++) {
      const item = captured[i]!;
      // Taken before the read was sent, in another epoch: older than the history just sent.
      if (i < mark && item.epoch !== epoch) continue;
      if (item.epoch !== epoch) {
        // The topic's history was replaced while it was read: a gap the client must hear of.
        epoch = item.epoch;
        last = item.message.seq - 1;
        this.sink.topicWelcome(topic, epoch, last, false);
      }
      if (item.message.seq > last && !send(item.message)) return;
    }
    this.epoch = epoch;
    interest.noteEpoch(topic, epoch);
    const feed = interest.position(topic);
    if (feed !== undefined && feed.epoch === epoch && feed.seq >= last) {
      this.sink.subscribe(topic);
      return;
    }
    this.handover = { epoch, last };
    interest.startCapture(topic, this);
  }

  leave(): void {
    const gen = ++this.gen;
    this.wanted = false;
    this.steps.run(
      async () => {
        // Run even when a join follows: the socket must stop receiving the topic while its client
        // id is not a member, and the client hears [6] before the new welcome.
        await this.host.welcomed;
        if (this.host.isClosed()) return;
        this.stopCapture();
        this.unfollow();
        this.epoch = undefined;
        this.sink.unsubscribe(this.topic);
        // Nothing was asked of this topic since: forget it, so a long-lived socket does not keep
        // one stream per topic it ever had.
        if (this.gen === gen) this.host.forget(this);
      },
      (err) => this.host.fail(err, 'could not leave a topic'),
    );
  }

  captureTopic(topic: Topic, epoch: Epoch, message: ChannelMessage): void {
    if (this.captured !== undefined) {
      this.captured.push({ epoch, message });
      return;
    }
    const handover = this.handover;
    if (handover === undefined || this.host.isClosed()) return;
    if (epoch === handover.epoch && message.seq <= handover.last) return;
    // The feed has passed the catch-up: this message reaches the socket through the transport's
    // pub/sub, which publishes it right after this call.
    this.stopCapture();
    if (epoch !== handover.epoch) {
      this.epoch = epoch;
      this.sink.topicWelcome(topic, epoch, message.seq - 1, false);
    }
    this.sink.subscribe(topic);
  }

  topicEpochChanged(topic: Topic, epoch: Epoch, seq: number): void {
    if (this.host.isClosed() || this.epoch === undefined || this.handover !== undefined || this.epoch === epoch) return;
    this.epoch = epoch;
    this.sink.topicWelcome(topic, epoch, seq, false);
  }

  /** The socket closed: stop taking messages and let the node stop following if nobody else is. */
  close(): void {
    this.stopCapture();
    this.unfollow();
  }

  private stopCapture(): void {
    this.captured = undefined;
    this.handover = undefined;
    this.deps.interest.stopCapture(this.topic, this);
  }

  private unfollow(): void {
    if (this.followed) this.deps.interest.unfollow(this.topic, this);
    this.followed = false;
  }
}
