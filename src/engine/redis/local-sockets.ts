import type { ClientId, SocketId, Topic } from '../../core/types.js';

/** One of this node's sockets as registered in Redis. */
export interface LocalSocket {
  readonly socketId: SocketId;
  readonly tokenIssuedAtMs: number;
  /** The topics the client id belongs to, as this node learnt them (memberships, joins, leaves). */
  readonly topics: Set<Topic>;
}

/** What registering one socket again did (reattach.lua's outcome and the memberships it added). */
export interface Reattached {
  /** 1 registered again (CONNECTED anew), 0 it still was, -1 lost to a newer socket, -2 revoked. */
  readonly outcome: number;
  readonly added: number;
}

/** What registering the sockets again changed. */
export interface RegisteredAgain {
  readonly sockets: number;
  /** Sockets Redis had forgotten: CONNECTED anew. */
  readonly registered: number;
  /** Topic memberships Redis had forgotten. */
  readonly memberships: number;
  /** Sockets that had lost their client id to a newer socket, or their channel to a CloseChannel. */
  readonly ended: number;
}

/** How many sockets are registered again at once: a burst, but a bounded one. */
const BATCH = 200;

/**
 * This node's sockets as registered in Redis, and the topics their client ids belong to, so the
 * node can register them again when Redis forgot them: after its lease lapsed, or after Redis came
 * back from a restart or fail-over with older data or none.
 */
export class LocalSockets {
  private readonly sockets = new Map<ClientId, LocalSocket>();

  constructor(private readonly onRevoked: (clientId: ClientId) => void) {}
  get size(): number {
    return this.sockets.size;
  }

  entries(): IterableIterator<[ClientId, LocalSocket]> {
    return this.sockets.entries();
  }

  attached(clientId: ClientId, socketId: SocketId, tokenIssuedAtMs: number): void {
    // Memberships belong to the client id: a newer socket of it on this node keeps them.
    const topics = this.sockets.get(clientId)?.topics ?? new Set<Topic>();
    this.sockets.set(clientId, { socketId, tokenIssuedAtMs, topics });
  }

  detached(clientId: ClientId, socketId: SocketId): void {
    if (this.sockets.get(clientId)?.socketId === socketId) this.sockets.delete(clientId);
  }

  /** Topics read from Redis for the client id (a membership read, as a socket opens). */
  belongsTo(clientId: ClientId, topics: readonly Topic[]): void {
    const socket = this.sockets.get(clientId);
    if (socket !== undefined) for (const topic of topics) socket.topics.add(topic);
  }

  joined(clientId: ClientId, topic: Topic): void {
    this.sockets.get(clientId)?.topics.add(topic);
  }

  left(clientId: ClientId, topic: Topic): void {
    this.sockets.get(clientId)?.topics.delete(topic);
  }

  channelClosed(clientId: ClientId): void {
    this.sockets.get(clientId)?.topics.clear();
  }

  /**
   * Registers again the sockets `which` picks (those of one partition), each with `reattach`
   * (see RedisEngine), in bounded batches.
   */
  async registerAgain(which: (clientId: ClientId) => boolean, reattach: (clientId: ClientId, socket: LocalSocket) => Promise<Reattached>): Promise<RegisteredAgain> {
    let registered = 0;
    let memberships = 0;
    let ended = 0;
    const all = [...this.sockets].filter(([clientId]) => which(clientId));
    for (let i = 0; i < all.length; i += BATCH) {
      await Promise.all(
        all.slice(i, i + BATCH).map(async ([clientId, socket]) => {
          const { outcome, added } = await reattach(clientId, socket);
          if (outcome === 1) registered++;
          if (outcome < 0) ended++;
          memberships += added;
          // A newer socket's displacement notice comes over pub/sub; a revocation is ours to tell.
          if (outcome === -2) this.onRevoked(clientId);
        }),
      );
    }
    return { sockets: all.length, registered, memberships, ended };
  }
}
