import { Redis } from 'ioredis';
import type { ServerOptions } from '../../src/server.js';
import type { TestRedis } from './redis.js';
import { startTestServer, type TestServer } from './server.js';

/** Every in-process node of one test cluster signs and verifies tokens with this. */
export const NODE_TOKEN_SECRET = 'in-process-redis-nodes-secret-0123456789';

/**
 * A channeld node in this process on the Redis engine: nodes started with the same `prefix` on
 * one Redis form a cluster (a token minted on one opens a socket on any other).
 */
export function startRedisNode(redis: TestRedis, prefix: string, options: ServerOptions = {}): Promise<TestServer> {
  return startTestServer({
    engine: 'redis',
    redisUrl: redis.url,
    redisPrefix: prefix,
    tokenSecrets: [NODE_TOKEN_SECRET],
    nodeLeaseSeconds: 5,
    ...options,
  });
}

/**
 * Makes Redis refuse every script (EVAL, EVALSHA, FCALL: NOPERM) while plain reads still work, so
 * a step that runs a script (attach) fails as it would with Redis briefly away, but on cue.
 * Resolves with the function that lifts the refusal.
 */
export async function refuseScripts(redis: TestRedis): Promise<() => Promise<void>> {
  const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  await admin.call('ACL', 'SETUSER', 'default', '-@scripting');
  let lifted = false;
  return async () => {
    if (lifted) return;
    lifted = true;
    try {
      await admin.call('ACL', 'SETUSER', 'default', '+@all');
    } finally {
      admin.disconnect();
    }
  };
}
