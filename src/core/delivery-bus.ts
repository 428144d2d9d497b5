import type { Logger } from 'pino';
import type { DeliveryLog } from '../engine/engine.js';
import type { Clock, TimerHandle } from './clock.js';
import { ChannelError, ErrorCode } from './errors.js';
import { matches, type PresenceFilter } from './presence-feed.js';
import { StreamWatcher, type CursorOrder, type StreamSink } from './stream-watcher.js';
import { catchUpWatchers } from './watch-catch-up.js';
import type { ClientDelivery, ClientId, DeliveryReceipt, StreamPosition } from './types.js';

export type DeliveryItem =
  | { readonly kind: 'started'; readonly cursor: string; readonly resumeFailed: boolean }
  | { readonly kind: 'receipt'; readonly receipt: DeliveryReceipt };

export type DeliverySink = StreamSink<DeliveryItem>;

export interface DeliveryWatchRequest {
  readonly filter: PresenceFilter;
  readonly includeTopics: boolean;
  /** Resume after this cursor; empty: start now. */
  readonly cursor: string;
}

/** How a wait for a browser's acknowledgement ended. */
export type WaitOutcome =
  | { readonly delivered: true }
  | { readonly delivered: false; readonly why: 'timeout' | 'new-epoch' | 'cancelled'; readonly state: ClientDelivery | undefined };

interface Waiter {
  readonly clientId: ClientId;
  readonly position: StreamPosition;
  readonly timer: TimerHandle;
  readonly settle: (outcome: WaitOutcome) => void;
}

export class DeliveryWatcher extends StreamWatcher<DeliveryItem> {
  constructor(
    private readonly request: DeliveryWatchRequest,
    sink: DeliverySink,
    maxQueued: number,
    order: CursorOrder,
  ) {
    super(sink, maxQueued, {
      accepts: (item) => item.kind === 'receipt' && watcherAccepts(request, item.receipt),
      cursorOf: (item) => (item.kind === 'receipt' ? item.receipt.cursor : item.cursor),
      withCursor: (item, cursor) => (item.kind === 'receipt' ? { kind: 'receipt', receipt: { ...item.receipt, cursor } } : { ...item, cursor }),
      order,
      name: 'delivery watcher',
    });
  }

  /** Whether `item` passes this watcher's filter. */
  accepts(item: DeliveryItem): boolean {
    return item.kind === 'receipt' && watcherAccepts(this.request, item.receipt);
  }
}

/** How long the node keeps following receipts after its last watcher or waiter is gone. */
const FOLLOW_LINGER_MS = 30_000;

/**
 * Every delivery receipt this node hears of, passed on to its watchers (WatchDeliveries streams)
 * and to the SendMessage calls waiting for an acknowledgement. Nothing per message is kept unless
 * a call waits for it; the node follows the cluster's receipts only while someone here listens.
 */
export class DeliveryBus {
  private readonly watchers = new Set<DeliveryWatcher>();
  private readonly waiters = new Map<ClientId, Set<Waiter>>();
  private waiting = 0;
  private following = false;
  private followed: Promise<void> | undefined;
  private lingerTimer: TimerHandle | undefined;

  constructor(
    private readonly store: DeliveryLog,
    private readonly clock: Clock,
    private readonly options: { readonly watcherQueue: number; readonly maxWaiters: number },
    private readonly log: Logger,
  ) {}

  /** Starts a receipt stream: a `started` item, the receipts after the cursor if asked, then live ones. */
  async watch(request: DeliveryWatchRequest, sink: DeliverySink): Promise<DeliveryWatcher> {
    const order = {
      isAfter: (cursor: string, than: string) => this.store.compareDeliveryCursors(cursor, than) > 0,
      merge: (cursor: string, next: string) => this.store.mergeDeliveryCursors(cursor, next),
    };
    const watcher = new DeliveryWatcher(request, sink, this.options.watcherQueue, order);
    // Registered first so nothing that arrives while the start is read goes missing.
    this.watchers.add(watcher);
    try {
      await this.follow();
      const replay = request.cursor === '' ? undefined : await this.store.deliveriesSince(request.cursor);
      if (replay !== undefined) {
        const items: DeliveryItem[] = [{ kind: 'started', cursor: request.cursor, resumeFailed: false }];
        for (const receipt of replay) items.push({ kind: 'receipt', receipt });
        watcher.begin(
          items.filter((item) => item.kind === 'started' || watcher.accepts(item)),
          request.cursor,
        );
      } else {
        const cursor = await this.store.deliveryCursor();
        watcher.begin([{ kind: 'started', cursor, resumeFailed: request.cursor !== '' }], cursor);
      }
    } catch (err) {
      this.unwatch(watcher);
      throw err;
    }
    return watcher;
  }

  unwatch(watcher: DeliveryWatcher): void {
    if (this.watchers.delete(watcher)) this.release();
  }

  /** WatchDeliveries streams open now (metrics). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** SendMessage calls waiting for an acknowledgement now (metrics). */
  get waiterCount(): number {
    return this.waiting;
  }

