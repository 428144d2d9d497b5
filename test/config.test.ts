import test from 'ava';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, loadConfig } from '../src/config.js';

test('config - defaults match the design: gRPC on loopback 50051, HTTP on 8080, memory engine', (t) => {
  const { config } = loadConfig([], {});
  t.like(config, { grpcHost: '127.0.0.1', grpcPort: 50051, httpHost: '0.0.0.0', httpPort: 8080, engine: 'memory', demo: false });
});

test('config - environment then flags, flags win', (t) => {
  const { config } = loadConfig(['--grpc-port', '6000', '--demo'], { CHANNELD_GRPC_PORT: '5000', CHANNELD_HTTP_PORT: '9000' });
  t.is(config.grpcPort, 6000);
  t.is(config.httpPort, 9000);
  t.true(config.demo);
});

test('config - list settings repeat, split on commas in the environment, and read @files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'channeld-'));
  const file = join(dir, 'keys');
  writeFileSync(file, '# keys\nkey-one\n\nkey-two\n');
  t.deepEqual(loadConfig(['--api-key', 'a', '--api-key', `@${file}`], {}).config.apiKeys, ['a', 'key-one', 'key-two']);
  t.deepEqual(loadConfig([], { CHANNELD_API_KEYS: 'x, y' }).config.apiKeys, ['x', 'y']);
});

test('config - unknown flags and out-of-range values are refused, naming the setting', (t) => {
  t.throws(() => loadConfig(['--nope'], {}), { message: /Unknown option '--nope'/ });
  t.throws(() => loadConfig(['--http-port', '70000'], {}), { message: '--http-port is "70000"; it must be an integer from 0 to 65535' });
  t.throws(() => loadConfig([], { CHANNELD_REPLAY_WINDOW_SECONDS: 'soon' }), { message: /CHANNELD_REPLAY_WINDOW_SECONDS is "soon"/ });
  t.throws(() => loadConfig(['--engine', 'postgres'], {}), { message: /must be one of memory/ });
  t.throws(() => loadConfig(['--socket-idle-timeout-seconds', '10'], {}), { message: /multiple of 4/ });
});

test('config - the defaults object is not shared between loads', (t) => {
  loadConfig(['--api-key', 'k'], {});
  t.deepEqual(DEFAULT_CONFIG.apiKeys, []);
});

test('config - redis shards: repeated or from the environment; a non-redis URL, a repeat, more than 256, or shards with Sentinels or a Cluster are refused', (t) => {
  const two = ['--redis-shard', 'redis://127.0.0.1:6379', '--redis-shard', 'redis://127.0.0.1:6380'];
  t.deepEqual(loadConfig(two, {}).config.redisShards, ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6380']);
  t.deepEqual(loadConfig([], { CHANNELD_REDIS_SHARDS: 'redis://a:1,rediss://b:2' }).config.redisShards, ['redis://a:1', 'rediss://b:2']);
  t.throws(() => loadConfig(['--redis-shard', 'http://127.0.0.1:6379'], {}), { message: /redis shard "http:\/\/127.0.0.1:6379" is not a redis:\/\/ URL/ });
  t.throws(() => loadConfig(['--redis-shard', '127.0.0.1:6379'], {}), { message: /is not a redis:\/\/ URL/ });
  t.throws(() => loadConfig([...two, '--redis-shard', 'redis://127.0.0.1:6379'], {}), { message: /listed twice/ });
  const many = Array.from({ length: 257 }, (_, i) => ['--redis-shard', `redis://127.0.0.1:${10_000 + i}`]).flat();
  t.throws(() => loadConfig(many, {}), { message: '257 redis shards are listed; at most 256 are supported' });
  t.is(loadConfig(many.slice(0, 512), {}).config.redisShards.length, 256);
  t.throws(() => loadConfig([...two, '--redis-sentinel', '127.0.0.1:26379'], {}), { message: /does not go with --redis-sentinel or --redis-cluster-node/ });
  t.throws(() => loadConfig([...two, '--redis-cluster-node', '127.0.0.1:7000'], {}), { message: /does not go with/ });
  t.is(loadConfig(['--redis-partitions', '256'], {}).config.redisPartitions, 256);
  t.throws(() => loadConfig(['--redis-partitions', '257'], {}), { message: /--redis-partitions is "257"; it must be an integer from 1 to 256/ });
  t.throws(() => loadConfig(['--redis-partitions', '0'], {}), { message: /from 1 to 256/ });
});
