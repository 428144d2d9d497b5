import type { ClientId, PresenceReason, Topic } from './types.js';

/** What happened to a member of a topic. */
export const TopicPresenceKind = {
  Joined: 'joined',
  Left: 'left',
  /** A member's info changed (subscribed again with other info). */
  Updated: 'updated',
  Connected: 'connected',
  Disconnected: 'disconnected',
} as const;
export type TopicPresenceKind = (typeof TopicPresenceKind)[keyof typeof TopicPresenceKind];

/** Why a member left a topic. */
export const TopicLeaveReason = {
  Unsubscribed: 'unsubscribed',
  ChannelClosed: 'channel-closed',
  ChannelExpired: 'channel-expired',
} as const;
export type TopicLeaveReason = (typeof TopicLeaveReason)[keyof typeof TopicLeaveReason];

/** Why: a presence reason for connects and disconnects (and snapshots), a leave reason for leaves, '' else. */
export type TopicPresenceReason = PresenceReason | TopicLeaveReason | '';

/** One change of a topic's membership or of a member's connection, once per real change. */
export interface TopicPresenceChange {
  readonly topic: Topic;
  readonly clientId: ClientId;
  readonly kind: TopicPresenceKind;
  readonly reason: TopicPresenceReason;
  /** The member's info, on joins and updates; '' otherwise. */
  readonly info: string;
  readonly timeMs: number;
  /** Opaque, engine-made, per topic; orders events (compareTopicPresenceCursors) and resumes a watch. */
  readonly cursor: string;
  /** Snapshot events only: whether the member is connected now. */
  readonly connected?: boolean;
}

export interface TopicMember {
  readonly clientId: ClientId;
  readonly connected: boolean;
  /** What the member's Subscribe set; '' when none. */
  readonly info: string;
}

export interface TopicMembersPage {
  /** Ordered by client id, each after the `after` asked for. */
  readonly members: readonly TopicMember[];
  /** Whether members follow the last one of this page. */
  readonly more: boolean;
}

export interface TopicPresenceSnapshot {
  readonly members: readonly TopicMember[];
  /** Position of the last change the snapshot includes. */
  readonly cursor: string;
}
