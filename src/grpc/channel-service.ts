import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import {
  PresenceReason as ProtoReason,
  PresenceState as ProtoState,
  type ChannelServiceServer,
  type SendMessageRequest,
  type SendMessageResult,
  type StreamMessagesRequest,
  type StreamMessagesResponse,
  type WatchPresenceRequest,
  type WatchPresenceResponse,
} from '../../gen/ts/channel/v1/channel.js';
import type { Logger } from 'pino';
import type { ChannelApi, SendRequest } from '../core/channel-api.js';
import type { PublishResult } from '../engine/engine.js';
import type { PresenceItem } from '../core/presence-feed.js';
import { PresenceReason, PresenceState, type PresenceChange } from '../core/types.js';
import { grpcCodeOf, toGrpcStatus } from './status.js';
import { ChannelError, ErrorCode, invalidArgument, toChannelError } from '../core/errors.js';
import { MAX_BATCH_ITEMS } from '../core/limits.js';
import { validateCount, validateStreamBatch } from '../core/validation.js';
import { notUtf8Fields } from './strict-utf8.js';

const STATES: Record<PresenceState, ProtoState> = {
  [PresenceState.Connected]: ProtoState.PRESENCE_STATE_CONNECTED,
  [PresenceState.Disconnected]: ProtoState.PRESENCE_STATE_DISCONNECTED,
};

const REASONS: Record<PresenceReason, ProtoReason> = {
  [PresenceReason.Snapshot]: ProtoReason.PRESENCE_REASON_SNAPSHOT,
  [PresenceReason.SocketOpened]: ProtoReason.PRESENCE_REASON_SOCKET_OPENED,
  [PresenceReason.SocketClosed]: ProtoReason.PRESENCE_REASON_SOCKET_CLOSED,
  [PresenceReason.TokenExpired]: ProtoReason.PRESENCE_REASON_TOKEN_EXPIRED,
  [PresenceReason.ChannelClosed]: ProtoReason.PRESENCE_REASON_CHANNEL_CLOSED,
  [PresenceReason.SlowConsumer]: ProtoReason.PRESENCE_REASON_SLOW_CONSUMER,
  [PresenceReason.Shutdown]: ProtoReason.PRESENCE_REASON_SHUTDOWN,
  [PresenceReason.NodeLost]: ProtoReason.PRESENCE_REASON_NODE_LOST,
};

function toSendRequest(request: SendMessageRequest): SendRequest {
  const target = request.target;
  return {
    target:
      target === undefined ? undefined : target.$case === 'clientId' ? { clientId: target.value } : { token: target.value },
    message: request.message,
    idempotencyKey: request.idempotencyKey,
  };
}

function toResponse(item: PresenceItem): WatchPresenceResponse {
  if (item.kind === 'snapshot-complete') {
    return { kind: { $case: 'snapshotComplete', value: { cursor: item.cursor, resumeFailed: item.resumeFailed } } };
  }
  return { kind: { $case: 'event', value: toEvent(item.change) } };
}

function toEvent(change: PresenceChange) {
  return {
    clientId: change.clientId,
    state: STATES[change.state],
    time: new Date(change.timeMs),
    cursor: change.cursor,
    reason: REASONS[change.reason],
  };
}

function toResult(r: PublishResult | ChannelError): SendMessageResult {
  return r instanceof ChannelError
    ? { result: { $case: 'error', value: { code: grpcCodeOf(r.code), message: r.message } } }
    : { result: { $case: 'sent', value: r } };
}

/** Stream messages (items of batches count one each) in flight before the server stops reading. */
const STREAM_MAX_IN_FLIGHT = 1024;

/** One StreamMessages request: its items, converted, or the error that answers an item at once. */
interface StreamJob {
  readonly id: number;
  /** Answered with `result` (a `request`) rather than `results` (a batch of `requests`). */
  readonly single: boolean;
  readonly items: readonly (SendRequest | ChannelError)[];
}

/** The error `check` throws, if it throws. */
function refusal(check: () => void): ChannelError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return toChannelError(err);
  }
}

