import { ChannelServiceService } from '../../gen/ts/channel/v1/channel.js';
import { notUtf8Request as notUtf8FieldsOf, STRICT_DECODERS as DECODERS } from '../api/strict-decode.js';

export { notUtf8Fields } from '../api/strict-decode.js';

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
  getTopicMembers: { ...ChannelServiceService.getTopicMembers, requestDeserialize: DECODERS.getTopicMembers },
  countTopicMembers: { ...ChannelServiceService.countTopicMembers, requestDeserialize: DECODERS.countTopicMembers },
  watchTopicPresence: { ...ChannelServiceService.watchTopicPresence, requestDeserialize: DECODERS.watchTopicPresence },
  watchDeliveries: { ...ChannelServiceService.watchDeliveries, requestDeserialize: DECODERS.watchDeliveries },
  getDelivery: { ...ChannelServiceService.getDelivery, requestDeserialize: DECODERS.getDelivery },
} as const satisfies typeof ChannelServiceService;

/** For a request refused as a whole: what to answer (INVALID_ARGUMENT), naming the fields that were not UTF-8. */
export function notUtf8Request(message: unknown): string | undefined {
  const fields = typeof message === 'object' && message !== null ? notUtf8FieldsOf(message) : undefined;
  return fields === undefined ? undefined : `${fields} is not valid UTF-8`;
}
