import * as grpc from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import {
  PresenceReason,
  PresenceState,
  type ChannelServiceClient,
  type BroadcastRequest,
  type BroadcastResponse,
  type CloseChannelRequest,
  type CloseChannelResponse,
  type CreateChannelRequest,
  type CreateChannelResponse,
  type GetPresenceRequest,
  type GetPresenceResponse,
  type PresenceEvent,
  type SendMessageRequest,
  type SendMessageResponse,
  type SendMessagesRequest,
  type SendMessagesResponse,
  type SnapshotComplete,
  type SubscribeRequest,
  type SubscribeResponse,
  type UnsubscribeRequest,
  type UnsubscribeResponse,
  type WatchPresenceRequest,
  type WatchPresenceResponse,
} from '../../gen/ts/channel/v1/channel.js';
import { Signal } from './wait.js';

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

function unary<Req, Res>(client: ChannelServiceClient, fn: Unary<Req, Res>, metadata: grpc.Metadata): (req: Req) => Promise<Res> {
  return (req) => new Promise((resolve, reject) => fn.call(client, req, metadata, (err, res) => (err ? reject(err) : resolve(res))));
}

/** The unary RPCs of ChannelService as promises, all sent with the same metadata. */
export interface Rpc {
  createChannel(request: CreateChannelRequest): Promise<CreateChannelResponse>;
  sendMessage(request: SendMessageRequest): Promise<SendMessageResponse>;
  sendMessages(request: SendMessagesRequest): Promise<SendMessagesResponse>;
  getPresence(request: GetPresenceRequest): Promise<GetPresenceResponse>;
  closeChannel(request: CloseChannelRequest): Promise<CloseChannelResponse>;
  broadcast(request: BroadcastRequest): Promise<BroadcastResponse>;
  subscribe(request: SubscribeRequest): Promise<SubscribeResponse>;
  unsubscribe(request: UnsubscribeRequest): Promise<UnsubscribeResponse>;
}

export function rpcFor(client: ChannelServiceClient, metadata = new grpc.Metadata()): Rpc {
  return {
    createChannel: unary(client, client.createChannel, metadata),
    sendMessage: unary(client, client.sendMessage, metadata),
    sendMessages: unary(client, client.sendMessages, metadata),
    getPresence: unary(client, client.getPresence, metadata),
    closeChannel: unary(client, client.closeChannel, metadata),
    broadcast: unary(client, client.broadcast, metadata),
    subscribe: unary(client, client.subscribe, metadata),
    unsubscribe: unary(client, client.unsubscribe, metadata),
  };
}

/** A SendMessageRequest addressed to a client id. */
export function toClient(clientId: string, message: string, idempotencyKey = ''): SendMessageRequest {
  return { target: { $case: 'clientId', value: clientId }, message, idempotencyKey, waitForDelivery: false, deliveryTimeout: undefined };
}

/** A SendMessageRequest addressed by token. */
export function toToken(token: string, message: string, idempotencyKey = ''): SendMessageRequest {
  return { target: { $case: 'token', value: token }, message, idempotencyKey, waitForDelivery: false, deliveryTimeout: undefined };
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && 'code' in err && typeof err.code === 'number' && 'details' in err;
}

