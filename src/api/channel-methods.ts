import {
  PresenceReason as ProtoReason,
  PresenceState as ProtoState,
  type BroadcastRequest,
  type BroadcastResponse,
  type CloseChannelRequest,
  type CloseChannelResponse,
  type CreateChannelRequest,
  type CreateChannelResponse,
  type GetDeliveryRequest,
  type GetDeliveryResponse,
  type GetPresenceRequest,
  type GetPresenceResponse,
  type PresenceEvent,
  type SendMessageRequest,
  type SendMessageResponse,
  type SendMessageResult,
  type SendMessagesRequest,
  type SendMessagesResponse,
  type SubscribeRequest,
  type SubscribeResponse,
  type UnsubscribeRequest,
  type UnsubscribeResponse,
  type WatchDeliveriesRequest,
  type WatchDeliveriesResponse,
  type WatchPresenceRequest,
  type WatchPresenceResponse,
  type CountTopicMembersRequest,
  type CountTopicMembersResponse,
  type GetTopicMembersRequest,
  type GetTopicMembersResponse,
} from '../../gen/ts/channel/v1/channel.js';
import type { Duration } from '../../gen/ts/google/protobuf/duration.js';
import type { CallContext, ChannelApi, DeliveryWatchRequest, SendRequest, WatchRequest } from '../core/channel-api.js';
import type { DeliveryItem } from '../core/delivery-bus.js';
import { ChannelError, invalidArgument, STATUS_OF } from '../core/errors.js';
import { MAX_BATCH_ITEMS } from '../core/limits.js';
import type { PresenceItem } from '../core/presence-feed.js';
import { PresenceReason, PresenceState, type PresenceChange } from '../core/types.js';
import { validateCount } from '../core/validation.js';
import type { PublishResult } from '../engine/engine.js';
import { notUtf8Fields, notUtf8Request } from './strict-decode.js';

/**
 * ChannelService in the proto's own types, for every transport that carries proto messages (gRPC,
 * HTTP with JSON or binary bodies): proto request → core call → proto response. The semantics
 * (validation, limits, error texts) are the core's; what is here is only the mapping, written once
 * so that the transports cannot drift apart.
 */

const STATES: Record<PresenceState, ProtoState> = {
  [PresenceState.Connected]: ProtoState.PRESENCE_STATE_CONNECTED,
  [PresenceState.Disconnected]: ProtoState.PRESENCE_STATE_DISCONNECTED,
};

/** Presence reasons in the proto's enum (WatchPresence, WatchTopicPresence). */
export const REASONS: Readonly<Record<PresenceReason, ProtoReason>> = {
  [PresenceReason.Snapshot]: ProtoReason.PRESENCE_REASON_SNAPSHOT,
  [PresenceReason.SocketOpened]: ProtoReason.PRESENCE_REASON_SOCKET_OPENED,
  [PresenceReason.SocketClosed]: ProtoReason.PRESENCE_REASON_SOCKET_CLOSED,
  [PresenceReason.TokenExpired]: ProtoReason.PRESENCE_REASON_TOKEN_EXPIRED,
  [PresenceReason.ChannelClosed]: ProtoReason.PRESENCE_REASON_CHANNEL_CLOSED,
  [PresenceReason.SlowConsumer]: ProtoReason.PRESENCE_REASON_SLOW_CONSUMER,
  [PresenceReason.Shutdown]: ProtoReason.PRESENCE_REASON_SHUTDOWN,
  [PresenceReason.NodeLost]: ProtoReason.PRESENCE_REASON_NODE_LOST,
};

export function toSendRequest(request: SendMessageRequest): SendRequest {
  const target = request.target;
  return {
    target:
      target === undefined ? undefined : target.$case === 'clientId' ? { clientId: target.value } : { token: target.value },
    message: request.message,
    idempotencyKey: request.idempotencyKey,
    waitForDelivery: request.waitForDelivery,
    deliveryTimeoutMs: request.deliveryTimeout === undefined ? undefined : durationMs(request.deliveryTimeout),
  };
}

function durationMs(duration: Duration): number {
  return duration.seconds * 1000 + duration.nanos / 1e6;
}

/** A send, or its refusal; a field that was not UTF-8 on the wire fails that item alone. */
export function toItem(request: SendMessageRequest): SendRequest | ChannelError {
  const fields = notUtf8Fields(request);
  if (fields !== undefined) return invalidArgument(`${fields} is not valid UTF-8`);
  return toSendRequest(request);
}

export function isRequest(item: SendRequest | ChannelError): item is SendRequest {
  return !(item instanceof ChannelError);
}

export function toResult(r: PublishResult | ChannelError): SendMessageResult {
  return r instanceof ChannelError
    ? { result: { $case: 'error', value: { code: STATUS_OF[r.code].number, message: r.message } } }
    : { result: { $case: 'sent', value: { ...r, delivered: false } } };
}

export function toPresenceEvent(change: PresenceChange): PresenceEvent {
  return {
    clientId: change.clientId,
    state: STATES[change.state],
    time: new Date(change.timeMs),
    cursor: change.cursor,
    reason: REASONS[change.reason],
  };
}

export function toWatchResponse(item: PresenceItem): WatchPresenceResponse {
  if (item.kind === 'snapshot-complete') {
    return { kind: { $case: 'snapshotComplete', value: { cursor: item.cursor, resumeFailed: item.resumeFailed } } };
  }
  return { kind: { $case: 'event', value: toPresenceEvent(item.change) } };
}

export function toWatchRequest(request: WatchPresenceRequest): WatchRequest {
  refuseNotUtf8(request);
  return {
    filter: { clientIds: new Set(request.clientIds), prefix: request.clientIdPrefix },
    snapshot: request.snapshot,
    cursor: request.cursor,
  };
}

