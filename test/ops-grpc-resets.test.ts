import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { ChannelServiceClient } from '../gen/ts/channel/v1/channel.js';
import { RESET_BURST } from '../src/grpc/connection-guard.js';
import { startTestServer } from './helpers/server.js';

/** Opens a WatchPresence, waits for its first item, cancels it; resolves with the error if it was not CANCELLED. */
function watchAndCancel(client: ChannelServiceClient): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    const watch = client.watchPresence({ clientIds: [], clientIdPrefix: '', snapshot: true, cursor: '' });
    let settled = false;
    const settle = (err?: grpc.ServiceError): void => {
      if (settled) return;
      settled = true;
      resolve(err);
    };
    watch.on('data', () => watch.cancel());
    watch.on('error', (err: grpc.ServiceError) => settle(err.code === grpc.status.CANCELLED ? undefined : err));
    watch.on('end', () => settle());
  });
}

test('grpc resets - 2,000 WatchPresence open/cancel cycles on one connection: no call fails, and a long call on it survives', async (t) => {
  const ts = await startTestServer({ metricsHost: '127.0.0.1', metricsPort: 0 });
  t.teardown(() => ts.close());
  // One backend connection: every call below shares it (grpc-js uses one subchannel per target).
  const client = new ChannelServiceClient(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  // A long-lived stream on the same connection, as a backend's presence watcher would keep open.
  const longWatch = client.watchPresence({ clientIds: [], clientIdPrefix: '', snapshot: false, cursor: '' });
  let longError: grpc.ServiceError | undefined;
  longWatch.on('error', (err: grpc.ServiceError) => (longError = err));
  longWatch.on('data', () => undefined);

  const cycles = 2 * RESET_BURST;
  const failures: string[] = [];
  for (let i = 0; i < cycles; i++) {
    const err = await watchAndCancel(client);
    if (err !== undefined) failures.push(`cycle ${i}: ${err.code} ${err.details}`);
  }
  t.deepEqual(failures, [], 'every cycle ends CANCELLED, none INTERNAL');

  // Calls in flight meanwhile and after still work.
  const created = await new Promise<string>((resolve, reject) =>
    client.createChannel({ clientId: 'after-resets', durationMinutes: 0 }, (err, res) => (err ? reject(err) : resolve(res.token))),
  );
  t.truthy(created);
  t.is(longError, undefined, 'the long WatchPresence on the first connection was not cut off');
  longWatch.cancel();
  const metrics = await (await fetch(`http://127.0.0.1:${ts.server.metricsPort}/metrics`)).text();
  const recycled = Number(/^channeld_grpc_connections_recycled_total (\d+)$/m.exec(metrics)?.[1]);
  t.true(recycled >= 2, `${recycled} connections moved on`);
});

test('grpc resets - calls that end with a status are not resets: 3,000 unary calls on one connection never move it on', async (t) => {
  const ts = await startTestServer({ metricsHost: '127.0.0.1', metricsPort: 0 });
  t.teardown(() => ts.close());
  const client = new ChannelServiceClient(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  // grpc-js reports a cancel after every status it sends; counted as resets, these drained a busy
  // backend's connection every few hundred calls (GOAWAY, UNAVAILABLE for calls racing it).
  const calls = 3 * RESET_BURST;
  let failed = 0;
  for (let i = 0; i < calls; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        new Promise<void>((resolve) =>
          client.sendMessage({ target: { $case: 'clientId', value: `unary-${(i + j) % 10}` }, message: 'm', idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined }, (err) => {
            if (err !== null) failed++;
            resolve();
          }),
        ),
      ),
    );
  }
  t.is(failed, 0);
  const metrics = await (await fetch(`http://127.0.0.1:${ts.server.metricsPort}/metrics`)).text();
  t.is(Number(/^channeld_grpc_connections_recycled_total (\d+)$/m.exec(metrics)?.[1]), 0, 'no connection moved on');
});
