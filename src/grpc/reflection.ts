import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { Server } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { PROJECT_ROOT } from '../paths.js';

/**
 * Descriptor sets written by `buf build` (npm run gen): the exact FileDescriptorProtos of our
 * proto files and their imports. Descriptors rebuilt by proto-loader rename files and fields,
 * which breaks grpcurl and buf curl, so reflection serves these bytes as they are.
 */
const DESCRIPTOR_SETS = ['channel.binpb', 'health.binpb'].map((f) => join(PROJECT_ROOT, 'gen', 'descriptors', f));

/** Splits a FileDescriptorSet (field 1: repeated FileDescriptorProto) into its encoded files. */
function fileDescriptorProtos(set: Uint8Array): Buffer[] {
  const files: Buffer[] = [];
  const reader = new BinaryReader(set);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return files;
}

export function addReflection(server: Server): void {
  const sets = DESCRIPTOR_SETS.map((path) => readFileSync(path));
  const files = sets.flatMap(fileDescriptorProtos);
  const definition: PackageDefinition = Object.assign({}, ...sets.map((set) => loadFileDescriptorSetFromBuffer(set)));
  // @grpc/reflection indexes the `fileDescriptorProtos` of message and enum entries: hand it the originals.
  for (const entry of Object.values(definition)) {
    if ('fileDescriptorProtos' in entry) entry.fileDescriptorProtos = files;
  }
  new ReflectionService(definition).addToServer(server);
}
