import * as grpc from '@grpc/grpc-js';
import {
  PresenceReason,
  TopicLeaveReason,
  TopicPresenceKind,
  type ChannelServiceClient,
  type CountTopicMembersRequest,
  type CountTopicMembersResponse,
  type GetTopicMembersRequest,
  type GetTopicMembersResponse,
  type SnapshotComplete,
  type TopicPresenceEvent,
  type WatchTopicPresenceRequest,
  type WatchTopicPresenceResponse,
} from '../../gen/ts/channel/v1/channel.js';
import { Signal } from './wait.js';

/** The topic presence unary RPCs as promises. */
export interface TopicRpc {
  getTopicMembers(request: Partial<GetTopicMembersRequest> & { topic: string }): Promise<GetTopicMembersResponse>;
  countTopicMembers(request: CountTopicMembersRequest): Promise<CountTopicMembersResponse>;
}

export function topicRpcFor(client: ChannelServiceClient, metadata = new grpc.Metadata()): TopicRpc {
  return {
    getTopicMembers: (request) =>
      new Promise((resolve, reject) =>
        client.getTopicMembers({ pageSize: 0, pageToken: '', ...request }, metadata, (err, res) => (err ? reject(err) : resolve(res))),
      ),
    countTopicMembers: (request) =>
      new Promise((resolve, reject) => client.countTopicMembers(request, metadata, (err, res) => (err ? reject(err) : resolve(res)))),
  };
}

/** Every member of a topic, read page by page. */
export async function allMembers(rpc: TopicRpc, topic: string, pageSize = 0): Promise<GetTopicMembersResponse['members']> {
  const members: GetTopicMembersResponse['members'] = [];
  let pageToken = '';
  do {
    const page = await rpc.getTopicMembers({ topic, pageSize, pageToken });
    members.push(...page.members);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return members;
}

export function kindName(kind: TopicPresenceKind): string {
  return TopicPresenceKind[kind].replace('TOPIC_PRESENCE_KIND_', '');
}

/** `[clientId, kind, why]` of an event: the leave reason of a leave, else the presence reason ('' when none). */
export function briefTopic(e: TopicPresenceEvent): [string, string, string] {
  const why =
    e.kind === TopicPresenceKind.TOPIC_PRESENCE_KIND_MEMBER_LEFT
      ? TopicLeaveReason[e.leaveReason].replace('TOPIC_LEAVE_REASON_', '')
      : e.presenceReason === PresenceReason.PRESENCE_REASON_UNSPECIFIED
        ? ''
        : PresenceReason[e.presenceReason].replace('PRESENCE_REASON_', '');
  return [e.clientId, kindName(e.kind), why];
}

/** One WatchTopicPresence stream: records every response and how it ended. */
export class TopicPresenceStream {
  readonly responses: WatchTopicPresenceResponse[] = [];
  readonly call: grpc.ClientReadableStream<WatchTopicPresenceResponse>;
  error: grpc.ServiceError | undefined;
  ended = false;
  private readonly signal = new Signal();

  constructor(client: ChannelServiceClient, request: Partial<WatchTopicPresenceRequest> & { topic: string }, metadata = new grpc.Metadata()) {
    this.call = client.watchTopicPresence({ snapshot: false, cursor: '', ...request }, metadata);
    this.call.on('data', (response: WatchTopicPresenceResponse) => {
      this.responses.push(response);
      this.signal.notify();
    });
    this.call.on('error', (err: grpc.ServiceError) => {
      this.error = err;
      this.ended = true;
      this.signal.notify();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.signal.notify();
    });
  }

  get events(): TopicPresenceEvent[] {
    return this.responses.flatMap((r) => (r.kind?.$case === 'event' ? [r.kind.value] : []));
  }

  /** Events after the snapshot (all of them when there was none). */
  get live(): TopicPresenceEvent[] {
    const at = this.responses.findIndex((r) => r.kind?.$case === 'snapshotComplete');
    return this.responses.slice(at + 1).flatMap((r) => (r.kind?.$case === 'event' ? [r.kind.value] : []));
  }

  brief(): [string, string, string][] {
    return this.live.map(briefTopic);
  }

  get snapshotComplete(): SnapshotComplete | undefined {
    for (const r of this.responses) if (r.kind?.$case === 'snapshotComplete') return r.kind.value;
    return undefined;
  }

  until(predicate: () => boolean, what = 'condition'): Promise<void> {
    return this.signal.until(predicate, what, () => `got ${JSON.stringify(this.responses.map((r) => r.kind?.$case === 'event' ? briefTopic(r.kind.value) : r.kind))}, error: ${this.error?.message ?? 'none'}`);
  }

  untilLive(count: number): Promise<void> {
    return this.until(() => this.live.length >= count, `${count} live events`);
  }

  untilSnapshotComplete(): Promise<void> {
    return this.until(() => this.snapshotComplete !== undefined, 'snapshot_complete');
  }

  untilEnded(): Promise<void> {
    return this.until(() => this.ended, 'the end of the stream');
  }

  cancel(): void {
    this.call.cancel();
  }
}
