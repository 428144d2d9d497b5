import type { Logger } from 'pino';
import type { TopicStore } from '../engine/engine.js';
import type { ChannelMessage, Epoch, Topic } from './types.js';

/** How a transport publishes a topic message to every local socket subscribed to it. */
export type TopicPublisher = (topic: Topic, epoch: Epoch, message: ChannelMessage) => void;

/** A socket's side of a topic, as the node's topic interest drives it. */
export interface TopicReceiver {
  /** A live message of a topic the receiver is joining (its history is still being read). */
  captureTopic(topic: Topic, epoch: Epoch, message: ChannelMessage): void;
  /** The topic's history was replaced (a new epoch) under a receiver that follows it. */
  topicEpochChanged(topic: Topic, epoch: Epoch, seq: number): void;
}

interface FollowedTopic {
  readonly receivers: Set<TopicReceiver>;
  /** Receivers joining the topic: they take live messages until their catch-up is sent. */
  readonly capturing: Set<TopicReceiver>;
  /** Settles when the engine passes the topic's live messages to this node. */
  readonly following: Promise<void>;
  /** The epoch of the last message seen, to notice a history replaced under live sockets. */
  epoch: Epoch | undefined;
  /** The seq of the last message passed on (in `epoch`, when it came from the feed). */
  seq: number;
}

/**
 * The topics this node receives, while any local socket needs them: the engine follows a topic
 * from the first receiver to the last, and every live message of it is published once to the
 * transport's pub/sub and handed to the receivers still catching up.
 */
export class TopicInterest {
  private readonly topics = new Map<Topic, FollowedTopic>();
  private publisher: TopicPublisher | undefined;

  constructor(
    private readonly engine: TopicStore,
    private readonly log: Logger,
  ) {}

  setPublisher(publisher: TopicPublisher): void {
    this.publisher = publisher;
  }

  /**
   * Adds a receiver and resolves once live messages flow. Rejects when the engine cannot follow
   * the topic: the receiver must not pretend it will get live messages.
   */
  follow(topic: Topic, receiver: TopicReceiver): Promise<void> {
    const followed = this.topics.get(topic);
    if (followed !== undefined) {
      followed.receivers.add(receiver);
      return followed.following;
    }
    const following = this.engine.followTopic(topic);
    const created: FollowedTopic = { receivers: new Set([receiver]), capturing: new Set(), following, epoch: undefined, seq: 0 };
    this.topics.set(topic, created);
    following.catch(() => {
      // A later follow tries again rather than sharing this failure.
      if (this.topics.get(topic) === created) this.topics.delete(topic);
    });
    return following;
  }

  unfollow(topic: Topic, receiver: TopicReceiver): void {
    const followed = this.topics.get(topic);
    if (followed === undefined || !followed.receivers.delete(receiver)) return;
    followed.capturing.delete(receiver);
    if (followed.receivers.size > 0) return;
    this.topics.delete(topic);
    this.engine.unfollowTopic(topic).catch((err: unknown) => this.log.warn({ err, topic }, 'cannot unfollow topic'));
  }

  /** From now until stopCapture, live messages of `topic` are also handed to `receiver`. */
  startCapture(topic: Topic, receiver: TopicReceiver): void {
    this.topics.get(topic)?.capturing.add(receiver);
  }

  stopCapture(topic: Topic, receiver: TopicReceiver): void {
    this.topics.get(topic)?.capturing.delete(receiver);
  }

  /** A receiver finished its catch-up in `epoch`: later messages of another epoch are a change. */
  noteEpoch(topic: Topic, epoch: Epoch): void {
    const followed = this.topics.get(topic);
    if (followed !== undefined && followed.epoch === undefined) followed.epoch = epoch;
  }

  /** The last message the feed passed on, if any since the node began to follow the topic. */
  position(topic: Topic): { epoch: Epoch; seq: number } | undefined {
    const followed = this.topics.get(topic);
    return followed?.epoch === undefined || followed.seq === 0 ? undefined : { epoch: followed.epoch, seq: followed.seq };
  }

  /** A live topic message reached this node (the engine's onTopicMessage). */
  deliver(topic: Topic, epoch: Epoch, message: ChannelMessage): void {
    const followed = this.topics.get(topic);
    if (followed !== undefined) {
      if (followed.epoch !== undefined && followed.epoch !== epoch) {
        for (const receiver of followed.receivers) receiver.topicEpochChanged(topic, epoch, message.seq - 1);
      }
      followed.epoch = epoch;
      followed.seq = message.seq;
      for (const receiver of followed.capturing) receiver.captureTopic(topic, epoch, message);
    }
    this.publisher?.(topic, epoch, message);
  }
}