/** Asserts that `promise` fails with gRPC status `code` and details containing every one of `parts`. */
export async function rejectsWith(
  t: ExecutionContext,
  promise: Promise<unknown>,
  code: grpc.status,
  ...parts: string[]
): Promise<grpc.ServiceError> {
  const err = await promise.then(
    (value) => new Error(`expected ${grpc.status[code]}, but the call succeeded with ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  if (!isServiceError(err)) {
    t.fail(err instanceof Error ? err.message : `rejected with a non-gRPC error: ${String(err)}`);
    throw err;
  }
  t.is(grpc.status[err.code], grpc.status[code], `status (details: ${err.details})`);
  for (const part of parts) t.true(err.details.includes(part), `details "${err.details}" should contain "${part}"`);
  return err;
}

/** Like rejectsWith, but the details must be exactly `details`. */
export async function rejectsExactly(
  t: ExecutionContext,
  promise: Promise<unknown>,
  code: grpc.status,
  details: string,
): Promise<void> {
  const err = await rejectsWith(t, promise, code);
  t.is(err.details, details);
}

/**
 * One WatchPresence stream: records every response and how the stream ended, and lets a test wait
 * for them.
 */
export class PresenceStream {
  readonly responses: WatchPresenceResponse[] = [];
  readonly call: grpc.ClientReadableStream<WatchPresenceResponse>;
  /** Settles when the stream ends: undefined for a clean end, the error otherwise. */
  readonly done: Promise<grpc.ServiceError | undefined>;
  error: grpc.ServiceError | undefined;
  ended = false;
  private readonly signal = new Signal();

  constructor(client: ChannelServiceClient, request: Partial<WatchPresenceRequest> = {}, metadata = new grpc.Metadata()) {
    const full: WatchPresenceRequest = { clientIds: [], clientIdPrefix: '', snapshot: false, cursor: '', ...request };
    this.call = client.watchPresence(full, metadata);
    this.call.on('data', (response: WatchPresenceResponse) => {
      this.responses.push(response);
      this.signal.notify();
    });
    this.done = new Promise((resolve) => {
      this.call.on('error', (err: grpc.ServiceError) => {
        this.error = err;
        this.ended = true;
        this.signal.notify();
        resolve(err);
      });
      this.call.on('end', () => {
        this.ended = true;
        this.signal.notify();
        resolve(this.error);
      });
    });
  }

  get events(): PresenceEvent[] {
    return this.responses.flatMap((r) => (r.kind?.$case === 'event' ? [r.kind.value] : []));
  }

  eventsFor(clientId: string): PresenceEvent[] {
    return this.events.filter((e) => e.clientId === clientId);
  }

  get snapshotComplete(): SnapshotComplete | undefined {
    for (const r of this.responses) if (r.kind?.$case === 'snapshotComplete') return r.kind.value;
    return undefined;
  }

  /** Resolves once `predicate` holds (checked after every response and at the end of the stream). */
  until(predicate: () => boolean, what = 'condition'): Promise<void> {
    return this.signal.until(predicate, what, () => `got ${JSON.stringify(this.summary())}, error: ${this.error?.message ?? 'none'}`);
  }

  /** Resolves once `clientId` has `count` events. */
  untilEventsFor(clientId: string, count: number): Promise<void> {
    return this.until(() => this.eventsFor(clientId).length >= count, `${count} events for ${clientId}`);
  }

  untilSnapshotComplete(): Promise<void> {
    return this.until(() => this.snapshotComplete !== undefined, 'snapshot_complete');
  }

  untilEnded(): Promise<void> {
    return this.until(() => this.ended, 'the end of the stream');
  }

  /** The responses in a compact form for assertions: `[clientId, state, reason]` or `['complete', resumeFailed]`. */
  summary(): (readonly [string, string, string] | readonly ['complete', boolean])[] {
    return this.responses.map((r) =>
      r.kind?.$case === 'snapshotComplete'
        ? (['complete', r.kind.value.resumeFailed] as const)
        : ([r.kind?.value.clientId ?? '?', stateName(r.kind?.value.state), reasonName(r.kind?.value.reason)] as const),
    );
  }

  cancel(): void {
    this.call.cancel();
  }
}

export function stateName(state: PresenceState | undefined): string {
  return state === undefined ? 'none' : PresenceState[state].replace('PRESENCE_STATE_', '');
}

export function reasonName(reason: PresenceReason | undefined): string {
  return reason === undefined ? 'none' : PresenceReason[reason].replace('PRESENCE_REASON_', '');
}

/** `[clientId, state, reason]` of each event, for compact deepEqual assertions. */
export function brief(events: readonly PresenceEvent[]): [string, string, string][] {
  return events.map((e) => [e.clientId, stateName(e.state), reasonName(e.reason)]);
}
