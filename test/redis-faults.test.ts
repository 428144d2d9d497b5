import test from 'ava';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ChannelMessage, Epoch, Topic } from '../src/core/types.js';
import { RedisEngine } from '../src/engine/redis.js';
import { RedisKeys } from '../src/engine/redis/keys.js';
import type { Connection } from '../src/engine/redis/streams.js';
import { TopicFeed, type TopicWire } from '../src/engine/redis/topic-feed.js';
import { RecordingHandler } from './helpers/engine-contract.js';
import { ManualClock } from './helpers/manual-clock.js';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { Signal } from './helpers/wait.js';

const availability = redisAvailability();
const silent = pino({ level: 'silent' });
let prefixes = 0;

/** The engine options of these tests; each engine gets its own key space unless `prefix` is given. */
function engineOn(redisUrl: string, prefix = `fault${++prefixes}`): RedisEngine {
  return new RedisEngine(
    {
      replayBufferSize: 1000,
      replayWindowMs: 600_000,
      presenceHistorySize: 100,
      redisUrl,
      prefix,
      nodeLeaseMs: 5000,
      sentinels: [],
      sentinelName: '',
      clusterNodes: [],
    },
    new ManualClock(),
    silent,
  );
}

/** Every unhandled rejection while a test runs: the engine must never leave one behind. */
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

if (!availability.run && availability.fail) {
  test('redis faults - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING redis fault tests: ${availability.why} !!!\n`);
} else {
  test('topic feed - a failed read while catching a topic up is retried, and the feed keeps passing messages on', async (t) => {
    const redis = await TestRedis.start();
    const prefix = `feed${++prefixes}`;
    const publisher = engineOn(redis.url, prefix);
    await publisher.start(new RecordingHandler());
    const subscriber = new Redis(redis.url);
    const command = new Redis(redis.url);
    const before = unhandled.length;
    let failNext = false;
    let dropLive = false;
    const emitted: { topic: Topic; epoch: Epoch; message: ChannelMessage }[] = [];
    const signal = new Signal();
    const feed = new TopicFeed({
      keys: new RedisKeys(prefix),
      subscriber: () => subscriber,
      // The injected fault: the next read of the feed fails, as one does while Redis comes back.
      call: async <T>(fn: (r: Connection) => Promise<T>): Promise<T> => {
        if (failNext) {
          failNext = false;
          throw new Error('injected: connection is closed');
        }
        return fn(command);
      },
      emit: (topic, epoch, message) => {
        emitted.push({ topic, epoch, message });
        signal.notify();
      },
      log: silent,
    });
    subscriber.on('message', (_channel: string, text: string) => {
      // Pub/sub is at most once: these messages are lost on the way, as during a reconnect.
      if (!dropLive) feed.receive(JSON.parse(text) as TopicWire);
    });
    const seqs = (): number[] => emitted.map((e) => e.message.seq);
    try {
      await feed.follow('news');
      for (const m of ['1', '2', '3']) await publisher.publishTopic('news', m);
      await signal.until(() => emitted.length === 3, 'the first three messages', () => `got ${seqs()}`);
      dropLive = true;
      for (const m of ['4', '5']) await publisher.publishTopic('news', m);
      dropLive = false;
      // The feed was down and is back: its catch-up read fails once; nobody else will ask again.
      failNext = true;
      feed.catchUp();
      await signal.until(() => emitted.length === 5, 'the missed messages, from a retried catch-up', () => `got ${seqs()}`);
      for (const m of ['6', '7']) await publisher.publishTopic('news', m);
      await signal.until(() => emitted.length === 7, 'live messages after the failure', () => `got ${seqs()}`);
      t.deepEqual(seqs(), [1, 2, 3, 4, 5, 6, 7]);
      // A failed gap fill on a live message is retried as well.
      dropLive = true;
      await publisher.publishTopic('news', '8');
      dropLive = false;
      failNext = true;
      await publisher.publishTopic('news', '9');
      await signal.until(() => emitted.length === 9, 'a gap filled after a failed read', () => `got ${seqs()}`);
      t.deepEqual(seqs(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      t.deepEqual(unhandled.slice(before), [], 'no unhandled rejection');
    } finally {
      await feed.unfollow('news');
      subscriber.disconnect();
      command.disconnect();
      await publisher.stop();
      await redis.dispose();
    }
  });
}
