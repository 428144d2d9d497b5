import { STATUS_OF, toChannelError } from '../core/errors.js';

/**
 * gRPC status codes to HTTP statuses, as grpc-gateway maps them (runtime.HTTPStatusFromCode), so
 * proxies, dashboards and client libraries see what they expect. Keyed by the code's name.
 */
export const HTTP_STATUS_OF_CODE: Readonly<Record<string, number>> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
};

/** gRPC code numbers by name, for the call metrics (which count by gRPC code like the gRPC ones). */
export const CODE_NUMBER: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

const REASON: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusLine(status: number): string {
  return `${status} ${REASON[status] ?? 'Error'}`;
}

/**
 * An answer that is not a success: the HTTP status and the body `{"code","message"}` with the
 * gRPC code's name. `status` differs from the code's usual one only where HTTP has a word of its
 * own for the refusal (413 a body too large, 405 a wrong method, 415 a wrong content type).
 */
export class HttpApiError extends Error {
  override readonly name = 'HttpApiError';
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? HTTP_STATUS_OF_CODE[code] ?? 500;
  }

  get body(): string {
    return JSON.stringify({ code: this.code, message: this.message });
  }
}

/** Anything thrown by the core (or below it), as the HTTP answer. */
export function toHttpApiError(err: unknown): HttpApiError {
  if (err instanceof HttpApiError) return err;
  const error = toChannelError(err);
  return new HttpApiError(STATUS_OF[error.code].name, error.message);
}
