import type { Logger } from 'pino';
import { ChannelError, ErrorCode } from '../../core/errors.js';
import type { LatencyHistogram } from '../../metrics/counters.js';
import { DataGeneration } from './generation.js';
import type { RedisKeys } from './keys.js';
import type { ScriptName, Scripts } from './scripts.js';
import type { Connection } from './streams.js';

/** How generation.lua refuses a script from a node that has not booted against this Redis process. */
export const STALE = 'CHANNELD_STALE';

/** The connections to one Redis: a plain one (one of the independent shards), or a whole Redis Cluster. */
export interface ShardLink {
  readonly command: Connection;
  readonly subscriber: Connection;
  readonly scripts: Scripts;
  /** Subscribes with SSUBSCRIBE (a Redis Cluster's sharded pub/sub) rather than SUBSCRIBE. */
  readonly shardedPubSub: boolean;
}

export interface PartitionDeps {
  readonly roundTrips: LatencyHistogram;
  readonly log: Logger;
  /** The partition's Redis is served by another process than before (see DataGeneration). */
  readonly onNewProcess: (partition: Partition, runId: string, previous: string) => Promise<void>;
}

/** What a feed needs of the partition holding a topic: its names, its commands, its pub/sub. */
export interface PartitionAccess {
  readonly keys: RedisKeys;
  call<T>(fn: (redis: Connection) => Promise<T>): Promise<T>;
  subscribe(...channels: string[]): Promise<void>;
  unsubscribe(...channels: string[]): Promise<void>;
}

/**
 * One partition of the engine's state: its key names, the Redis that holds it, and which process
 * of that Redis this node has booted against. Every script and command runs in one partition; a
 * failure names where it went (`where`), so an operator sees which shard is away.
 */
export class Partition implements PartitionAccess {
  readonly generation: DataGeneration;

  constructor(
    readonly index: number,
    readonly keys: RedisKeys,
    readonly link: ShardLink,
    /** Names the Redis in messages, e.g. "redis shard 2 (127.0.0.1:7001)"; "redis" when there is one. */
    readonly where: string,
    private readonly deps: PartitionDeps,
  ) {
    this.generation = new DataGeneration({
      boot: async () => (await this.link.scripts.run(this.link.command, 'boot', [this.keys.runId()], [])) as [string, string | null],
      onNewProcess: (runId, previous) => this.deps.onNewProcess(this, runId, previous),
      log: deps.log.child({ partition: index }),
    });
  }

  async run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      for (let attempt = 1; ; attempt++) {
        const runId = await this.generation.current();
        try {
          return await this.runAs(runId, name, keys, args);
        } catch (err) {
          // Another node booted against a Redis process this one has not seen yet.
          if (attempt > 1 || !(err instanceof Error) || !err.message.startsWith(STALE)) throw err;
          this.generation.invalidate();
        }
      }
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Runs a script for a node booted against the Redis process `runId` (see DataGeneration). */
  async runAs(runId: string, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const started = performance.now();
    try {
      return await this.link.scripts.run(this.link.command, name, [this.keys.runId(), ...keys], [runId, ...args]);
    } finally {
      this.deps.roundTrips.observe((performance.now() - started) / 1000);
    }
  }

  async call<T>(fn: (redis: Connection) => Promise<T>): Promise<T> {
    try {
      await this.generation.current();
      const started = performance.now();
      try {
        return await fn(this.link.command);
      } finally {
        this.deps.roundTrips.observe((performance.now() - started) / 1000);
      }
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async subscribe(...channels: string[]): Promise<void> {
    if (this.link.shardedPubSub) await this.link.subscriber.ssubscribe(...channels);
    else await this.link.subscriber.subscribe(...channels);
  }

  async unsubscribe(...channels: string[]): Promise<void> {
    if (this.link.shardedPubSub) await this.link.subscriber.sunsubscribe(...channels);
    else await this.link.subscriber.unsubscribe(...channels);
  }

  unavailable(err: unknown): ChannelError {
    if (err instanceof ChannelError) return err;
    // A ReplyError is Redis answering (a script bug), not Redis being away, nor changing hands.
    if (err instanceof Error && err.name === 'ReplyError' && !err.message.startsWith('LOADING') && !err.message.startsWith(STALE)) {
      return new ChannelError(ErrorCode.Internal, `${this.where} refused a command: ${err.message}`, { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    return new ChannelError(ErrorCode.Unavailable, `${this.where} is unavailable (${detail}); retry shortly`, { cause: err });
  }
}
