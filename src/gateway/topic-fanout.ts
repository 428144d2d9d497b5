import type { Topic } from '../core/types.js';
import { GatewayCounters } from '../metrics/counters.js';
import type { TemplatedApp } from './uws.js';

/** Our pub/sub namespace inside uWS, so later kinds of topics cannot collide with backend topics. */
const UWS_TOPIC_PREFIX = 't:';

export function uwsTopic(topic: Topic): string {
  return UWS_TOPIC_PREFIX + topic;
}

/**
 * Topic frame bytes the node publishes between two looks at its topic members' backlogs. Between
 * looks no member can take on more than this (or one larger frame) from topics.
 */
export const TOPIC_CHECK_BYTES = 64 * 1024;

/** A socket on topics, as the fan-out sees it. */
export interface TopicMember {
  /** Ends the socket as a slow consumer if what it has not taken is over its cap. */
  checkBacklog(): void;
}

/**
 * Fans topic frames out through uWS pub/sub: uWS copies each frame to every subscribed socket in
 * native code, batched per socket, which is what makes topic fan-out fast. uWS skips, without a
 * word, a socket whose backlog is over `maxBackpressure`, so the fan-out looks at its members'
 * backlogs every TOPIC_CHECK_BYTES published and has a slow one closed with 4001 while uWS still
 * has headroom for it (see BACKLOG_OVERSHOOT_BYTES): a socket is closed, never skipped.
 *
 * A look costs one native call per member of the topics published since the last look, at most
 * once per 64 KiB published: the fan-out itself costs a copy per member per frame.
 */
export class TopicFanout {
  private readonly members = new Map<Topic, Set<TopicMember>>();
  /** Topics published to since the last look: only their members can have grown from topics. */
  private readonly published = new Set<Topic>();
  private publishedBytes = 0;

  constructor(
    private readonly app: TemplatedApp,
    /** Where each fan-out copy is counted (metrics). */
    private readonly counters: GatewayCounters = new GatewayCounters(),
    /** Send compressed to sockets that negotiated permessage-deflate. */
    private readonly compress = false,
  ) {}

  join(topic: Topic, member: TopicMember): void {
    let members = this.members.get(topic);
    if (members === undefined) {
      members = new Set();
      this.members.set(topic, members);
    }
    members.add(member);
  }

  leave(topic: Topic, member: TopicMember): void {
    const members = this.members.get(topic);
    if (members === undefined || !members.delete(member)) return;
    if (members.size === 0) this.members.delete(topic);
  }

  /** Publishes one encoded topic frame to every local socket subscribed to `topic`. */
  publish(topic: Topic, frame: string): void {
    const bytes = Buffer.byteLength(frame);
    if (this.publishedBytes + bytes > TOPIC_CHECK_BYTES) this.checkBacklogs();
    this.publishedBytes += bytes;
    this.published.add(topic);
    const copies = this.members.get(topic)?.size ?? 0;
    this.counters.framesTopic += copies;
    this.counters.bytesSent += copies * bytes;
    this.app.publish(uwsTopic(topic), frame, false, this.compress);
  }

  private checkBacklogs(): void {
    for (const topic of this.published) {
      // A member found slow leaves its topics at once; deleting from a Set while iterating it is safe.
      for (const member of this.members.get(topic) ?? []) member.checkBacklog();
    }
    this.published.clear();
    this.publishedBytes = 0;
  }
}
