import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { service as healthService } from 'grpc-health-check';
import { ChannelServiceClient } from '../gen/ts/channel/v1/channel.js';
import { PresenceStream, rejectsExactly, rpcFor, toClient, type Rpc } from './helpers/grpc.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const KEY = 'k-1234567890abcdef';
const ROTATED = 'k-rotated-0987654321';

// demo: true on purpose: API keys must switch it off.
let ts: TestServer;
let bare: ChannelServiceClient;
test.before(async () => {
  ts = await startTestServer({ apiKeys: [KEY, ROTATED], demo: true });
  bare = new ChannelServiceClient(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
});
test.after.always(async () => {
  bare?.close();
  await ts?.close();
});

function withAuthorization(value: string | undefined): Rpc {
  const metadata = new grpc.Metadata();
  if (value !== undefined) metadata.set('authorization', value);
  return rpcFor(bare, metadata);
}

/** grpc.health.v1.Health/Check, called with no metadata at all. */
function healthCheck(serviceName: string): Promise<unknown> {
  const client = new grpc.Client(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
  const check = healthService['Check']!;
  return new Promise<unknown>((resolve, reject) =>
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: serviceName },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  ).finally(() => client.close());
}

test('api keys - a call without metadata is UNAUTHENTICATED, saying what is missing', async (t) => {
  await rejectsExactly(
    t,
    withAuthorization(undefined).createChannel({ clientId: 'k-none', durationMinutes: 0 }),
    grpc.status.UNAUTHENTICATED,
    'missing "authorization: Bearer <api key>" metadata',
  );
  await rejectsExactly(
    t,
    withAuthorization(undefined).sendMessage(toClient('k-none', 'x')),
    grpc.status.UNAUTHENTICATED,
    'missing "authorization: Bearer <api key>" metadata',
  );
  // The refused SendMessage appended nothing.
  const sent = await ts.send('k-none', 'with the key');
  t.is(sent.seq, 1);
});

test('api keys - a wrong key is UNAUTHENTICATED', async (t) => {
  for (const wrong of [`Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`, 'Bearer k-', `Bearer ${KEY.toUpperCase()}`]) {
    await rejectsExactly(
      t,
      withAuthorization(wrong).createChannel({ clientId: 'k-wrong', durationMinutes: 0 }),
      grpc.status.UNAUTHENTICATED,
      'API key is not valid',
    );
  }
});

test('api keys - authorization metadata not of the form "Bearer <key>" is UNAUTHENTICATED', async (t) => {
  for (const malformed of [KEY, `Basic ${KEY}`, 'Bearer', `Bearer ${KEY} extra`]) {
    await rejectsExactly(
      t,
      withAuthorization(malformed).createChannel({ clientId: 'k-malformed', durationMinutes: 0 }),
      grpc.status.UNAUTHENTICATED,
      'authorization metadata must be "Bearer <api key>"',
    );
  }
});

test('api keys - the right key (either of the configured ones) is accepted', async (t) => {
  for (const key of [KEY, ROTATED]) {
    const rpc = withAuthorization(`Bearer ${key}`);
    const created = await rpc.createChannel({ clientId: 'k-right', durationMinutes: 0 });
    t.true(created.token.length > 0);
    const sent = await rpc.sendMessage(toClient('k-right', key));
    t.false(sent.connected);
    const presence = await rpc.getPresence({ clientIds: ['k-right'] });
    t.is(presence.clients.length, 1);
  }
});

test('api keys - a presence stream needs the key as well', async (t) => {
  const refused = new PresenceStream(bare, { snapshot: true });
  const err = await refused.done;
  t.is(err?.code, grpc.status.UNAUTHENTICATED);
  t.is(err?.details, 'missing "authorization: Bearer <api key>" metadata');
  t.deepEqual(refused.responses, []);
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${KEY}`);
  const allowed = new PresenceStream(bare, { snapshot: true }, metadata);
  t.teardown(() => allowed.cancel());
  await allowed.untilSnapshotComplete();
  t.false(allowed.snapshotComplete?.resumeFailed);
});

test('api keys - the health service answers without a key', async (t) => {
  t.deepEqual(await healthCheck(''), { status: 'SERVING' });
  t.deepEqual(await healthCheck('channel.v1.ChannelService'), { status: 'SERVING' });
});

test('api keys - demo mode is forced off, so its token-minting endpoint does not exist', async (t) => {
  t.false(ts.server.config.demo);
  const mint = await fetch(`${ts.httpUrl}/demo/channels`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'intruder' }),
  });
  t.is(mint.status, 404);
  t.false((await mint.text()).includes('token'));
  const presence = await fetch(`${ts.httpUrl}/demo/presence`);
  t.is(presence.status, 404);
  await presence.body?.cancel();
});

test('api keys - without API keys the same demo setting does mint tokens (control)', async (t) => {
  const open = await startTestServer({ demo: true });
  t.teardown(() => open.close());
  t.true(open.server.config.demo);
  const mint = await fetch(`${open.httpUrl}/demo/channels`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'visitor' }),
  });
  t.is(mint.status, 200);
  const body = (await mint.json()) as { token?: unknown };
  t.is(typeof body.token, 'string');
});
