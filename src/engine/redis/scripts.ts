import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from './streams.js';
import { PROJECT_ROOT } from '../../paths.js';

const SCRIPT_DIR = join(PROJECT_ROOT, 'src', 'engine', 'redis');
// The run id check (generation.lua) and the helpers every script may use; Lua has no imports,
// so they are prepended.
const SHARED = ['generation.lua', 'keys.lua', 'presence.lua', 'delivery.lua'].map((file) => readFileSync(join(SCRIPT_DIR, file), 'utf8')).join('\n');

export const SCRIPT_NAMES = [
  'publish',
  'read',
  'acknowledge',
  'attach',
  'detach',
  'retain',
  'close-channel',
  'reap-node',
  'subscribe-clients',
  'unsubscribe-clients',
  'topic-position',
  'topic-state',
  'topic-join',
  'topic-leave',
  'topic-member-presence',
  'topic-expire',
  'publish-topic',
  'acknowledge-topic',
  'reattach',
  'topic-members',
  'boot',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];
/** Scripts loaded without SHARED: they are not called with P:rid and the run id first. */
const BARE: ReadonlySet<ScriptName> = new Set(['boot']);

interface Script {
  readonly source: string;
  readonly sha: string;
}

/**
 * The Lua scripts of src/engine/redis/*.lua, run by SHA with a fallback to the source. All but
 * boot take P:rid as their first key and the node's run id of Redis as their first argument.
 * Every script touches the keys of one partition only. With `shardedPubSub` (a Redis Cluster)
 * they publish with SPUBLISH, so a message goes to the shard of its channel's slot alone rather
 * than over the cluster bus to every node.
 */
export class Scripts {
  private readonly scripts = new Map<ScriptName, Script>();

  constructor(options: { readonly shardedPubSub: boolean } = { shardedPubSub: false }) {
    for (const name of SCRIPT_NAMES) {
      const own = readFileSync(join(SCRIPT_DIR, `${name}.lua`), 'utf8');
      let source = BARE.has(name) ? own : `${SHARED}\n${own}`;
      if (options.shardedPubSub) source = source.replaceAll("redis.call('PUBLISH',", "redis.call('SPUBLISH',");
      this.scripts.set(name, { source, sha: createHash('sha1').update(source).digest('hex') });
    }
  }

  async run(redis: Connection, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const script = this.scripts.get(name)!;
    try {
      return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      // A restarted Redis has an empty script cache.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }
}
