import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { ChannelServiceClient, type CreateChannelResponse } from '../gen/ts/channel/v1/channel.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { GRPCURL, grpcurlAvailability, ROOT, run } from './helpers/go.js';
import { silentLogger } from './helpers/server.js';
import { makeTestPki, type TestPki } from './helpers/tls.js';

let pki: TestPki;
let tlsServer: RunningServer;
let mtlsServer: RunningServer;
const clients: ChannelServiceClient[] = [];

const base = { grpcHost: '127.0.0.1', grpcPort: 0, httpHost: '127.0.0.1', httpPort: 0, logger: silentLogger, shutdownGraceMs: 1000 };

test.before(async () => {
  pki = makeTestPki();
  [tlsServer, mtlsServer] = await Promise.all([
    startServer({ ...base, grpcTlsCert: pki.server.certFile, grpcTlsKey: pki.server.keyFile }),
    startServer({ ...base, grpcTlsCert: pki.server.certFile, grpcTlsKey: pki.server.keyFile, grpcTlsClientCa: pki.ca.certFile }),
  ]);
});

test.after.always(async () => {
  for (const c of clients) c.close();
  await Promise.all([tlsServer?.close(), mtlsServer?.close()]);
  pki?.remove();
});

function client(server: RunningServer, credentials: grpc.ChannelCredentials): ChannelServiceClient {
  const c = new ChannelServiceClient(`localhost:${server.grpcPort}`, credentials);
  clients.push(c);
  return c;
}

function createChannel(c: ChannelServiceClient, clientId: string): Promise<CreateChannelResponse> {
  return new Promise((resolve, reject) =>
    c.createChannel({ clientId, durationMinutes: 0 }, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

test('grpc tls - a TLS client that trusts the CA gets its calls answered', async (t) => {
  const reply = await createChannel(client(tlsServer, grpc.credentials.createSsl(pki.ca.cert)), 'tls-alice');
  t.true(reply.token.length > 20);
});

test('grpc tls - a plaintext client cannot talk to the TLS listener', async (t) => {
  const err = await t.throwsAsync(createChannel(client(tlsServer, grpc.credentials.createInsecure()), 'tls-plain'));
  t.is((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
});

test('grpc tls - a client that does not trust the server certificate is refused', async (t) => {
  const err = await t.throwsAsync(createChannel(client(tlsServer, grpc.credentials.createSsl(pki.strangerClient.cert)), 'tls-distrust'));
  t.is((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
});

test('grpc mtls - a client certificate signed by the client CA is accepted', async (t) => {
  const reply = await createChannel(client(mtlsServer, grpc.credentials.createSsl(pki.ca.cert, pki.client.key, pki.client.cert)), 'mtls-alice');
  t.true(reply.token.length > 20);
});

test('grpc mtls - a TLS client without a certificate is refused', async (t) => {
  const err = await t.throwsAsync(createChannel(client(mtlsServer, grpc.credentials.createSsl(pki.ca.cert)), 'mtls-anon'));
  t.is((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
});

test('grpc mtls - a client certificate from another CA is refused', async (t) => {
  const credentials = grpc.credentials.createSsl(pki.ca.cert, pki.strangerClient.key, pki.strangerClient.cert);
  const err = await t.throwsAsync(createChannel(client(mtlsServer, credentials), 'mtls-stranger'));
  t.is((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
});

test('grpc mtls - a plaintext client is refused too', async (t) => {
  const err = await t.throwsAsync(createChannel(client(mtlsServer, grpc.credentials.createInsecure()), 'mtls-plain'));
  t.is((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
});

test('grpc tls - settings: cert and key go together, the client CA needs them, bad files fail the start naming the flag', async (t) => {
  t.throws(() => loadConfig(['--grpc-tls-cert', pki.server.certFile], {}), { message: /--grpc-tls-cert and --grpc-tls-key go together/ });
  t.throws(() => loadConfig([], { CHANNELD_GRPC_TLS_KEY: pki.server.keyFile }), { message: /go together/ });
  t.throws(() => loadConfig(['--grpc-tls-client-ca', pki.ca.certFile], {}), { message: /--grpc-tls-client-ca needs --grpc-tls-cert/ });
  const { config } = loadConfig([], {
    CHANNELD_GRPC_TLS_CERT: pki.server.certFile,
    CHANNELD_GRPC_TLS_KEY: pki.server.keyFile,
    CHANNELD_GRPC_TLS_CLIENT_CA: pki.ca.certFile,
  });
  t.like(config, { grpcTlsCert: pki.server.certFile, grpcTlsKey: pki.server.keyFile, grpcTlsClientCa: pki.ca.certFile });

  await t.throwsAsync(startServer({ ...base, grpcTlsCert: join(pki.dir, 'missing.crt'), grpcTlsKey: pki.server.keyFile }), {
    message: /--grpc-tls-cert: cannot read .*missing\.crt/,
  });
  // The client's key with the server's certificate: a pair that does not match.
  await t.throwsAsync(startServer({ ...base, grpcTlsCert: pki.server.certFile, grpcTlsKey: pki.client.keyFile }), {
    message: /gRPC TLS: .*(key values mismatch|private key does not match)/i,
  });
});

const availability = grpcurlAvailability();
if (!availability.run && availability.fail) {
  test('grpc tls - grpcurl is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING grpcurl TLS tests: ${availability.why} !!!\n`);
}
const grpcurlTest = availability.run ? test : test.skip;

function script(name: string, args: readonly string[], server: RunningServer, env: Record<string, string>) {
  return run(join(ROOT, 'examples', 'grpcurl', name), args, {
    env: { CHANNELD_GRPC_ADDR: `localhost:${server.grpcPort}`, CHANNELD_API_KEY: '', GRPCURL, ...env },
  });
}

grpcurlTest('grpc tls - the grpcurl scripts reach a TLS channeld with CHANNELD_GRPC_TLS=1 and the CA', async (t) => {
  const env = { CHANNELD_GRPC_TLS: '1', CHANNELD_GRPC_CACERT: pki.ca.certFile };
  const health = await script('health.sh', [], tlsServer, env);
  t.is(health.code, 0, health.stderr);
  t.deepEqual(JSON.parse(health.stdout), { status: 'SERVING' });
  const created = await script('create-channel.sh', ['grpcurl-tls', '5'], tlsServer, env);
  t.is(created.code, 0, created.stderr);
  t.is((JSON.parse(created.stdout) as { durationMinutes: number }).durationMinutes, 5);
  const plaintext = await script('health.sh', [], tlsServer, {});
  t.not(plaintext.code, 0, 'plaintext grpcurl must fail against TLS');
});

grpcurlTest('grpc mtls - the grpcurl scripts need the client certificate for a mutual-TLS channeld', async (t) => {
  const env = { CHANNELD_GRPC_TLS: '1', CHANNELD_GRPC_CACERT: pki.ca.certFile };
  const withCert = await script('create-channel.sh', ['grpcurl-mtls'], mtlsServer, { ...env, CHANNELD_GRPC_CERT: pki.client.certFile, CHANNELD_GRPC_KEY: pki.client.keyFile });
  t.is(withCert.code, 0, withCert.stderr);
  t.truthy((JSON.parse(withCert.stdout) as { token: string }).token);
  const without = await script('create-channel.sh', ['grpcurl-mtls'], mtlsServer, env);
  t.not(without.code, 0, 'no client certificate, no call');
});
