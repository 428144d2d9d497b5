import { BinaryReader } from '@bufbuild/protobuf/wire';
import {
  BroadcastRequest,
  CloseChannelRequest,
  StreamMessagesRequest,
  SubscribeRequest,
  UnsubscribeRequest,
  CreateChannelRequest,
  GetPresenceRequest,
  SendMessageRequest,
  SendMessagesRequest,
  WatchPresenceRequest,
  GetTopicMembersRequest,
  CountTopicMembersRequest,
  WatchTopicPresenceRequest,
  WatchDeliveriesRequest,
  GetDeliveryRequest,
} from '../../gen/ts/channel/v1/channel.js';

/**
 * Protobuf strings must be UTF-8, but the generated decoders quietly turn bad bytes into U+FFFD,
 * which would serve a request under a client id the backend never sent. We decode strictly: a
 * field that is not UTF-8 decodes to NOT_UTF8, and the request (or, in a batch or a stream, only
 * the item holding it) is refused with INVALID_ARGUMENT naming the field.
 */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** A lone surrogate: no strict UTF-8 decode yields one, so it marks a bad field without ambiguity. */
const NOT_UTF8 = '\uD800';
/** Requests refused as a whole, with the fields to name. */
const invalid = new WeakMap<object, string>();
/** SendMessageRequest items of SendMessages and StreamMessages that fail alone, with their fields. */
const invalidItems = new WeakMap<SendMessageRequest, string>();

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Names the string fields that did not decode, e.g. `requests[2].message`. */
function badFields(value: unknown, path: string): string[] {
  if (typeof value === 'string') return value === NOT_UTF8 ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => badFields(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null || value instanceof Date) return [];
  const entries = Object.entries(value as Record<string, unknown>);
  // A ts-proto oneof is { $case, value }: the case names the field.
  const oneof = entries.find(([k]) => k === '$case');
  if (oneof !== undefined) return badFields((value as { value: unknown }).value, path.replace(/[^.]*$/, snakeCase(String(oneof[1]))));
  return entries.flatMap(([k, v]) => badFields(v, path === '' ? snakeCase(k) : `${path}.${snakeCase(k)}`));
}

/**
 * A deserializer that decodes strictly. `itemsOf` names the parts of the request that are
 * answered one by one (the items of a batch): a bad field inside one marks only that item.
 */
function strictly<T extends object>(
  decode: (reader: BinaryReader) => T,
  itemsOf?: (message: T) => readonly (SendMessageRequest | undefined)[],
): (buffer: Buffer) => T {
  return (buffer) => {
    let failed = false;
    const message = decode(
      new BinaryReader(buffer, (bytes) => {
        try {
          return strictDecoder.decode(bytes);
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
          failed = true;
          return NOT_UTF8;
        }
      }),
    );
    if (!failed) return message;
    if (itemsOf === undefined) {
      invalid.set(message, badFields(message, '').join(', ') || 'a string field');
      return message;
    }
    for (const item of itemsOf(message)) {
      const fields = item === undefined ? [] : badFields(item, '');
      if (item !== undefined && fields.length > 0) invalidItems.set(item, fields.join(', '));
    }
    return message;
  };
}

/** For an item of SendMessages or StreamMessages: the fields that were not UTF-8 on the wire, if any. */
export function notUtf8Fields(item: SendMessageRequest): string | undefined {
  return invalidItems.get(item);
}

/** For a request refused as a whole: the fields that were not UTF-8 on the wire, if any. */
export function notUtf8Request(message: object): string | undefined {
  return invalid.get(message);
}

/** The request decoders of every ChannelService method, strict about UTF-8. */
export const STRICT_DECODERS = {
  createChannel: strictly((r) => CreateChannelRequest.decode(r)),
  sendMessage: strictly((r) => SendMessageRequest.decode(r)),
  sendMessages: strictly((r) => SendMessagesRequest.decode(r), (m) => m.requests),
  watchPresence: strictly((r) => WatchPresenceRequest.decode(r)),
  getPresence: strictly((r) => GetPresenceRequest.decode(r)),
  closeChannel: strictly((r) => CloseChannelRequest.decode(r)),
  broadcast: strictly((r) => BroadcastRequest.decode(r)),
  subscribe: strictly((r) => SubscribeRequest.decode(r)),
  unsubscribe: strictly((r) => UnsubscribeRequest.decode(r)),
  streamMessages: strictly((r) => StreamMessagesRequest.decode(r), (m) => [m.request, ...m.requests]),
  getTopicMembers: strictly((r) => GetTopicMembersRequest.decode(r)),
  countTopicMembers: strictly((r) => CountTopicMembersRequest.decode(r)),
  watchTopicPresence: strictly((r) => WatchTopicPresenceRequest.decode(r)),
  watchDeliveries: strictly((r) => WatchDeliveriesRequest.decode(r)),
  getDelivery: strictly((r) => GetDeliveryRequest.decode(r)),
} as const;