/** A send, or its refusal; a field that was not UTF-8 on the wire fails that item alone. */
function toItem(request: SendMessageRequest): SendRequest | ChannelError {
  const fields = notUtf8Fields(request);
  if (fields !== undefined) return invalidArgument(`${fields} is not valid UTF-8`);
  return toSendRequest(request);
}

function isRequest(item: SendRequest | ChannelError): item is SendRequest {
  return !(item instanceof ChannelError);
}

function toJob(item: StreamMessagesRequest): StreamJob {
  if (item.requests.length === 0) {
    const request = item.request;
    return {
      id: item.id,
      single: true,
      items: [request === undefined ? new ChannelError(ErrorCode.InvalidArgument, 'request is missing') : toItem(request)],
    };
  }
  if (item.request !== undefined) {
    return { id: item.id, single: true, items: [new ChannelError(ErrorCode.InvalidArgument, 'set request or requests, not both')] };
  }
  // Refused as a whole, answered by one `result` like the other refusals of a request.
  const tooMany = refusal(() => validateStreamBatch(item.requests.length));
  if (tooMany !== undefined) return { id: item.id, single: true, items: [tooMany] };
  return { id: item.id, single: false, items: item.requests.map(toItem) };
}

/** Sends in chunks, one after another, so the order holds across chunks and memory stays bounded. */
async function sendInOrder(hub: ChannelApi, requests: readonly SendRequest[]): Promise<(PublishResult | ChannelError)[]> {
  const results: (PublishResult | ChannelError)[] = [];
  for (let start = 0; start < requests.length; start += MAX_BATCH_ITEMS) {
    results.push(...(await hub.sendEach(requests.slice(start, start + MAX_BATCH_ITEMS))));
  }
  return results;
}

/**
 * SendMessages, where items may fail here already (not UTF-8 on the wire, over a limit the core
 * does not check): those keep their place and their error, worded as the core words a bad item
 * (`requests[i]: …`).
 */
async function sendBatch(hub: ChannelApi, requests: readonly SendMessageRequest[]): Promise<(PublishResult | ChannelError)[]> {
  // Before anything is converted: an oversized batch costs no more than its decoding.
  validateCount('requests', requests.length, 1, MAX_BATCH_ITEMS);
  const items = requests.map(toItem);
  if (items.every(isRequest)) return hub.sendMessages(items);
  const sent = await hub.sendEach(items.filter(isRequest));
  let next = 0;
  return items.map((item, i) => {
    const result = isRequest(item) ? sent[next++]! : item;
    return result instanceof ChannelError ? new ChannelError(result.code, `requests[${i}]: ${result.message}`) : result;
  });
}

