import test from 'ava';
import { Redis } from 'ioredis';
import { redisAvailability, TestRedis } from './helpers/redis.js';
import { connect, startTestServer, type TestServer } from './helpers/server.js';

const availability = redisAvailability();
const SECRET = '0123456789abcdef0123456789abcdef';

if (!availability.run) {
  if (availability.fail) test('feed loss - redis-server is installed (CI=true)', (t) => t.fail(availability.why));
  else test('feed loss - SKIPPED: redis-server is not installed', (t) => t.pass(availability.why));
} else {
  test('feed loss - events lost while a node\'s pub/sub connection was away are caught up: CloseChannel, takeover, Subscribe, Unsubscribe', async (t) => {
    const redis = await TestRedis.start();
    const admin = new Redis(redis.url);
    const options = { engine: 'redis' as const, redisUrl: redis.url, redisPrefix: 'feedloss', tokenSecrets: [SECRET] };
    const a: TestServer = await startTestServer(options);
    const b: TestServer = await startTestServer(options);
    try {
      const closed = await connect(a, 'closed');
      const replaced = await connect(a, 'replaced');
      const joiner = await connect(a, 'joiner');
      const leaver = await connect(a, 'leaver');
      await b.rpc.subscribe({ clientIds: ['leaver'], topic: 'old-room' });
      await leaver.socket.until(() => leaver.socket.topicWelcome('old-room') !== undefined, 'the old-room welcome');

      // Redis cuts every pub/sub client (as it does past client-output-buffer-limit pubsub); node
      // B's events for node A's sockets are lost while A reconnects.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await b.rpc.closeChannel({ clientId: 'closed' });
      const { token } = await b.createChannel('replaced');
      const { RawSocket } = await import('./helpers/socket.js');
      const newer = new RawSocket(b.wsUrl, token);
      await newer.until(() => newer.welcome !== undefined, 'the newer socket\'s welcome');
      await b.rpc.subscribe({ clientIds: ['joiner'], topic: 'new-room' });
      await b.rpc.unsubscribe({ clientIds: ['leaver'], topic: 'old-room' });

      await closed.socket.until(() => closed.socket.closeCode !== undefined, 'the closed channel\'s socket to close', 15_000);
      t.is(closed.socket.closeCode, 4503);
      await replaced.socket.until(() => replaced.socket.closeCode !== undefined, 'the displaced socket to close', 15_000);
      t.is(replaced.socket.closeCode, 4502);
      await joiner.socket.until(() => joiner.socket.topicWelcome('new-room') !== undefined, 'the new-room welcome', 15_000);
      await leaver.socket.until(() => leaver.socket.frames.some((f) => f[0] === 6 && f[1] === 'old-room'), 'old-room left', 15_000);

      const sent = await b.rpc.broadcast({ message: 'to both rooms', clientIds: [], topics: ['new-room', 'old-room'] });
      t.deepEqual(sent.topics.map((r) => r.members), [1, 0]);
      await joiner.socket.until(() => joiner.socket.topicMessages('new-room').length === 1, 'the broadcast');
      t.deepEqual(joiner.socket.topicMessages('new-room').map((m) => m.data), ['to both rooms']);
      t.deepEqual(leaver.socket.topicMessages('old-room'), [], 'nothing after [6]');
      t.is(joiner.socket.closeCode, undefined);
      newer.close();
    } finally {
      admin.disconnect();
      await a.close();
      await b.close();
      await redis.dispose();
    }
  });
}
