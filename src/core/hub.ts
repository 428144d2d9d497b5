import type { Logger } from 'pino';
import type { Engine, EngineHandler } from '../engine/engine.js';
import { AckCoalescer } from './ack-coalescer.js';
import { ChannelApi } from './channel-api.js';
import { DeliveryBus } from './delivery-bus.js';
import type { Clock } from './clock.js';
import { PresenceBus } from './presence-bus.js';
import { TopicPresenceBus } from './topic-presence-bus.js';
import type { TopicPresenceChange } from './topic-presence.js';
import { SessionRegistry } from './session-registry.js';
import { TopicInterest, type TopicPublisher } from './topic-interest.js';
import type { TokenAuthority } from './tokens.js';
import type { ChannelMessage, ClientId, DeliveryReceipt, Epoch, PresenceChange, SocketId, StreamPosition, Topic } from './types.js';

export type { TopicPublisher } from './topic-interest.js';

export interface HubOptions {
  readonly engine: Engine;
  readonly tokens: TokenAuthority;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Presence events a watcher may fall behind before it is cut off. */
  readonly presenceWatcherQueue: number;
  /** A socket opened afresh starts after the channel's last message (App Engine's behaviour). */
  readonly dropWhenDisconnected?: boolean;
  /** At most one delivery receipt per client id (and per topic of it) this often. @default 100 */
  readonly receiptIntervalMs?: number;
  /** SendMessage calls with wait_for_delivery held at once. @default 100000 */
  readonly maxDeliveryWaiters?: number;
}

/**
 * One node: wires the engine to the parts of the core and passes each engine event to the part
 * it concerns. Transports talk to the parts: gRPC to `api`, the gateway to `sessions`, in-process
 * listeners to `presence`. It knows no transport.
 */
export class Hub implements EngineHandler {
  readonly api: ChannelApi;
  readonly sessions: SessionRegistry;
  readonly presence: PresenceBus;
  readonly topicPresence: TopicPresenceBus;
  readonly deliveries: DeliveryBus;
  private readonly acks: AckCoalescer;
  private readonly interest: TopicInterest;
  private readonly engine: Engine;

  constructor(options: HubOptions) {
    const { engine, tokens, clock, logger } = options;
    this.engine = engine;
    const log = logger.child({ mod: 'hub' });
    this.presence = new PresenceBus(engine, options.presenceWatcherQueue);
    this.topicPresence = new TopicPresenceBus(engine, options.presenceWatcherQueue, logger.child({ mod: 'topic-presence' }));
    this.interest = new TopicInterest(engine, log);
    this.acks = new AckCoalescer(engine, clock, options.receiptIntervalMs ?? 100, log);
    this.deliveries = new DeliveryBus(
      engine,
      clock,
      { watcherQueue: options.presenceWatcherQueue, maxWaiters: options.maxDeliveryWaiters ?? 100_000 },
      log,
    );
    this.sessions = new SessionRegistry({
      engine,
      interest: this.interest,
      tokens,
      clock,
      logger,
      dropWhenDisconnected: options.dropWhenDisconnected ?? false,
      acks: this.acks,
    });
    this.api = new ChannelApi({ engine, tokens, clock, presence: this.presence, topicPresence: this.topicPresence, deliveries: this.deliveries });
  }

  async start(): Promise<void> {
    await this.engine.start(this);
  }

  /** Closes every socket (they reconnect elsewhere) and ends every presence stream. */
  async drain(): Promise<void> {
    await this.sessions.drain();
    this.presence.endWatchers();
    this.topicPresence.endWatchers();
    this.acks.stop();
    this.deliveries.stop();
  }

  async stop(): Promise<void> {
    this.sessions.stop();
    await this.drain();
    await this.engine.stop();
  }

  /** The transport that publishes topic messages to its sockets (the gateway). */
  setTopicPublisher(publisher: TopicPublisher): void {
    this.interest.setPublisher(publisher);
  }

  // ---- EngineHandler -------------------------------------------------------------------------

  onMessage(clientId: ClientId, epoch: Epoch, message: ChannelMessage): void {
    this.sessions.message(clientId, epoch, message);
  }

  onDisplaced(_clientId: ClientId, socketId: SocketId): void {
    this.sessions.displaced(socketId);
  }

  onChannelClosed(clientId: ClientId): void {
    this.sessions.channelClosed(clientId);
    this.deliveries.channelClosed(clientId);
  }

  onTopicMessage(topic: Topic, epoch: Epoch, message: ChannelMessage): void {
    this.interest.deliver(topic, epoch, message);
  }

  onSubscribed(clientId: ClientId, topic: Topic, position: StreamPosition): void {
    this.sessions.subscribed(clientId, topic, position);
  }

  onUnsubscribed(clientId: ClientId, topic: Topic): void {
    this.sessions.unsubscribed(clientId, topic);
  }

  onResync(): void {
    this.sessions.resync();
    this.presence.resync();
    this.deliveries.resync();
  }

  onDelivery(receipt: DeliveryReceipt): void {
    this.deliveries.publish(receipt);
  }

  onPresence(change: PresenceChange): void {
    this.presence.publish(change);
  }

  onTopicPresence(change: TopicPresenceChange): void {
    this.topicPresence.publish(change);
  }

  onTopicPresenceGap(topic: Topic): void {
    this.topicPresence.gap(topic);
  }
}
