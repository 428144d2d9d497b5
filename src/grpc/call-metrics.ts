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

/** One call's metering: its end is counted once, with its status and duration. */
export interface CallMeter {
  /** Counts the messages a response of a sending RPC got accepted; undefined for other RPCs. */
  readonly response: ((message: unknown) => void) | undefined;
  /** The call ended with `code` (a second end is ignored: a cancel may follow a status). */
  end(code: number): void;
}

/**
 * Counts every call by method and final status, with its duration, and the messages the sending
 * RPCs got accepted. The gRPC interceptor (interceptor.ts) ends a meter on every status it
 * sends, its own refusals (API key, UTF-8) included, and on a cancel.
 */
export function meterCall(counters: GrpcCounters, path: string): CallMeter {
  const started = performance.now();
  const accepted = ACCEPTED[path];
  let ended = false;
  return {
    response: accepted === undefined ? undefined : (message) => counters.messagesAccepted(path.slice(SERVICE.length), accepted(message)),
    end(code) {
      if (ended) return;
      ended = true;
      counters.callEnded(path, code, (performance.now() - started) / 1000);
    },
  };
}
