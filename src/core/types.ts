/** The backend's name for one browser client: 1–256 bytes of UTF-8. */
export type ClientId = string;
/** Names one socket on one node; unique across the cluster. */
export type SocketId = string;
/** A named group of client ids the backend manages; one publish reaches every member. */
export type Topic = string;
/** Names one history of a channel; a new epoch means earlier seqs no longer apply. */
export type Epoch = string;

/** One message of a channel, as kept in the replay buffer. */
export interface ChannelMessage {
  readonly seq: number;
  readonly data: string;
  /** When it was sent, ms since the epoch. */
  readonly timeMs: number;
}

/** Where a client is in a channel's history: the last seq it has, within an epoch. */
export interface StreamPosition {
  readonly epoch: Epoch;
  readonly seq: number;
}

export const PresenceState = { Connected: 'connected', Disconnected: 'disconnected' } as const;
export type PresenceState = (typeof PresenceState)[keyof typeof PresenceState];

/** Why a presence change happened, and equally why the core closed a socket. */
export const PresenceReason = {
  Snapshot: 'snapshot',
  SocketOpened: 'socket-opened',
  SocketClosed: 'socket-closed',
  TokenExpired: 'token-expired',
  ChannelClosed: 'channel-closed',
  SlowConsumer: 'slow-consumer',
  Shutdown: 'shutdown',
  NodeLost: 'node-lost',
} as const;
export type PresenceReason = (typeof PresenceReason)[keyof typeof PresenceReason];

/** One fact "client id X connected / disconnected". */
export interface PresenceChange {
  readonly clientId: ClientId;
  readonly state: PresenceState;
  readonly timeMs: number;
  readonly reason: PresenceReason;
  /** Opaque, engine-made; orders events (see Engine.compareCursors) and resumes a watch. */
  readonly cursor: string;
  /**
   * Whether this node caused the change. Every node sees every change; side effects that must
   * happen once per cluster (webhooks) act only on local ones. Absent: treat as local.
   */
  readonly local?: boolean;
}

export interface ClientPresence {
  readonly clientId: ClientId;
  readonly connected: boolean;
  /** When the current socket connected; undefined when not connected. */
  readonly sinceMs?: number;
}

/** A delivery receipt: the browser of `clientId` has every message up to `seq` of `epoch`. */
export interface DeliveryReceipt {
  readonly clientId: ClientId;
  readonly epoch: Epoch;
  readonly seq: number;
  /** Set for a topic acknowledgement; then `epoch` and `seq` are the topic's. */
  readonly topic?: Topic;
  readonly timeMs: number;
  /** Opaque, engine-made; orders receipts (see DeliveryLog.compareDeliveryCursors) and resumes a watch. */
  readonly cursor: string;
}

/** Where a client id's channel stands: what was sent, and what its browser acknowledged. */
export interface ClientDelivery {
  readonly clientId: ClientId;
  /** The channel's current epoch; undefined when the client id has no channel state. */
  readonly epoch: Epoch | undefined;
  readonly ackedSeq: number;
  readonly lastSeq: number;
  readonly connected: boolean;
}
