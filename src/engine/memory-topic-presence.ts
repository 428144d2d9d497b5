import { randomBytes } from 'node:crypto';
import {
  TopicPresenceKind,
  type TopicLeaveReason,
  type TopicMember,
  type TopicMembersPage,
  type TopicPresenceChange,
  type TopicPresenceReason,
  type TopicPresenceSnapshot,
} from '../core/topic-presence.js';
import type { ClientId, PresenceReason, Topic } from '../core/types.js';

/** What the memory engine keeps of one topic's presence beside its member set. */
interface Roster {
  /** Names this log: a topic forgotten and made again starts another, so old cursors fail. */
  readonly id: string;
  log: TopicPresenceChange[];
  /** Number of log[0]. */
  first: number;
  count: number;
  lastMs: number;
  info: Map<ClientId, string> | undefined;
  /**
   * Members in client id order as of the last page asked for, and the joins and leaves since:
   * the next page merges them in (one pass) instead of sorting every member again.
   */
  sorted: ClientId[] | undefined;
  joinedSince: ClientId[];
  leftSince: Set<ClientId>;
}

export interface MemoryTopicPresenceDeps {
  readonly historySize: number;
  readonly isConnected: (clientId: ClientId) => boolean;
  readonly emit: (change: TopicPresenceChange) => void;
}

/**
 * The memory engine's side of topic presence: member info, a bounded log per topic with
 * `<log id>.<n>` cursors, and a sorted view of the members for paging (so a page of a 100k-member
 * topic is a binary search and a slice, not a sort).
 */
export class MemoryTopicPresence {
  private readonly rosters = new Map<Topic, Roster>();

  constructor(private readonly deps: MemoryTopicPresenceDeps) {}

  /** Subscribe of `clientId`: a join when `isNew`, else an update when the info differs. */
  subscribed(topic: Topic, clientId: ClientId, info: string, isNew: boolean, nowMs: number): void {
    const roster = this.roster(topic);
    if (isNew) {
      // A leave since the last sort of a client id still in `sorted` is undone; else it is new to it.
      if (roster.sorted !== undefined && !roster.leftSince.delete(clientId)) roster.joinedSince.push(clientId);
      this.setInfo(roster, clientId, info);
      this.append(roster, topic, clientId, TopicPresenceKind.Joined, '', info, nowMs);
      return;
    }
    if ((roster.info?.get(clientId) ?? '') === info) return;
    this.setInfo(roster, clientId, info);
    this.append(roster, topic, clientId, TopicPresenceKind.Updated, '', info, nowMs);
  }

  left(topic: Topic, clientId: ClientId, reason: TopicLeaveReason, nowMs: number): void {
    const roster = this.roster(topic);
    if (roster.sorted !== undefined) roster.leftSince.add(clientId);
    roster.info?.delete(clientId);
    this.append(roster, topic, clientId, TopicPresenceKind.Left, reason, '', nowMs);
  }

  /** A client id connected or disconnected: one event in each of its topics. */
  presence(topics: Iterable<Topic>, clientId: ClientId, connected: boolean, reason: PresenceReason, nowMs: number): void {
    const kind = connected ? TopicPresenceKind.Connected : TopicPresenceKind.Disconnected;
    for (const topic of topics) this.append(this.roster(topic), topic, clientId, kind, reason, '', nowMs);
  }

  page(topic: Topic, members: ReadonlySet<ClientId>, pageSize: number, after: ClientId): TopicMembersPage {
    const roster = this.roster(topic);
    const sorted = this.sortedMembers(roster, members);
    let start = 0;
    if (after !== '') {
      // The first client id greater than `after`.
      let hi = sorted.length;
      while (start < hi) {
        const mid = (start + hi) >>> 1;
        if (sorted[mid]! <= after) start = mid + 1;
        else hi = mid;
      }
    }
    const ids = sorted.slice(start, start + pageSize);
    return { members: ids.map((id) => this.member(roster, id)), more: start + pageSize < sorted.length };
  }