  /**
   * Refuses a wait past the node's limit before anything is sent, and makes sure the node hears
   * receipts from every node before the message goes out. Each admit needs a waitFor or a release.
   */
  async admit(): Promise<void> {
    if (this.waiting >= this.options.maxWaiters) {
      throw new ChannelError(
        ErrorCode.ResourceExhausted,
        `${this.waiting} SendMessage calls already wait for delivery on this node; the limit is ${this.options.maxWaiters} (--max-delivery-waiters)`,
      );
    }
    this.waiting++;
    try {
      await this.follow();
    } catch (err) {
      this.waiting--;
      this.release();
      throw err;
    }
  }

  /** Ends an admit that never became a wait (the send failed). */
  cancelAdmit(): void {
    this.waiting--;
    this.release();
  }

  /**
   * Waits (after admit) until the browser of `clientId` has acknowledged `position`, for at most
   * `timeoutMs`, or until `signal` aborts (the caller went away).
   */
  waitFor(clientId: ClientId, position: StreamPosition, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: WaitOutcome): void => {
        if (settled) return;
        settled = true;
        waiter.timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiters.get(clientId);
        set?.delete(waiter);
        if (set?.size === 0) this.waiters.delete(clientId);
        this.waiting--;
        this.release();
        resolve(outcome);
      };
      const onAbort = (): void => settle({ delivered: false, why: 'cancelled', state: undefined });
      const waiter: Waiter = {
        clientId,
        position,
        timer: this.clock.setTimer(timeoutMs, () => {
          void this.stateOf(clientId).then((state) => {
            if (state !== undefined && state.epoch === position.epoch && state.ackedSeq >= position.seq) settle({ delivered: true });
            else settle({ delivered: false, why: state !== undefined && state.epoch !== position.epoch ? 'new-epoch' : 'timeout', state });
          });
        }),
        settle,
      };
      let set = this.waiters.get(clientId);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(clientId, set);
      }
      set.add(waiter);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      // The acknowledgement may have been recorded before the waiter was in place.
      this.check(waiter);
    });
  }

  /** A receipt reached this node (the engine's onDelivery). */
  publish(receipt: DeliveryReceipt): void {
    for (const watcher of this.watchers) {
      if (watcher.isEnded) this.unwatch(watcher);
      else watcher.push({ kind: 'receipt', receipt });
    }
    if (receipt.topic !== undefined) return;
    const set = this.waiters.get(receipt.clientId);
    if (set === undefined) return;
    for (const waiter of set) {
      if (receipt.epoch !== waiter.position.epoch) this.check(waiter);
      else if (receipt.seq >= waiter.position.seq) waiter.settle({ delivered: true });
    }
  }

  /** The channel of `clientId` was closed (a new epoch): its waiters learn it now. */
  channelClosed(clientId: ClientId): void {
    for (const waiter of this.waiters.get(clientId) ?? []) this.check(waiter);
  }

  /**
   * The engine's feed may have lost receipts (it reconnected): waiters read the state again, and
   * watchers catch up from the receipt log (see catchUpWatchers).
   */
  resync(): void {
    for (const set of this.waiters.values()) for (const waiter of set) this.check(waiter);
    catchUpWatchers(
      this.watchers,
      (cursor) => this.store.deliveriesSince(cursor),
      (watcher, receipts) => receipts.map((receipt): DeliveryItem => ({ kind: 'receipt', receipt })).filter((item) => (watcher as DeliveryWatcher).accepts(item)),
      'receipts',
    );
  }

  /** Ends every stream and wait (shutdown). */
  stop(): void {
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.settle({ delivered: false, why: 'cancelled', state: undefined });
    this.lingerTimer?.cancel();
  }

  /** Settles a waiter from the engine's state: acknowledged, or its epoch is gone. */
  private check(waiter: Waiter): void {
    this.stateOf(waiter.clientId).then(
      (state) => {
        if (state === undefined) return;
        if (state.epoch !== waiter.position.epoch) waiter.settle({ delivered: false, why: 'new-epoch', state });
        else if (state.ackedSeq >= waiter.position.seq) waiter.settle({ delivered: true });
      },
      () => {},
    );
  }

  private async stateOf(clientId: ClientId): Promise<ClientDelivery | undefined> {
    try {
      return (await this.store.deliveries([clientId]))[0];
    } catch (err) {
      this.log.warn({ err, clientId }, 'could not read where a channel stands');
      return undefined;
    }
  }

  private follow(): Promise<void> {
    this.lingerTimer?.cancel();
    this.lingerTimer = undefined;
    if (this.following && this.followed !== undefined) return this.followed;
    this.following = true;
    this.followed = this.store.followDeliveries().catch((err: unknown) => {
      this.following = false;
      this.followed = undefined;
      throw err;
    });
    return this.followed;
  }

  /** Stops following receipts a while after nobody here listens. */
  private release(): void {
    if (this.watchers.size > 0 || this.waiting > 0 || !this.following || this.lingerTimer !== undefined) return;
    this.lingerTimer = this.clock.setTimer(FOLLOW_LINGER_MS, () => {
      this.lingerTimer = undefined;
      if (this.watchers.size > 0 || this.waiting > 0 || !this.following) return;
      this.following = false;
      this.followed = undefined;
      this.store.unfollowDeliveries().catch(() => {});
    });
  }
}

function watcherAccepts(request: DeliveryWatchRequest, receipt: DeliveryReceipt): boolean {
  return (request.includeTopics || receipt.topic === undefined) && matches(request.filter, receipt.clientId);
}