/** channel.v1.ChannelService: one method per RPC, each validate (in the core) → call → map. */
export function channelService(hub: ChannelApi, logger: Logger): ChannelServiceServer {
  const log = logger.child({ mod: 'grpc' });
  return {
    createChannel(call, callback) {
      hub.createChannel(call.request.clientId, call.request.durationMinutes).then(
        (created) =>
          callback(null, {
            token: created.token,
            expireTime: new Date(created.expiresAtMs),
            durationMinutes: created.durationMinutes,
          }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    sendMessage(call, callback) {
      const item = toItem(call.request);
      (isRequest(item) ? hub.sendMessage(item) : Promise.reject(item)).then(
        (result) => callback(null, result),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    sendMessages(call, callback) {
      sendBatch(hub, call.request.requests).then(
        (results) => callback(null, { results: results.map(toResult) }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    getPresence(call, callback) {
      hub.getPresence(call.request.clientIds).then(
        (clients) =>
          callback(null, {
            clients: clients.map((c) => ({
              clientId: c.clientId,
              connected: c.connected,
              connectedSince: c.sinceMs === undefined ? undefined : new Date(c.sinceMs),
            })),
          }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    closeChannel(call, callback) {
      hub.closeChannel(call.request.clientId).then(
        (wasConnected) => callback(null, { wasConnected }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    broadcast(call, callback) {
      const { message, clientIds, topics } = call.request;
      hub.broadcast({ message, clientIds, topics }).then(
        (result) =>
          callback(null, {
            clients: result.clients,
            clientsConnected: result.clientsConnected,
            topics: result.topics.map((t) => ({ topic: t.topic, seq: t.seq, epoch: t.epoch, members: t.members })),
          }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    subscribe(call, callback) {
      hub.subscribe(call.request.clientIds, call.request.topic).then(
        (added) => callback(null, { added }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    unsubscribe(call, callback) {
      hub.unsubscribe(call.request.clientIds, call.request.topic).then(
        (removed) => callback(null, { removed }),
        (err: unknown) => callback(toGrpcStatus(err)),
      );
    },

    /**
     * Requests are sent in arrival order, so one channel's messages keep their order: whatever
     * arrived while the previous hub call ran goes to the hub as one in-order batch (SendMessages
     * semantics: every item checked, then published in order), so a busy stream costs a few
     * promises per batch rather than per message. Each request is answered with its id, in order.
     * Reading pauses while too many messages are in flight or the response stream is full, so
     * HTTP/2 flow control slows the backend down.
     */
    streamMessages(call: ServerDuplexStream<StreamMessagesRequest, StreamMessagesResponse>) {
      let queue: StreamJob[] = [];
      let running = false;
      let scheduled = false;
      let inFlight = 0;
      let paused = false;
      let ending = false;
      // False from a write() that returned false until 'drain': responses the backend has not
      // taken are piling up, so taking more requests would only grow that pile.
      let draining = true;
      const throttle = (): void => {
        if (!paused && (inFlight >= STREAM_MAX_IN_FLIGHT || !draining)) {
          paused = true;
          call.pause();
        }
      };
      const settle = (): void => {
        if (paused && inFlight < STREAM_MAX_IN_FLIGHT / 2 && draining) {
          paused = false;
          call.resume();
        }
      };
      const finish = (): void => {
        if (ending && !running && queue.length === 0 && !call.cancelled) call.end();
      };
      const run = async (): Promise<void> => {
        scheduled = false;
        running = true;
        while (queue.length > 0) {
          const jobs = queue;
          queue = [];
          const requests: SendRequest[] = [];
          for (const job of jobs) for (const item of job.items) if (isRequest(item)) requests.push(item);
          const sent = await sendInOrder(hub, requests);
          let next = 0;
          for (const job of jobs) {
            const results = job.items.map((item) => toResult(isRequest(item) ? sent[next++]! : item));
            inFlight -= job.items.length;
            if (call.cancelled) continue;
            const response: StreamMessagesResponse = job.single
              ? { id: job.id, result: results[0], results: [] }
              : { id: job.id, result: undefined, results };
            if (!call.write(response)) draining = false;
          }
          throttle();
          settle();
        }
        running = false;
        finish();
      };
      call.on('drain', () => {
        draining = true;
        settle();
      });
      call.on('data', (item: StreamMessagesRequest) => {
        const job = toJob(item);
        inFlight += job.items.length;
        throttle();
        queue.push(job);
        // Wait for the rest of this turn's requests (they arrive together), then send them as one.
        if (!running && !scheduled) {
          scheduled = true;
          setImmediate(() => void run());
        }
      });
      call.on('end', () => {
        ending = true;
        if (!scheduled) finish();
      });
      call.on('error', (err: unknown) => log.debug({ err }, 'streamMessages stream error'));
    },

    watchPresence(call: ServerWritableStream<WatchPresenceRequest, WatchPresenceResponse>) {
      const request = call.request;
      let ended = false;
      const finish = (error?: ChannelError): void => {
        if (ended) return;
        ended = true;
        if (error === undefined) call.end();
        else call.emit('error', toGrpcStatus(error));
      };
      const watching = hub.watchPresence(
        {
          filter: { clientIds: new Set(request.clientIds), prefix: request.clientIdPrefix },
          snapshot: request.snapshot,
          cursor: request.cursor,
        },
        {
          write: (item) => !ended && call.write(toResponse(item)),
          onDrain: (cb) => call.once('drain', cb),
          end: finish,
        },
      );
      watching.then(
        (watcher) => {
          const stop = (): void => {
            hub.unwatchPresence(watcher);
            watcher.end();
          };
          if (call.cancelled) stop();
          call.on('cancelled', stop);
          call.on('close', stop);
        },
        (err: unknown) => {
          log.debug({ err }, 'watchPresence refused');
          ended = true;
          call.emit('error', toGrpcStatus(err));
        },
      );
    },
  };
}
