import { status, type ServerErrorResponse, Metadata } from '@grpc/grpc-js';
import { ErrorCode, toChannelError } from '../core/errors.js';

const CODES: Record<ErrorCode, status> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorCode.Unauthenticated]: status.UNAUTHENTICATED,
  [ErrorCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.Internal]: status.INTERNAL,
};

/** The single conversion from anything thrown in the core to a gRPC status. */
export function toGrpcStatus(err: unknown): ServerErrorResponse & { code: status } {
  const error = toChannelError(err);
  return Object.assign(new Error(error.message), { code: CODES[error.code], details: error.message, metadata: new Metadata() });
}

export function grpcCodeOf(code: ErrorCode): status {
  return CODES[code];
}
