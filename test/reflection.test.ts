import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.js';

const reflectionRoot = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto');

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionRequest = { listServices: string } | { fileContainingSymbol: string };

/** One ServerReflectionInfo exchange (a bidi stream with one request), on the given API version. */
async function reflect(ts: TestServer, version: 'v1alpha' | 'v1', request: ReflectionRequest): Promise<ReflectionResponse> {
  const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [reflectionRoot] });
  const service = definition[`grpc.reflection.${version}.ServerReflection`];
  if (service === undefined || 'format' in service) throw new Error(`no ServerReflection service in the ${version} proto`);
  const method = service['ServerReflectionInfo'];
  if (method === undefined) throw new Error('no ServerReflectionInfo method');
  const client = new grpc.Client(`127.0.0.1:${ts.server.grpcPort}`, grpc.credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
    const response = new Promise<ReflectionResponse>((resolve, reject) => {
      call.once('data', (data: ReflectionResponse) => resolve(data));
      call.once('error', reject);
    });
    call.write(request);
    call.end();
    return await response;
  } finally {
    client.close();
  }
}

let ts: TestServer;
test.before(async () => {
  ts = await startTestServer();
});
test.after.always(async () => {
  await ts?.close();
});

for (const version of ['v1alpha', 'v1'] as const) {
  test(`reflection - ${version} lists channel.v1.ChannelService and grpc.health.v1.Health`, async (t) => {
    const response = await reflect(ts, version, { listServices: '*' });
    const names = response.listServicesResponse?.service.map((s) => s.name) ?? [];
    t.true(names.includes('channel.v1.ChannelService'), names.join(', '));
    t.true(names.includes('grpc.health.v1.Health'), names.join(', '));
  });
}

async function channelFiles(): Promise<FileDescriptorProto[]> {
  const response = await reflect(ts, 'v1alpha', { fileContainingSymbol: 'channel.v1.ChannelService' });
  return (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

test('reflection - v1alpha describes ChannelService and sends the Timestamp and Duration types it uses along', async (t) => {
  const files = await channelFiles();
  const channel = files.find((f) => f.package === 'channel.v1');
  t.truthy(channel, `files: ${files.map((f) => f.name).join(', ')}`);
  const service = channel?.service.find((s) => s.name === 'ChannelService');
  t.deepEqual(
    service?.method.map((m) => m.name),
    ['CreateChannel', 'SendMessage', 'SendMessages', 'WatchPresence', 'GetPresence', 'CloseChannel', 'Broadcast', 'Subscribe', 'Unsubscribe', 'StreamMessages',
      'GetTopicMembers', 'CountTopicMembers', 'WatchTopicPresence', 'WatchDeliveries', 'GetDelivery'],
  );
  t.true(service?.method.find((m) => m.name === 'WatchPresence')?.serverStreaming);
  t.true(service?.method.find((m) => m.name === 'WatchTopicPresence')?.serverStreaming);
  t.true(service?.method.find((m) => m.name === 'WatchDeliveries')?.serverStreaming);
  const wellKnown = files.filter((f) => f.package === 'google.protobuf').flatMap((f) => f.messageType.map((m) => m.name));
  t.true(wellKnown.includes('Timestamp') && wellKnown.includes('Duration'), `well-known types sent along: ${wellKnown.join(', ')}`);
});

/**
 * What reflection clients such as grpcurl and `buf curl` need to link the descriptors: the file's
 * real name, its imports declared, and the proto's own field names. @grpc/reflection fed from
 * @grpc/proto-loader gives "channel_v1.proto" with no imports and camelCase fields, and `buf curl`
 * cannot find the service in that schema; so channeld serves the descriptors buf builds.
 */
test('reflection - descriptors name their file, declare their imports and keep field names', async (t) => {
  const files = await channelFiles();
  const channel = files.find((f) => f.package === 'channel.v1');
  t.is(channel?.name, 'channel/v1/channel.proto');
  t.deepEqual(channel?.dependency, ['google/protobuf/duration.proto', 'google/protobuf/timestamp.proto']);
  t.is(channel?.messageType.find((m) => m.name === 'CreateChannelRequest')?.field[0]?.name, 'client_id');
});

test('reflection - an unknown symbol is a NOT_FOUND error response', async (t) => {
  const response = await reflect(ts, 'v1alpha', { fileContainingSymbol: 'channel.v1.NoSuchService' });
  t.is(response.errorResponse?.errorCode, grpc.status.NOT_FOUND);
});