  snapshot(topic: Topic, members: ReadonlySet<ClientId>): TopicPresenceSnapshot {
    const roster = this.roster(topic);
    return { members: [...members].map((id) => this.member(roster, id)), cursor: `${roster.id}.${roster.count}` };
  }

  since(topic: Topic, cursor: string): TopicPresenceChange[] | undefined {
    const roster = this.rosters.get(topic);
    if (roster === undefined) return undefined;
    const n = parse(cursor, roster.id);
    if (n === undefined || n > roster.count || n < roster.first - 1) return undefined;
    return roster.log.slice(n - roster.first + 1);
  }

  compare(a: string, b: string): number {
    return (parse(a) ?? 0) - (parse(b) ?? 0);
  }

  /**
   * Drops changes older than `cutoffMs` (so many busy topics do not each hold a full log for
   * ever), and forgets the rosters of topics without members and without a change since then.
   */
  sweep(hasMembers: (topic: Topic) => boolean, cutoffMs: number): void {
    for (const [topic, roster] of this.rosters) {
      if (roster.lastMs < cutoffMs && !hasMembers(topic)) {
        this.rosters.delete(topic);
        continue;
      }
      let old = 0;
      while (old < roster.log.length && roster.log[old]!.timeMs < cutoffMs) old++;
      if (old > 0) {
        roster.log = roster.log.slice(old);
        roster.first += old;
      }
    }
  }

  private sortedMembers(roster: Roster, members: ReadonlySet<ClientId>): ClientId[] {
    if (roster.sorted === undefined) {
      roster.sorted = [...members].sort();
    } else if (roster.joinedSince.length > 0 || roster.leftSince.size > 0) {
      const joined = roster.joinedSince.sort();
      const left = roster.leftSince;
      const before = roster.sorted;
      const merged: ClientId[] = [];
      let i = 0;
      let j = 0;
      while (i < before.length || j < joined.length) {
        const next = j >= joined.length || (i < before.length && before[i]! < joined[j]!) ? before[i++]! : joined[j++]!;
        if (!left.has(next)) merged.push(next);
      }
      roster.sorted = merged;
    }
    roster.joinedSince = [];
    roster.leftSince = new Set();
    return roster.sorted;
  }

  private member(roster: Roster, clientId: ClientId): TopicMember {
    return { clientId, connected: this.deps.isConnected(clientId), info: roster.info?.get(clientId) ?? '' };
  }

  private setInfo(roster: Roster, clientId: ClientId, info: string): void {
    if (info === '') roster.info?.delete(clientId);
    else (roster.info ??= new Map()).set(clientId, info);
  }

  private roster(topic: Topic): Roster {
    let roster = this.rosters.get(topic);
    if (roster === undefined) {
      roster = { id: randomBytes(6).toString('base64url'), log: [], first: 1, count: 0, lastMs: 0, info: undefined, sorted: undefined, joinedSince: [], leftSince: new Set() };
      this.rosters.set(topic, roster);
    }
    return roster;
  }

  private append(
    roster: Roster,
    topic: Topic,
    clientId: ClientId,
    kind: TopicPresenceKind,
    reason: TopicPresenceReason,
    info: string,
    timeMs: number,
  ): void {
    roster.count++;
    roster.lastMs = timeMs;
    const change: TopicPresenceChange = { topic, clientId, kind, reason, info, timeMs, cursor: `${roster.id}.${roster.count}` };
    roster.log.push(change);
    const size = this.deps.historySize;
    const excess = roster.log.length - size;
    // Trimmed in chunks so the log does not shift on every event.
    if (excess > 0 && excess >= Math.max(1, size >> 3)) {
      roster.log = roster.log.slice(excess);
      roster.first += excess;
    }
    this.deps.emit(change);
  }
}

function parse(cursor: string, id?: string): number | undefined {
  const dot = cursor.lastIndexOf('.');
  if (dot < 0 || (id !== undefined && cursor.slice(0, dot) !== id)) return undefined;
  const n = Number(cursor.slice(dot + 1));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
