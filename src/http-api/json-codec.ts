import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, fromJson, ScalarType, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { invalidArgument } from '../core/errors.js';
import { PROJECT_ROOT } from '../paths.js';

/**
 * The proto's JSON mapping for HTTP bodies. ts-proto's generated fromJSON is lenient: it ignores
 * unknown fields, turns 123 into "123" and "false" into true, takes the first of two oneof members
 * and the camelCase spelling of a field given twice. A backend that misspells a field would have
 * its request quietly served without it. So every body is first checked against the proto's
 * descriptors by @bufbuild/protobuf's JSON parser (protobuf's own rules: unknown keys, wrong
 * types, out-of-range numbers and doubly set fields are errors) and only then converted by
 * ts-proto, so the rest of channeld sees the same objects gRPC gives it.
 */
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(join(PROJECT_ROOT, 'gen', 'descriptors', 'channel.binpb'))));

export function messageDesc(typeName: string): DescMessage {
  const desc = registry.getMessage(typeName);
  if (desc === undefined) throw new Error(`${typeName} is not in gen/descriptors/channel.binpb (run npm run gen)`);
  return desc;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** The body as JSON that satisfies `desc`, or INVALID_ARGUMENT saying what is wrong with it. */
export function checkedJson(desc: DescMessage, body: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw invalidArgument('body is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text === '' ? '{}' : text);
  } catch (err) {
    throw invalidArgument(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalidArgument(`body must be a JSON object (a ${desc.typeName}), not ${kindOf(json)}`);
  }
  try {
    fromJson(desc, json as JsonValue);
  } catch (err) {
    throw invalidArgument((err as Error).message);
  }
  return json as Record<string, unknown>;
}

const INT64 = new Set<ScalarType>([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);

function scalarDefault(type: ScalarType): unknown {
  if (INT64.has(type)) return '0';
  if (type === ScalarType.BOOL) return false;
  if (type === ScalarType.STRING || type === ScalarType.BYTES) return '';
  return 0;
}

/** Well-known types (Timestamp) already have their JSON form from ts-proto. */
function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith('google.protobuf.');
}

/**
 * Makes ts-proto's toJSON output canonical and complete: 64-bit integers as strings (as
 * protobuf's JSON mapping has them, since JavaScript numbers lose precision past 2^53), and fields
 * at their default value present rather than left out (protobuf's "emit default values" printing),
 * so `connected: false` is there to read for a PHP or shell backend. Oneof members and message
 * fields left unset stay absent: their absence means something.
 */
export function completeJson(desc: DescMessage, given: Record<string, unknown>): Record<string, unknown> {
  // Rebuilt in the proto's field order, so defaults filled in do not end up last.
  const obj: Record<string, unknown> = {};
  for (const field of desc.fields) {
    const key = field.jsonName;
    const value = given[key];
    if (value !== undefined) obj[key] = value;
    switch (field.fieldKind) {
      case 'scalar':
        if (value === undefined) {
          if (field.oneof === undefined) obj[key] = scalarDefault(field.scalar);
        } else if (INT64.has(field.scalar)) obj[key] = String(value);
        break;
      case 'enum':
        if (value === undefined && field.oneof === undefined) obj[key] = field.enum.values[0]?.name ?? 0;
        break;
      case 'message':
        if (value !== undefined && !isWellKnown(field.message)) obj[key] = completeJson(field.message, value as Record<string, unknown>);
        break;
      case 'list':
        if (value === undefined) obj[key] = [];
        else if (field.listKind === 'message' && !isWellKnown(field.message)) {
          const message = field.message;
          obj[key] = (value as Record<string, unknown>[]).map((item) => completeJson(message, item));
        } else if (field.listKind === 'scalar' && INT64.has(field.scalar)) obj[key] = (value as unknown[]).map(String);
        break;
      case 'map':
        if (value === undefined) obj[key] = {};
        break;
    }
  }
  return obj;
}
