import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Connection } from './streams.js';

/** Where the engine's Redis is: a plain Redis, one behind Sentinels, or a Redis Cluster. */
export interface RedisTarget {
  /** redis://[user:password@]host:port[/db]; with sentinels or a cluster, only its credentials (and db) are used. */
  readonly redisUrl: string;
  readonly sentinels: readonly string[];
  readonly sentinelName: string;
  readonly clusterNodes: readonly string[];
}

function hostPort(spec: string, defaultPort: number): { host: string; port: number } {
  const [host, port] = spec.split(':');
  return { host: host!, port: Number(port ?? defaultPort) };
}

/**
 * A connection to `target`, not yet connected. A Cluster subscriber with `shardedSubscribers`
 * keeps one connection per master for SSUBSCRIBE, each to the shard of its channels' slots.
 */
export function openConnection(target: RedisTarget, role: 'command' | 'subscriber', connectionName: string, shardedSubscribers = false): Connection {
  const base: RedisOptions = {
    lazyConnect: true,
    // Fail fast while Redis is away (calls get UNAVAILABLE) rather than queue without bound;
    // the subscriber queues so its subscriptions are re-sent once Redis is back. A command in
    // flight when the connection drops fails too: re-sent, it would reach a new Redis process
    // before this node booted against it (see DataGeneration).
    enableOfflineQueue: role === 'subscriber',
    maxRetriesPerRequest: role === 'subscriber' ? null : 0,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    connectionName,
    enableAutoPipelining: role === 'command',
  };
  const url = new URL(target.redisUrl);
  const credentials = { username: url.username || undefined, password: url.password || undefined };
  if (target.clusterNodes.length > 0) {
    return new Cluster(
      target.clusterNodes.map((n) => hostPort(n, 6379)),
      {
        lazyConnect: true,
        enableOfflineQueue: role === 'subscriber',
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        shardedSubscribers: role === 'subscriber' && shardedSubscribers,
        enableAutoPipelining: role === 'command',
        redisOptions: { ...credentials, maxRetriesPerRequest: base.maxRetriesPerRequest, connectionName },
      },
    );
  }
  if (target.sentinels.length === 0) return new Redis(target.redisUrl, base);
  return new Redis({
    ...base,
    ...credentials,
    sentinels: target.sentinels.map((s) => hostPort(s, 26379)),
    name: target.sentinelName,
    db: Number(url.pathname.slice(1) || 0),
  });
}

/** The target for messages, without its password. */
export function describeTarget(target: RedisTarget): string {
  if (target.clusterNodes.length > 0) return `cluster nodes ${target.clusterNodes.join(',')}`;
  if (target.sentinels.length > 0) return `sentinels ${target.sentinels.join(',')} (${target.sentinelName})`;
  const url = new URL(target.redisUrl);
  url.password = url.password === '' ? '' : '***';
  return url.toString();
}
