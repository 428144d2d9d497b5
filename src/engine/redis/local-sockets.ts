import type { ClientId, SocketId, Topic } from '../../core/types.js';
import type { RedisKeys } from './keys.js';
import type { ScriptName } from './scripts.js';

interface LocalSocket {
  readonly socketId: SocketId;
  readonly tokenIssuedAtMs: number;
  /** The topics the client id belongs to, as this node learnt them (memberships, joins, leaves). */
  readonly topics: Set<Topic>;
}

export interface LocalSocketsDeps {
  readonly keys: RedisKeys;
  readonly nodeId: string;
  readonly presenceHistorySize: number;
  readonly topicTtlMs: number;
  /** What presence.lua's topic helpers take (topic_presence_args). */
  readonly topicPresenceArgs: readonly (string | number)[];
  readonly nowMs: () => number;
  readonly newEpoch: () => string;
  /** The CloseChannel that revoked the socket's token happened while Redis could not say so. */
  readonly onRevoked: (clientId: ClientId) => void;
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

type Run = (name: ScriptName, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** How many sockets are registered again at once: a burst, but a bounded one. */
const BATCH = 200;

/**
 * This node's sockets as registered in Redis, and the topics their client ids belong to, so the
 * node can register them again when Redis forgot them: after its lease lapsed, or after Redis came
 * back from a restart or fail-over with older data or none.
 */
export class LocalSockets {
  private readonly sockets = new Map<ClientId, LocalSocket>();

  constructor(private readonly deps: LocalSocketsDeps) {}

  get size(): number {
    return this.sockets.size;
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
   * Registers every socket again (reattach.lua), with its topic memberships when `withTopics`
   * (Redis may have lost them; a lapsed lease did not).
   */
  async registerAgain(run: Run, withTopics: boolean): Promise<RegisteredAgain> {
    const { keys, nodeId } = this.deps;
    const epoch = this.deps.newEpoch();
    let registered = 0;
    let memberships = 0;
    let ended = 0;
    const all = [...this.sockets];
    for (let i = 0; i < all.length; i += BATCH) {
      await Promise.all(
        all.slice(i, i + BATCH).map(async ([clientId, socket]) => {
          const [outcome, added] = (await run(
            'reattach',
            [keys.channel(clientId), keys.online(), keys.nodeClients(nodeId), keys.presence(), keys.revocation(clientId), keys.channelTopics(clientId)],
            [
              socket.socketId,
              nodeId,
              this.deps.nowMs(),
              clientId,
              this.deps.presenceHistorySize,
              keys.presenceChannel(),
              keys.nodeChannelPrefix(),
              socket.tokenIssuedAtMs,
              epoch,
              keys.topicAffixes()[0],
              this.deps.topicTtlMs,
              ...this.deps.topicPresenceArgs,
              ...(withTopics ? socket.topics : []),
            ],
          )) as [number, number];
          if (outcome === 1) registered++;
          if (outcome < 0) ended++;
          memberships += added;
          // A newer socket's displacement notice comes over pub/sub; a revocation is ours to tell.
          if (outcome === -2) this.deps.onRevoked(clientId);
        }),
      );
    }
    return { sockets: all.length, registered, memberships, ended };
  }
}
