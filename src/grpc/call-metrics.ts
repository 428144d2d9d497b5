import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { SendMessageResult, SendMessagesResponse, StreamMessagesResponse } from '../../gen/ts/channel/v1/channel.js';
import type { GrpcCounters } from '../metrics/counters.js';

const SERVICE = '/channel.v1.ChannelService/';

function sent(results: readonly SendMessageResult[]): number {
  let n = 0;
  for (const r of results) if (r.result?.$case === 'sent') n++;
  return n;
}

/** How many messages one response of each sending RPC says were accepted (given a seq). */
const ACCEPTED: Record<string, (response: unknown) => number> = {
  [`${SERVICE}SendMessage`]: () => 1,
  [`${SERVICE}SendMessages`]: (response) => sent((response as SendMessagesResponse).results),
  [`${SERVICE}StreamMessages`]: (response) => {
    const r = response as StreamMessagesResponse;
    return r.result === undefined ? sent(r.results) : sent([r.result]);
  },
  [`${SERVICE}Broadcast`]: () => 1,
};

/**
 * Counts every call by method and final status, with its duration, and the messages the sending
 * RPCs got accepted. It must be the innermost interceptor (first in the list): calls refused by
 * the API-key or UTF-8 interceptors end there and are counted too.
 */
export function callMetricsInterceptor(counters: GrpcCounters): ServerInterceptor {
  return (method, call) => {
    const path = method.path;
    const started = performance.now();
    const accepted = ACCEPTED[path];
    let ended = false;
    const end = (code: number): void => {
      if (ended) return;
      ended = true;
      counters.callEnded(path, code, (performance.now() - started) / 1000);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => end(status.CANCELLED) }),
      ...(accepted === undefined
        ? {}
        : {
            sendMessage: (message: unknown, next: (message: unknown) => void) => {
              counters.messagesAccepted(path.slice(SERVICE.length), accepted(message));
              next(message);
            },
          }),
      sendStatus: (callStatus, next) => {
        end(callStatus.code);
        next(callStatus);
      },
    });
  };
}
