import type { Logger } from 'pino';
import type { Partition } from './partition.js';

/** A client of a reaped node, as reap-node.lua reports it: passed on to its topics. */
export interface ReapedClient {
  readonly clientId: string;
  readonly version: string;
  readonly topics: readonly string[];
}

export interface NodeLeaseDeps {
  readonly partition: Partition;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly presenceHistorySize: number;
  readonly replayWindowMs: number;
  readonly nowMs: () => number;
  /** This node's own lease had lapsed in the partition (it was cut off long enough to be reaped). */
  readonly onLapsed: () => Promise<void>;
  /** Clients of a dead node were reported DISCONNECTED in the partition. */
  readonly onReaped: (clients: readonly ReapedClient[]) => Promise<void>;
  readonly log: Logger;
}

/**
 * This node's lease in one partition, renewed every third of its TTL, and the reaping there of
 * other nodes whose lease is gone: their clients become DISCONNECTED (reason node-lost). Every
 * partition keeps its own, so a shard that is away delays only its own clients' reaping. Real
 * time, not the injected clock: leases are about other processes, which do not share it.
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
    const { partition, nodeId, leaseMs } = this.deps;
    const keys = partition.keys;
    const renewed = await partition.call((r) => r.set(keys.nodeLease(nodeId), '1', 'PX', leaseMs, 'XX'));
    if (renewed === null) {
      await partition.call((r) => r.multi().set(keys.nodeLease(nodeId), '1', 'PX', leaseMs).sadd(keys.nodes(), nodeId).exec());
      this.lapsed = true;
    }
    // Until the sockets are registered again (a failure here is retried on the next renewal).
    if (this.lapsed) {
      await this.deps.onLapsed();
      this.lapsed = false;
    }
    for (const node of await partition.call((r) => r.smembers(keys.nodes()))) {
      if (node === nodeId) continue;
      const reply = (await partition.run(
        'reap-node',
        [keys.nodeLease(node), keys.nodeClients(node), keys.online(), keys.presence(), keys.nodes()],
        [node, this.deps.nowMs(), this.deps.presenceHistorySize, keys.presenceChannel(), ...keys.channelAffixes(), this.deps.replayWindowMs, nodeId],
      )) as (string | number)[];
      if (reply[0] === -1) continue;
      const clients: ReapedClient[] = [];
      for (let i = 1; i < reply.length; ) {
        const count = Number(reply[i + 2]);
        clients.push({ clientId: String(reply[i]), version: String(reply[i + 1]), topics: reply.slice(i + 3, i + 3 + count).map(String) });
        i += 3 + count;
      }
      this.deps.log.warn({ deadNode: node, clients: clients.length, partition: partition.index }, 'node lease expired: its clients are disconnected');
      await this.deps.onReaped(clients);
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.renew()
        .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message, partition: this.deps.partition.index }, 'cannot renew node lease'))
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, Math.max(100, Math.floor(this.deps.leaseMs / 3)));
    this.timer.unref();
  }
}
