// The typed ES module: `import { ChannelSocket } from '…/channeld.mjs'`. Re-exports only.
export {
  ChannelSocket,
  DEFAULT_ACK_INTERVAL_MS,
  type ChannelState,
  type ChannelEventMap,
  type ChannelSocketOptions,
  type ChannelOpenEvent,
  type ChannelMessageEvent,
  type ChannelNotRecoveredEvent,
  type ChannelGap,
  type TopicGap,
  type ChannelReconnectingEvent,
  type ChannelErrorEvent,
  type ChannelCloseEvent,
} from './channel.js';
export {
  AppEngineChannel,
  AppEngineSocket,
  ReadyState,
  type AppEngineMessage,
  type AppEngineError,
  type SocketHandler,
} from './appengine.js';
export { CloseCode, isTerminalCloseCode, errorForCloseCode, type ChannelErrorInfo } from './close-codes.js';
export { DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_DELAY_MS, type BackoffOptions } from './backoff.js';
export { DEFAULT_OPEN_TIMEOUT_MS, PROTOCOL, type TransportKind, type WebSocketConstructor } from './transport.js';
export { DEFAULT_STREAM_PROBE_MS } from './fallback-link.js';
export { DEFAULT_GAP_TIMEOUT_MS } from './gap-watch.js';
export type { Listener } from './emitter.js';
