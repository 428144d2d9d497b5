import { Redis } from 'ioredis';
import type { ServerOptions } from '../../src/server.js';
import { TestRedisShards, type TestRedis } from './redis.js';
import { startTestServer, type TestServer } from './server.js';

/** Every in-process node of one test cluster signs and verifies tokens with this. */
export const NODE_TOKEN_SECRET = 'in-process-redis-nodes-secret-0123456789';

/** Where a test's nodes keep their state: one Redis, or independent shards (--redis-shard). */
export type RedisLayout = TestRedis | TestRedisShards;

/** The server options that point a node at `layout`. */
export function layoutOptions(layout: RedisLayout): Pick<ServerOptions, 'redisUrl' | 'redisShards'> {
  return layout instanceof TestRedisShards ? { redisShards: layout.urls } : { redisUrl: layout.url };
}

/** Every redis-server of `layout`. */
export function redisesOf(layout: RedisLayout): readonly TestRedis[] {
  return layout instanceof TestRedisShards ? layout.shards : [layout];
}

/**
 * A channeld node in this process on the Redis engine: nodes started with the same `prefix` on
 * one layout form a cluster (a token minted on one opens a socket on any other).
 */
export function startRedisNode(layout: RedisLayout, prefix: string, options: ServerOptions = {}): Promise<TestServer> {
  return startTestServer({
    engine: 'redis',
    ...layoutOptions(layout),
    redisPrefix: prefix,
    tokenSecrets: [NODE_TOKEN_SECRET],
    nodeLeaseSeconds: 5,
    ...options,
  });
}

/**
 * Makes Redis (every shard of a layout) refuse every script (EVAL, EVALSHA, FCALL: NOPERM) while
 * plain reads still work, so a step that runs a script (attach) fails as it would with Redis
 * briefly away, but on cue. Resolves with the function that lifts the refusal.
 */
export async function refuseScripts(layout: RedisLayout): Promise<() => Promise<void>> {
  const admins = await Promise.all(
    redisesOf(layout).map(async (redis) => {
      const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await admin.connect();
      return admin;
    }),
  );
  await Promise.all(admins.map((admin) => admin.call('ACL', 'SETUSER', 'default', '-@scripting')));
  let lifted = false;
  return async () => {
    if (lifted) return;
    lifted = true;
    try {
      await Promise.all(admins.map((admin) => admin.call('ACL', 'SETUSER', 'default', '+@all')));
    } finally {
      for (const admin of admins) admin.disconnect();
    }
  };
}

/**
 * The redis-server of `layout` that holds `key` (one Redis: that one; shards: asked, see
 * TestRedisShards.holding), and what an UNAVAILABLE caused by its absence must say: with shards,
 * the shard's address, so an operator sees which one is away.
 */
export async function holderOf(layout: RedisLayout, key: string): Promise<{ redis: TestRedis; index: number; unavailable: RegExp }> {
  if (!(layout instanceof TestRedisShards)) return { redis: layout, index: 0, unavailable: /redis is unavailable/ };
  const index = await layout.holding(key);
  const redis = layout.shard(index);
  return { redis, index, unavailable: new RegExp(`127\\.0\\.0\\.1:${redis.port}\\b.*\\bunavailable\\b`) };
}
