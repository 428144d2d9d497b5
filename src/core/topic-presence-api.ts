import type { Engine } from '../engine/engine.js';
import { invalidArgument } from './errors.js';
import {
  DEFAULT_TOPIC_MEMBERS_PAGE,
  MAX_CLIENT_ID_BYTES,
  MAX_PAGE_TOKEN_BYTES,
  MAX_TOPIC_PRESENCE_CURSOR_BYTES,
  MAX_TOPIC_MEMBER_INFO_BYTES,
  MAX_TOPIC_MEMBERS_PAGE,
} from './limits.js';
import type { TopicPresenceBus, TopicPresenceSink, TopicPresenceWatcher, TopicWatchRequest } from './topic-presence-bus.js';
import type { TopicMember } from './topic-presence.js';
import type { ClientId } from './types.js';
import { validateTopic } from './validation.js';

export interface TopicMembersRequest {
  readonly topic: string;
  /** 0 means DEFAULT_TOPIC_MEMBERS_PAGE. */
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface TopicMembersResult {
  readonly members: readonly TopicMember[];
  /** '' on the last page. */
  readonly nextPageToken: string;
}

// A version mark first, so the format can change without old tokens meaning something else.
const TOKEN_MARK = 'm1:';

function encodePageToken(after: ClientId): string {
  return Buffer.from(TOKEN_MARK + after, 'utf8').toString('base64url');
}

function decodePageToken(token: string): ClientId {
  if (token === '') return '';
  const bad = (): Error => invalidArgument('page_token is not one GetTopicMembers gave (pass next_page_token back as it came)');
  if (Buffer.byteLength(token, 'utf8') > MAX_PAGE_TOKEN_BYTES || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const bytes = Buffer.from(token, 'base64url');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const after = text.slice(TOKEN_MARK.length);
  if (!text.startsWith(TOKEN_MARK) || after === '' || Buffer.byteLength(after, 'utf8') > MAX_CLIENT_ID_BYTES || !after.isWellFormed()) throw bad();
  if (Buffer.from(text, 'utf8').toString('base64url') !== token) throw bad();
  return after;
}

/** SubscribeRequest.info: optional, at most MAX_TOPIC_MEMBER_INFO_BYTES of UTF-8. */
export function validateMemberInfo(info: string | undefined): string {
  if (info === undefined || info === '') return '';
  if (!info.isWellFormed()) throw invalidArgument('info is not valid UTF-8 (it holds a lone surrogate)');
  const bytes = Buffer.byteLength(info, 'utf8');
  if (bytes > MAX_TOPIC_MEMBER_INFO_BYTES) throw invalidArgument(`info is ${bytes} bytes; the limit is ${MAX_TOPIC_MEMBER_INFO_BYTES}`);
  return info;
}

/** Who is in a topic: the requests behind GetTopicMembers, CountTopicMembers and WatchTopicPresence. */
export class TopicPresenceApi {
  constructor(
    private readonly engine: Engine,
    private readonly bus: TopicPresenceBus,
  ) {}

  async members(request: TopicMembersRequest): Promise<TopicMembersResult> {
    validateTopic(request.topic);
    const size = request.pageSize === 0 ? DEFAULT_TOPIC_MEMBERS_PAGE : request.pageSize;
    if (!Number.isInteger(size) || size < 1 || size > MAX_TOPIC_MEMBERS_PAGE) {
      throw invalidArgument(`page_size is ${request.pageSize}; it must be 1 to ${MAX_TOPIC_MEMBERS_PAGE} (or 0 for ${DEFAULT_TOPIC_MEMBERS_PAGE})`);
    }
    const after = decodePageToken(request.pageToken);
    const page = await this.engine.topicMembers(request.topic, size, after);
    const last = page.members.at(-1);
    return { members: page.members, nextPageToken: page.more && last !== undefined ? encodePageToken(last.clientId) : '' };
  }

  async count(topic: string): Promise<number> {
    validateTopic(topic);
    return this.engine.countTopicMembers(topic);
  }

  async watch(request: TopicWatchRequest, sink: TopicPresenceSink): Promise<TopicPresenceWatcher> {
    validateTopic(request.topic);
    const bytes = Buffer.byteLength(request.cursor, 'utf8');
    if (bytes > MAX_TOPIC_PRESENCE_CURSOR_BYTES) throw invalidArgument(`cursor is ${bytes} bytes; the limit is ${MAX_TOPIC_PRESENCE_CURSOR_BYTES}`);
    return this.bus.watch(request, sink);
  }

  unwatch(watcher: TopicPresenceWatcher): void {
    this.bus.unwatch(watcher);
  }
}
