import type { ChannelMessage, Epoch, Topic } from './types.js';

/** Why the core ends a socket. Each transport maps these to its own codes. */
export const SessionEnd = {
  Replaced: 'replaced',
  TokenExpired: 'token-expired',
  ChannelClosed: 'channel-closed',
  SlowConsumer: 'slow-consumer',
  Shutdown: 'shutdown',
  /** The token was revoked by a CloseChannel before the socket could attach. */
  Revoked: 'revoked',
} as const;
export type SessionEnd = (typeof SessionEnd)[keyof typeof SessionEnd];

/** The transport side of one socket, as the core drives it. */
export interface SessionSink {
  /** The first thing a socket is told: where its history stands. */
  welcome(epoch: Epoch, seq: number, recovered: boolean): void;
  /** Returns false when the socket is over its outgoing-bytes cap; the core then ends it as slow. */
  message(message: ChannelMessage): boolean;
  /**
   * Closes the socket for `reason`. The transport reports the close back through the session
   * registry, as for any other close.
   */
  close(reason: SessionEnd): void;
  /** Starts passing the topic's published messages to this socket. */
  subscribe(topic: Topic): void;
  /** Stops them and tells the client it left the topic. */
  unsubscribe(topic: Topic): void;
  /** Where the socket's history of a topic stands; its catch-up messages follow. */
  topicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): void;
  /** One catch-up message of a topic. Returns false when over the outgoing cap. */
  topicMessage(topic: Topic, message: ChannelMessage): boolean;
}
