/**
 * The closed set of errors the core raises. Each transport converts them in one place
 * (src/grpc/status.ts, src/gateway/close-codes.ts); the names follow gRPC's status codes because
 * that is the vocabulary backends already know.
 */
export const ErrorCode = {
  InvalidArgument: 'invalid-argument',
  FailedPrecondition: 'failed-precondition',
  Unauthenticated: 'unauthenticated',
  ResourceExhausted: 'resource-exhausted',
  DeadlineExceeded: 'deadline-exceeded',
  Aborted: 'aborted',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Each code's number and name in gRPC's table (google.rpc.Code): what every transport reports,
 * as a gRPC status, as `SendMessageError.code`, or by name in an HTTP error body.
 */
export const STATUS_OF: Readonly<Record<ErrorCode, { readonly number: number; readonly name: string }>> = {
  [ErrorCode.InvalidArgument]: { number: 3, name: 'INVALID_ARGUMENT' },
  [ErrorCode.FailedPrecondition]: { number: 9, name: 'FAILED_PRECONDITION' },
  [ErrorCode.Unauthenticated]: { number: 16, name: 'UNAUTHENTICATED' },
  [ErrorCode.ResourceExhausted]: { number: 8, name: 'RESOURCE_EXHAUSTED' },
  [ErrorCode.DeadlineExceeded]: { number: 4, name: 'DEADLINE_EXCEEDED' },
  [ErrorCode.Aborted]: { number: 10, name: 'ABORTED' },
  [ErrorCode.Unavailable]: { number: 14, name: 'UNAVAILABLE' },
  [ErrorCode.Internal]: { number: 13, name: 'INTERNAL' },
};

export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function invalidArgument(message: string): ChannelError {
  return new ChannelError(ErrorCode.InvalidArgument, message);
}

/** Anything thrown, as a ChannelError: our own pass through, the rest become INTERNAL. */
export function toChannelError(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  return new ChannelError(ErrorCode.Internal, err instanceof Error ? err.message : String(err), { cause: err });
}
