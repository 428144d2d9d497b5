import type { Logger } from 'pino';
import type { MessageLog, TopicStore } from '../engine/engine.js';
import type { Clock, TimerHandle } from './clock.js';
import type { ClientId, StreamPosition, Topic } from './types.js';

type AckStore = Pick<MessageLog, 'acknowledge'> & Pick<TopicStore, 'acknowledgeTopic'>;

/** An open interval of one client id's channel (topic undefined) or of one of its topics. */
interface Window {
  timer: TimerHandle;
  /** The newest position acknowledged since the interval opened, not yet recorded. */
  pending: StreamPosition | undefined;
}

function newer(position: StreamPosition, than: StreamPosition | undefined): boolean {
  return than === undefined || position.epoch !== than.epoch || position.seq > than.seq;
}

/**
 * A browser's acknowledgements, recorded (and so turned into delivery receipts) at most once per
 * interval per client id and per topic of it: the first after a quiet spell at once, so an
 * isolated message is receipted without delay, then the newest of each interval at its end. A
 * client that acks every frame, or a hostile one that floods acks, costs the engine one write
 * per interval.
 */
export class AckCoalescer {
  private readonly windows = new Map<ClientId, Map<Topic | undefined, Window>>();

  constructor(
    private readonly store: AckStore,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  acknowledge(clientId: ClientId, position: StreamPosition, topic?: Topic): void {
    if (this.intervalMs === 0) {
      this.record(clientId, position, topic);
      return;
    }
    let open = this.windows.get(clientId);
    const window = open?.get(topic);
    if (window !== undefined) {
      if (newer(position, window.pending)) window.pending = position;
      return;
    }
    this.record(clientId, position, topic);
    if (open === undefined) {
      open = new Map();
      this.windows.set(clientId, open);
    }
    open.set(topic, { timer: this.arm(clientId, topic), pending: undefined });
  }

  /** Records what is pending for the client id now (its socket is closing). */
  flush(clientId: ClientId): void {
    const open = this.windows.get(clientId);
    if (open === undefined) return;
    this.windows.delete(clientId);
    for (const [topic, window] of open) {
      window.timer.cancel();
      if (window.pending !== undefined) this.record(clientId, window.pending, topic);
    }
  }

  stop(): void {
    for (const clientId of [...this.windows.keys()]) this.flush(clientId);
  }

  private arm(clientId: ClientId, topic: Topic | undefined): TimerHandle {
    return this.clock.setTimer(this.intervalMs, () => this.close(clientId, topic));
  }

  /** The interval ended: record its newest position and open another, or go quiet. */
  private close(clientId: ClientId, topic: Topic | undefined): void {
    const open = this.windows.get(clientId);
    const window = open?.get(topic);
    if (open === undefined || window === undefined) return;
    if (window.pending === undefined) {
      open.delete(topic);
      if (open.size === 0) this.windows.delete(clientId);
      return;
    }
    this.record(clientId, window.pending, topic);
    window.pending = undefined;
    window.timer = this.arm(clientId, topic);
  }

  private record(clientId: ClientId, position: StreamPosition, topic: Topic | undefined): void {
    const recorded = topic === undefined ? this.store.acknowledge(clientId, position) : this.store.acknowledgeTopic(clientId, topic, position);
    recorded.catch((err: unknown) => this.log.warn({ err, clientId, topic }, 'acknowledge failed'));
  }
}
