import { type ServerErrorResponse, Metadata, type status } from '@grpc/grpc-js';
import { STATUS_OF, type ErrorCode, toChannelError } from '../core/errors.js';

/** The single conversion from anything thrown in the core to a gRPC status. */
export function toGrpcStatus(err: unknown): ServerErrorResponse & { code: status } {
  const error = toChannelError(err);
  return Object.assign(new Error(error.message), { code: grpcCodeOf(error.code), details: error.message, metadata: new Metadata() });
}

export function grpcCodeOf(code: ErrorCode): status {
  return STATUS_OF[code].number as status;
}
