import type { Logger } from 'pino';
import type { RedisKeys } from './keys.js';
import type { ScriptName } from './scripts.js';
import type { Connection } from './streams.js';

export interface NodeLeaseDeps {
  readonly keys: RedisKeys;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly presenceHistorySize: number;
  readonly replayWindowMs: number;
  readonly command: () => Connection;
  readonly run: (name: ScriptName, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;
  readonly nowMs: () => number;
  /** This node's own lease had lapsed (it was cut off long enough to be reaped). */
  readonly onLapsed: () => Promise<void>;
  /** What presence.lua's topic helpers take (topic_presence_args). */
  readonly topicPresenceArgs: readonly (string | number)[];
  readonly log: Logger;
}

/**
 * This node's lease in Redis, renewed every third of its TTL, and the reaping of other nodes
 * whose lease is gone: their clients become DISCONNECTED (reason node-lost). Real time, not the
 * injected clock: leases are about other processes, which do not share it.
 */
export class NodeLease {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The lease had lapsed and this node's sockets are not all registered again yet. */
  private lapsed = false;

  constructor(private readonly deps: NodeLeaseDeps) {}

  async start(): Promise<void> {
    await this.renew();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Renews the lease (re-announcing the node if it lapsed) and reaps nodes whose lease is gone. */
  private async renew(): Promise<void> {
    const { keys, nodeId, leaseMs } = this.deps;
    const redis = this.deps.command();
    const renewed = await redis.set(keys.nodeLease(nodeId), '1', 'PX', leaseMs, 'XX');
    if (renewed === null) {
      await redis.multi().set(keys.nodeLease(nodeId), '1', 'PX', leaseMs).sadd(keys.nodes(), nodeId).exec();
      this.lapsed = true;
    }
    // Until the sockets are registered again (a failure here is retried on the next renewal).
    if (this.lapsed) {
      await this.deps.onLapsed();
      this.lapsed = false;
    }
    for (const node of await redis.smembers(keys.nodes())) {
      if (node === nodeId) continue;
      const reported = await this.deps.run(
        'reap-node',
        [keys.nodeLease(node), keys.nodeClients(node), keys.online(), keys.presence(), keys.nodes()],
        [node, this.deps.nowMs(), this.deps.presenceHistorySize, keys.presenceChannel(), ...keys.channelAffixes(), this.deps.replayWindowMs, nodeId, ...this.deps.topicPresenceArgs],
      );
      if (typeof reported === 'number' && reported >= 0) {
        this.deps.log.warn({ deadNode: node, clients: reported }, 'node lease expired: its clients are disconnected');
      }
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.renew()
        .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'cannot renew node lease'))
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, Math.max(100, Math.floor(this.deps.leaseMs / 3)));
    this.timer.unref();
  }
}