export function toDeliveriesWatchRequest(request: WatchDeliveriesRequest): DeliveryWatchRequest {
  refuseNotUtf8(request);
  return {
    filter: { clientIds: new Set(request.clientIds), prefix: request.clientIdPrefix },
    includeTopics: request.includeTopics,
    cursor: request.cursor,
  };
}

export function toDeliveryResponse(item: DeliveryItem): WatchDeliveriesResponse {
  if (item.kind === 'started') return { kind: { $case: 'started', value: { cursor: item.cursor, resumeFailed: item.resumeFailed } } };
  const r = item.receipt;
  return {
    kind: {
      $case: 'event',
      value: { clientId: r.clientId, epoch: r.epoch, seq: r.seq, topic: r.topic ?? '', time: new Date(r.timeMs), cursor: r.cursor },
    },
  };
}

/** A request whose strings did not decode as UTF-8 is refused as a whole, naming the fields. */
function refuseNotUtf8(request: object): void {
  const fields = notUtf8Request(request);
  if (fields !== undefined) throw invalidArgument(`${fields} is not valid UTF-8`);
}

/**
 * SendMessages, where items may fail here already (not UTF-8 on the wire): those keep their place
 * and their error, worded as the core words a bad item (`requests[i]: …`).
 */
async function sendBatch(api: ChannelApi, requests: readonly SendMessageRequest[]): Promise<(PublishResult | ChannelError)[]> {
  // Before anything is converted: an oversized batch costs no more than its decoding.
  validateCount('requests', requests.length, 1, MAX_BATCH_ITEMS);
  const items = requests.map(toItem);
  if (items.every(isRequest)) return api.sendMessages(items);
  const sent = await api.sendEach(items.filter(isRequest));
  let next = 0;
  return items.map((item, i) => {
    const result = isRequest(item) ? sent[next++]! : item;
    return result instanceof ChannelError ? new ChannelError(result.code, `requests[${i}]: ${result.message}`) : result;
  });
}

/** The unary methods; each rejects with a ChannelError (or what the engine threw). */
export interface UnaryMethods {
  createChannel(request: CreateChannelRequest): Promise<CreateChannelResponse>;
  /** `call`: the transport's deadline and cancellation, for a send that waits for its delivery. */
  sendMessage(request: SendMessageRequest, call?: CallContext): Promise<SendMessageResponse>;
  sendMessages(request: SendMessagesRequest): Promise<SendMessagesResponse>;
  getPresence(request: GetPresenceRequest): Promise<GetPresenceResponse>;
  closeChannel(request: CloseChannelRequest): Promise<CloseChannelResponse>;
  broadcast(request: BroadcastRequest): Promise<BroadcastResponse>;
  subscribe(request: SubscribeRequest): Promise<SubscribeResponse>;
  unsubscribe(request: UnsubscribeRequest): Promise<UnsubscribeResponse>;
  getTopicMembers(request: GetTopicMembersRequest): Promise<GetTopicMembersResponse>;
  countTopicMembers(request: CountTopicMembersRequest): Promise<CountTopicMembersResponse>;
  getDelivery(request: GetDeliveryRequest): Promise<GetDeliveryResponse>;
}

export function unaryMethods(api: ChannelApi): UnaryMethods {
  return {
    async createChannel(request) {
      refuseNotUtf8(request);
      const created = await api.createChannel(request.clientId, request.durationMinutes);
      return { token: created.token, expireTime: new Date(created.expiresAtMs), durationMinutes: created.durationMinutes };
    },

    sendMessage(request, call) {
      const whole = notUtf8Request(request);
      if (whole !== undefined) return Promise.reject(invalidArgument(`${whole} is not valid UTF-8`));
      const item = toItem(request);
      return isRequest(item) ? api.sendMessage(item, call) : Promise.reject(item);
    },

    async sendMessages(request) {
      const results = await sendBatch(api, request.requests);
      return { results: results.map(toResult) };
    },

    async getPresence(request) {
      refuseNotUtf8(request);
      const clients = await api.getPresence(request.clientIds);
      return {
        clients: clients.map((c) => ({
          clientId: c.clientId,
          connected: c.connected,
          connectedSince: c.sinceMs === undefined ? undefined : new Date(c.sinceMs),
        })),
      };
    },

    async closeChannel(request) {
      refuseNotUtf8(request);
      return { wasConnected: await api.closeChannel(request.clientId) };
    },

    async broadcast(request) {
      refuseNotUtf8(request);
      const { message, clientIds, topics } = request;
      const result = await api.broadcast({ message, clientIds, topics });
      return {
        clients: result.clients,
        clientsConnected: result.clientsConnected,
        topics: result.topics.map((t) => ({ topic: t.topic, seq: t.seq, epoch: t.epoch, members: t.members })),
      };
    },

    async subscribe(request) {
      refuseNotUtf8(request);
      return { added: await api.subscribe(request.clientIds, request.topic, request.info) };
    },

    async unsubscribe(request) {
      refuseNotUtf8(request);
      return { removed: await api.unsubscribe(request.clientIds, request.topic) };
    },

    async getTopicMembers(request) {
      refuseNotUtf8(request);
      const page = await api.getTopicMembers(request);
      return { members: [...page.members], nextPageToken: page.nextPageToken };
    },

    async countTopicMembers(request) {
      refuseNotUtf8(request);
      return { members: await api.countTopicMembers(request.topic) };
    },

    async getDelivery(request) {
      refuseNotUtf8(request);
      const clients = await api.getDelivery(request.clientIds);
      return {
        clients: clients.map((c) => ({ clientId: c.clientId, epoch: c.epoch ?? '', ackedSeq: c.ackedSeq, lastSeq: c.lastSeq, connected: c.connected })),
      };
    },
  };
}
