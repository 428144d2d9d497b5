import type { sendUnaryData, ServerDuplexStream, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type {
  ChannelServiceServer,
  StreamMessagesRequest,
  StreamMessagesResponse,
  WatchDeliveriesRequest,
  WatchDeliveriesResponse,
  WatchPresenceRequest,
  WatchPresenceResponse,
} from '../../gen/ts/channel/v1/channel.js';
import type { Logger } from 'pino';
import type { CallContext, ChannelApi, SendRequest } from '../core/channel-api.js';
import type { PublishResult } from '../engine/engine.js';
import type { PresenceWatcher } from '../core/presence-feed.js';
import type { DeliveryWatcher } from '../core/delivery-bus.js';
import {
  isRequest,
  toDeliveriesWatchRequest,
  toDeliveryResponse,
  toItem,
  toResult,
  toWatchRequest,
  toWatchResponse,
  unaryMethods,
} from '../api/channel-methods.js';
import { toGrpcStatus } from './status.js';
import { serveWatch } from './serve-watch.js';
import { ChannelError, ErrorCode, toChannelError } from '../core/errors.js';
import { MAX_BATCH_ITEMS } from '../core/limits.js';
import { validateStreamBatch } from '../core/validation.js';
import { topicPresenceHandlers } from './topic-presence-service.js';

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

/** Answers a unary call with the method's response or, for anything thrown, its gRPC status. */
function answer<T>(response: Promise<T>, callback: sendUnaryData<T>): void {
  response.then(
    (value) => callback(null, value),
    (err: unknown) => callback(toGrpcStatus(err)),
  );
}

/** The deadline and cancellation of a unary call, for a SendMessage that waits for its delivery. */
function callContext(call: ServerUnaryCall<unknown, unknown>): CallContext {
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort());
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
  return { signal: controller.signal, deadlineMs };
}

/** channel.v1.ChannelService: one method per RPC, each validate (in the core) → call → map. */
export function channelService(hub: ChannelApi, logger: Logger): ChannelServiceServer {
  const log = logger.child({ mod: 'grpc' });
  const unary = unaryMethods(hub);
  return {
    createChannel: (call, callback) => answer(unary.createChannel(call.request), callback),
    sendMessage: (call, callback) =>
      answer(unary.sendMessage(call.request, call.request.waitForDelivery ? callContext(call) : {}), callback),
    sendMessages: (call, callback) => answer(unary.sendMessages(call.request), callback),
    getPresence: (call, callback) => answer(unary.getPresence(call.request), callback),
    closeChannel: (call, callback) => answer(unary.closeChannel(call.request), callback),
    broadcast: (call, callback) => answer(unary.broadcast(call.request), callback),
    subscribe: (call, callback) => answer(unary.subscribe(call.request), callback),
    unsubscribe: (call, callback) => answer(unary.unsubscribe(call.request), callback),
    getTopicMembers: (call, callback) => answer(unary.getTopicMembers(call.request), callback),
    countTopicMembers: (call, callback) => answer(unary.countTopicMembers(call.request), callback),
    watchTopicPresence: topicPresenceHandlers(hub, log).watchTopicPresence,
    getDelivery: (call, callback) => answer(unary.getDelivery(call.request), callback),

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
      serveWatch(
        call,
        (sink) => hub.watchPresence(toWatchRequest(call.request), sink),
        (watcher) => hub.unwatchPresence(watcher as PresenceWatcher),
        toWatchResponse,
        log,
      );
    },

    watchDeliveries(call: ServerWritableStream<WatchDeliveriesRequest, WatchDeliveriesResponse>) {
      serveWatch(
        call,
        (sink) => hub.watchDeliveries(toDeliveriesWatchRequest(call.request), sink),
        (watcher) => hub.unwatchDeliveries(watcher as DeliveryWatcher),
        toDeliveryResponse,
        log,
      );
    },
  };
}
