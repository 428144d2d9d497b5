import type { DescMessage } from '@bufbuild/protobuf';
import {
  BroadcastRequest,
  BroadcastResponse,
  CloseChannelRequest,
  CloseChannelResponse,
  CreateChannelRequest,
  CreateChannelResponse,
  GetDeliveryRequest,
  GetDeliveryResponse,
  GetPresenceRequest,
  GetPresenceResponse,
  SendMessageRequest,
  SendMessageResponse,
  SendMessagesRequest,
  SendMessagesResponse,
  SubscribeRequest,
  SubscribeResponse,
  UnsubscribeRequest,
  UnsubscribeResponse,
  WatchPresenceRequest,
  GetTopicMembersRequest,
  GetTopicMembersResponse,
  CountTopicMembersRequest,
  CountTopicMembersResponse,
  type MessageFns,
} from '../../gen/ts/channel/v1/channel.js';
import { invalidArgument } from '../core/errors.js';
import { STRICT_DECODERS } from '../api/strict-decode.js';
import type { UnaryMethods } from '../api/channel-methods.js';
import type { CallContext } from '../core/channel-api.js';
import { checkedJson, completeJson, messageDesc } from './json-codec.js';

export const SERVICE = 'channel.v1.ChannelService';

/** How a body is written: the proto's JSON mapping or its binary encoding. */
export type BodyFormat = 'json' | 'proto';

export interface EncodedBody {
  readonly body: string | Uint8Array;
  readonly contentType: string;
}

export const JSON_TYPE = 'application/json; charset=utf-8';
export const PROTO_TYPE = 'application/proto';

/** One unary method: the body in, the core call, the body out; and the messages it got accepted. */
export interface UnaryRoute {
  readonly kind: 'unary';
  readonly name: string;
  /** `call`: the request's cancellation, for a SendMessage that waits for its delivery. */
  handle(methods: UnaryMethods, body: Uint8Array, format: BodyFormat, call: CallContext): Promise<{ readonly encoded: EncodedBody; readonly accepted: number }>;
}

export interface WatchRoute {
  readonly kind: 'watch';
  readonly name: string;
  decode(body: Uint8Array, format: BodyFormat): WatchPresenceRequest;
}

export type Route = UnaryRoute | WatchRoute;

/** A request decoder for either format; both go through the same strict checks gRPC applies. */
function decoder<Req>(fns: MessageFns<Req>, desc: DescMessage, binary: (buffer: Buffer) => Req): (body: Uint8Array, format: BodyFormat) => Req {
  return (body, format) => {
    if (format === 'json') return fns.fromJSON(checkedJson(desc, body));
    try {
      return binary(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    } catch (err) {
      throw invalidArgument(`body is not a valid ${desc.typeName} in binary protobuf: ${(err as Error).message}`);
    }
  };
}

function encoder<Res>(fns: MessageFns<Res>, desc: DescMessage): (response: Res, format: BodyFormat) => EncodedBody {
  return (response, format) =>
    format === 'proto'
      ? { body: fns.encode(response).finish(), contentType: PROTO_TYPE }
      : { body: JSON.stringify(completeJson(desc, fns.toJSON(response) as Record<string, unknown>)), contentType: JSON_TYPE };
}

function unary<Req, Res>(
  name: string,
  request: MessageFns<Req>,
  response: MessageFns<Res>,
  binary: (buffer: Buffer) => Req,
  call: (methods: UnaryMethods, request: Req, context: CallContext) => Promise<Res>,
  accepted: (response: Res) => number = () => 0,
): UnaryRoute {
  const decode = decoder(request, messageDesc(`channel.v1.${name}Request`), binary);
  const encode = encoder(response, messageDesc(`channel.v1.${name}Response`));
  return {
    kind: 'unary',
    name,
    async handle(methods, body, format, context) {
      const result = await call(methods, decode(body, format), context);
      return { encoded: encode(result, format), accepted: accepted(result) };
    },
  };
}

/** Every ChannelService method served over HTTP, by its name in the path. StreamMessages is not: HTTP/1.1 has no request streams. */
export const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>(
  [
    unary('CreateChannel', CreateChannelRequest, CreateChannelResponse, STRICT_DECODERS.createChannel, (m, r) => m.createChannel(r)),
    unary('SendMessage', SendMessageRequest, SendMessageResponse, STRICT_DECODERS.sendMessage, (m, r, c) => m.sendMessage(r, c), () => 1),
    unary('SendMessages', SendMessagesRequest, SendMessagesResponse, STRICT_DECODERS.sendMessages, (m, r) => m.sendMessages(r), (r) =>
      r.results.reduce((n, item) => (item.result?.$case === 'sent' ? n + 1 : n), 0),
    ),
    unary('GetPresence', GetPresenceRequest, GetPresenceResponse, STRICT_DECODERS.getPresence, (m, r) => m.getPresence(r)),
    unary('CloseChannel', CloseChannelRequest, CloseChannelResponse, STRICT_DECODERS.closeChannel, (m, r) => m.closeChannel(r)),
    unary('Broadcast', BroadcastRequest, BroadcastResponse, STRICT_DECODERS.broadcast, (m, r) => m.broadcast(r), () => 1),
    unary('Subscribe', SubscribeRequest, SubscribeResponse, STRICT_DECODERS.subscribe, (m, r) => m.subscribe(r)),
    unary('Unsubscribe', UnsubscribeRequest, UnsubscribeResponse, STRICT_DECODERS.unsubscribe, (m, r) => m.unsubscribe(r)),
    unary('GetTopicMembers', GetTopicMembersRequest, GetTopicMembersResponse, STRICT_DECODERS.getTopicMembers, (m, r) => m.getTopicMembers(r)),
    unary('CountTopicMembers', CountTopicMembersRequest, CountTopicMembersResponse, STRICT_DECODERS.countTopicMembers, (m, r) => m.countTopicMembers(r)),
    unary('GetDelivery', GetDeliveryRequest, GetDeliveryResponse, STRICT_DECODERS.getDelivery, (m, r) => m.getDelivery(r)),
    {
      kind: 'watch' as const,
      name: 'WatchPresence',
      decode: decoder(WatchPresenceRequest, messageDesc('channel.v1.WatchPresenceRequest'), STRICT_DECODERS.watchPresence),
    },
  ].map((route) => [route.name, route]),
);
