import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  PresenceReason as ProtoReason,
  TopicLeaveReason as ProtoLeave,
  TopicPresenceKind as ProtoKind,
  type ChannelServiceServer,
  type TopicPresenceEvent,
  type WatchTopicPresenceRequest,
  type WatchTopicPresenceResponse,
} from '../../gen/ts/channel/v1/channel.js';
import type { ChannelApi } from '../core/channel-api.js';
import { invalidArgument } from '../core/errors.js';
import type { TopicPresenceItem, TopicPresenceWatcher } from '../core/topic-presence-bus.js';
import { TopicLeaveReason, TopicPresenceKind, type TopicPresenceChange } from '../core/topic-presence.js';
import { PresenceReason } from '../core/types.js';
import { serveWatch } from './serve-watch.js';
import { REASONS } from '../api/channel-methods.js';
import { notUtf8Request } from './strict-utf8.js';

const KINDS: Record<TopicPresenceKind, ProtoKind> = {
  [TopicPresenceKind.Joined]: ProtoKind.TOPIC_PRESENCE_KIND_MEMBER_JOINED,
  [TopicPresenceKind.Left]: ProtoKind.TOPIC_PRESENCE_KIND_MEMBER_LEFT,
  [TopicPresenceKind.Updated]: ProtoKind.TOPIC_PRESENCE_KIND_MEMBER_UPDATED,
  [TopicPresenceKind.Connected]: ProtoKind.TOPIC_PRESENCE_KIND_CONNECTED,
  [TopicPresenceKind.Disconnected]: ProtoKind.TOPIC_PRESENCE_KIND_DISCONNECTED,
};

const LEAVES: Record<string, ProtoLeave> = {
  [TopicLeaveReason.Unsubscribed]: ProtoLeave.TOPIC_LEAVE_REASON_UNSUBSCRIBED,
  [TopicLeaveReason.ChannelClosed]: ProtoLeave.TOPIC_LEAVE_REASON_CHANNEL_CLOSED,
  [TopicLeaveReason.ChannelExpired]: ProtoLeave.TOPIC_LEAVE_REASON_CHANNEL_EXPIRED,
};


function toEvent(change: TopicPresenceChange): TopicPresenceEvent {
  const left = change.kind === TopicPresenceKind.Left;
  return {
    topic: change.topic,
    clientId: change.clientId,
    kind: KINDS[change.kind],
    time: new Date(change.timeMs),
    cursor: change.cursor,
    info: change.info,
    presenceReason: left ? ProtoReason.PRESENCE_REASON_UNSPECIFIED : (REASONS[change.reason as PresenceReason] ?? ProtoReason.PRESENCE_REASON_UNSPECIFIED),
    leaveReason: left ? (LEAVES[change.reason] ?? ProtoLeave.TOPIC_LEAVE_REASON_UNSPECIFIED) : ProtoLeave.TOPIC_LEAVE_REASON_UNSPECIFIED,
    connected: change.connected ?? false,
  };
}

function toResponse(item: TopicPresenceItem): WatchTopicPresenceResponse {
  if (item.kind === 'snapshot-complete') {
    return { kind: { $case: 'snapshotComplete', value: { cursor: item.cursor, resumeFailed: item.resumeFailed } } };
  }
  return { kind: { $case: 'event', value: toEvent(item.change) } };
}

type TopicPresenceHandlers = Pick<ChannelServiceServer, 'watchTopicPresence'>;

/**
 * WatchTopicPresence of channel.v1.ChannelService: validate (in the core) → call → map. (Its
 * unary siblings are in src/api/channel-methods.ts with the other unary methods.)
 */
export function topicPresenceHandlers(hub: ChannelApi, log: Logger): TopicPresenceHandlers {
  return {
    watchTopicPresence(call: ServerWritableStream<WatchTopicPresenceRequest, WatchTopicPresenceResponse>) {
      const request = call.request;
      serveWatch(
        call,
        (sink) => {
          const notUtf8 = notUtf8Request(request);
          if (notUtf8 !== undefined) throw invalidArgument(notUtf8);
          return hub.watchTopicPresence({ topic: request.topic, snapshot: request.snapshot, cursor: request.cursor }, sink);
        },
        (watcher) => hub.unwatchTopicPresence(watcher as TopicPresenceWatcher),
        toResponse,
        log,
      );
    },
  };
}
