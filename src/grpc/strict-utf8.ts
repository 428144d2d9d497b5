import { BinaryReader } from '@bufbuild/protobuf/wire';
import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import {
  BroadcastRequest,
  ChannelServiceService,
  CloseChannelRequest,
  StreamMessagesRequest,
  SubscribeRequest,
  UnsubscribeRequest,
  CreateChannelRequest,
  GetPresenceRequest,
  SendMessageRequest,
  SendMessagesRequest,
  WatchPresenceRequest,
} from '../../gen/ts/channel/v1/channel.js';

/**
 * Protobuf strings must be UTF-8, but the generated decoders quietly turn bad bytes into U+FFFD,
 * which would serve a request under a client id the backend never sent. We decode strictly and
 * mark offending requests; the interceptor below refuses them with INVALID_ARGUMENT.
 */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const invalid = new WeakMap<object, string>();

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Names the string fields that hold U+FFFD after a lenient decode, e.g. `requests[2].message`. */
function suspectFields(value: unknown, path: string): string[] {
  if (typeof value === 'string') return value.includes('\uFFFD') ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => suspectFields(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null || value instanceof Date) return [];
  const entries = Object.entries(value as Record<string, unknown>);
  // A ts-proto oneof is { $case, value }: the case names the field.
  const oneof = entries.find(([k]) => k === '$case');
  if (oneof !== undefined) return suspectFields((value as { value: unknown }).value, path.replace(/[^.]*$/, snakeCase(String(oneof[1]))));
  return entries.flatMap(([k, v]) => suspectFields(v, path === '' ? snakeCase(k) : `${path}.${snakeCase(k)}`));
}

function strictly<T extends object>(decode: (reader: BinaryReader) => T): (buffer: Buffer) => T {
  return (buffer) => {
    try {
      return decode(new BinaryReader(buffer, (bytes) => strictDecoder.decode(bytes)));
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      const message = decode(new BinaryReader(buffer));
      invalid.set(message, suspectFields(message, '').join(', ') || 'a string field');
      return message;
    }
  };
}

const DECODERS = {
  createChannel: strictly((r) => CreateChannelRequest.decode(r)),
  sendMessage: strictly((r) => SendMessageRequest.decode(r)),
  sendMessages: strictly((r) => SendMessagesRequest.decode(r)),
  watchPresence: strictly((r) => WatchPresenceRequest.decode(r)),
  getPresence: strictly((r) => GetPresenceRequest.decode(r)),
  closeChannel: strictly((r) => CloseChannelRequest.decode(r)),
  broadcast: strictly((r) => BroadcastRequest.decode(r)),
  subscribe: strictly((r) => SubscribeRequest.decode(r)),
  unsubscribe: strictly((r) => UnsubscribeRequest.decode(r)),
  streamMessages: strictly((r) => StreamMessagesRequest.decode(r)),
} as const;

/** ChannelServiceService with UTF-8-checking request decoders. */
export const StrictChannelService = {
  createChannel: { ...ChannelServiceService.createChannel, requestDeserialize: DECODERS.createChannel },
  sendMessage: { ...ChannelServiceService.sendMessage, requestDeserialize: DECODERS.sendMessage },
  sendMessages: { ...ChannelServiceService.sendMessages, requestDeserialize: DECODERS.sendMessages },
  watchPresence: { ...ChannelServiceService.watchPresence, requestDeserialize: DECODERS.watchPresence },
  getPresence: { ...ChannelServiceService.getPresence, requestDeserialize: DECODERS.getPresence },
  closeChannel: { ...ChannelServiceService.closeChannel, requestDeserialize: DECODERS.closeChannel },
  broadcast: { ...ChannelServiceService.broadcast, requestDeserialize: DECODERS.broadcast },
  subscribe: { ...ChannelServiceService.subscribe, requestDeserialize: DECODERS.subscribe },
  unsubscribe: { ...ChannelServiceService.unsubscribe, requestDeserialize: DECODERS.unsubscribe },
  streamMessages: { ...ChannelServiceService.streamMessages, requestDeserialize: DECODERS.streamMessages },
} as const satisfies typeof ChannelServiceService;

export const strictUtf8Interceptor: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, forward) => {
          const field = typeof message === 'object' && message !== null ? invalid.get(message) : undefined;
          if (field === undefined) forward(message);
          else call.sendStatus({ code: status.INVALID_ARGUMENT, details: `${field} is not valid UTF-8` });
        },
      }),
  });
