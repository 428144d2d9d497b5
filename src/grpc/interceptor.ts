import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor, type ServerListener } from '@grpc/grpc-js';
import type { GrpcCounters } from '../metrics/counters.js';
import { meterCall } from './call-metrics.js';
import type { ConnectionGuard } from './connection-guard.js';
import { notUtf8Request } from './strict-utf8.js';

export interface InterceptorParts {
  readonly counters: GrpcCounters;
  readonly guard: ConnectionGuard;
  /** The API-key check a method's calls get (see apiKeyCheck); absent when no keys are configured. */
  readonly apiKeys?: (path: string) => ((metadata: Metadata) => string | undefined) | undefined;
}

/**
 * channeld's one gRPC interceptor: call metrics (every call, by method and final status, its own
 * refusals included), the connection guard's count of cancelled calls, the API-key check on the
 * metadata, and the refusal of requests that were not UTF-8. One layer rather than four: each
 * grpc-js interceptor wraps every call in its own call object, listener and responder closures,
 * and that was a measurable part of what a unary SendMessage cost.
 */
export function channeldInterceptor(parts: InterceptorParts): ServerInterceptor {
  const { counters, guard } = parts;
  return (method, call) => {
    const meter = meterCall(counters, method.path);
    const checkKey = parts.apiKeys?.(method.path);
    const refuse = (refusal: Parameters<ServerInterceptingCall['sendStatus']>[0]): void => intercepting.sendStatus(refusal);
    // grpc-js calls onCancel after every status it sends, too (its own clean-up); only a call
    // that ended without one was cancelled, by the client's RST_STREAM or a broken connection.
    let statusSent = false;
    const listener: ServerListener = {
      onCancel: () => {
        if (statusSent) return;
        meter.end(status.CANCELLED);
        guard.cancelled(call);
      },
      onReceiveMessage: (message: unknown, forward) => {
        const problem = notUtf8Request(message);
        if (problem === undefined) forward(message);
        else refuse({ code: status.INVALID_ARGUMENT, details: problem });
      },
    };
    if (checkKey !== undefined) {
      listener.onReceiveMetadata = (metadata, forward) => {
        const problem = checkKey(metadata);
        if (problem === undefined) forward(metadata);
        else refuse({ code: status.UNAUTHENTICATED, details: problem });
      };
    }
    const response = meter.response;
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => next(listener),
      ...(response === undefined
        ? {}
        : {
            sendMessage: (message: unknown, next: (message: unknown) => void) => {
              response(message);
              next(message);
            },
          }),
      sendStatus: (callStatus, next) => {
        statusSent = true;
        meter.end(callStatus.code);
        next(callStatus);
      },
    });
    return intercepting;
  };
}
