import type { Logger } from 'pino';
import { unaryMethods, type UnaryMethods } from '../api/channel-methods.js';
import { ApiKeys } from '../core/api-keys.js';
import type { ChannelApi } from '../core/channel-api.js';
import { MAX_REQUEST_BYTES } from '../core/limits.js';
import { isLoopbackAddress } from '../gateway/demo.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../gateway/uws.js';
import type { GrpcCounters } from '../metrics/counters.js';
import { readLimitedBody } from './body.js';
import { CODE_NUMBER, HttpApiError, statusLine, toHttpApiError } from './errors.js';
import { JSON_TYPE, ROUTES, SERVICE, type BodyFormat, type UnaryRoute, type WatchRoute } from './methods.js';
import { startPresenceStream, streamFormatOf } from './presence-stream.js';

/** Binary bodies may be as large as gRPC takes them. */
export const MAX_PROTO_BODY_BYTES = MAX_REQUEST_BYTES;
/**
 * JSON spends more bytes on the same request (field names, escapes): a full SendMessages batch of
 * JSON-encoded messages fits in twice the binary limit; one that does not fits as binary.
 */
export const MAX_JSON_BODY_BYTES = 2 * MAX_REQUEST_BYTES;

const PREFIX = `/${SERVICE}/`;
/** A refused request's body up to this size is read and dropped rather than the connection closed. */
const SMALL_BODY_BYTES = 64 * 1024;
const PROTO_TYPES = /^application\/(proto|x-protobuf|protobuf|vnd\.google\.protobuf)\s*(;|$)/i;
const JSON_TYPES = /^application\/json\s*(;|$)/i;

export interface HttpApiOptions {
  readonly api: ChannelApi;
  readonly apiKeys: readonly string[];
  /** Calls by method and code, as the gRPC ones are counted. */
  readonly counters: GrpcCounters;
  /** How often a presence stream with nothing to say sends a heartbeat. */
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

/** What a handler reads from the request before anything else happens (uWS frees it on return). */
interface RequestHead {
  readonly route: string;
  readonly httpMethod: string;
  readonly contentType: string;
  readonly contentLength: string;
  readonly chunked: boolean;
  readonly authorization: string;
  readonly accept: string;
  readonly lastEventId: string;
  readonly forwarded: boolean;
  readonly remote: string;
}

function readHead(res: HttpResponse, req: HttpRequest): RequestHead {
  return {
    route: req.getUrl().slice(PREFIX.length),
    httpMethod: req.getMethod().toUpperCase(),
    contentType: req.getHeader('content-type'),
    contentLength: req.getHeader('content-length'),
    chunked: /chunked/i.test(req.getHeader('transfer-encoding')),
    authorization: req.getHeader('authorization'),
    accept: req.getHeader('accept'),
    lastEventId: req.getHeader('last-event-id'),
    forwarded: req.getHeader('x-forwarded-for') !== '' || req.getHeader('forwarded') !== '',
    remote: Buffer.from(res.getRemoteAddressAsText()).toString(),
  };
}

/**
 * A response that is never touched once the client went away (uWS forbids it), and corks every
 * write, since all but the first happen after an await.
 */
export class ApiResponse {
  aborted = false;
  done = false;
  private readonly abortListeners: (() => void)[] = [];

  constructor(readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
      for (const listener of this.abortListeners) listener();
    });
  }

  get open(): boolean {
    return !this.aborted && !this.done;
  }

  onAbort(listener: () => void): void {
    this.abortListeners.push(listener);
  }

  /** The whole answer at once; `close` ends the connection too (when the rest of a body is not worth reading). */
  send(status: number, contentType: string, body: string | Uint8Array, headers: Readonly<Record<string, string>> = {}, close = false): void {
    if (!this.open) return;
    this.done = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status)).writeHeader('content-type', contentType).writeHeader('cache-control', 'no-store');
      for (const [name, value] of Object.entries(headers)) this.res.writeHeader(name, value);
      this.res.end(body, close);
    });
  }

  error(error: HttpApiError, headers: Readonly<Record<string, string>> = {}, close = false): void {
    this.send(error.status, JSON_TYPE, error.body, headers, close);
  }
}

function bodyFormat(contentType: string): BodyFormat | undefined {
  if (contentType === '' || JSON_TYPES.test(contentType)) return 'json';
  if (PROTO_TYPES.test(contentType)) return 'proto';
  return undefined;
}

/**
 * ChannelService over HTTP/1.1: `POST /channel.v1.ChannelService/<Method>` with a JSON or binary
 * protobuf body, answered in the same format; errors as `{"code","message"}` with the gRPC code's
 * name. A thin adapter: the methods are src/api's, the rules the core's.
 */
export class HttpApi {
  private readonly methods: UnaryMethods;
  private readonly keys: ApiKeys;
  private readonly log: Logger;

  constructor(private readonly options: HttpApiOptions) {
    this.methods = unaryMethods(options.api);
    this.keys = new ApiKeys(options.apiKeys);
    this.log = options.logger.child({ mod: 'http-api' });
  }

  /** Routes on `app`; call before the app's catch-all route. */
  mount(app: TemplatedApp): void {
    app.any(`${PREFIX}*`, (res, req) => this.handle(res, req));
  }

  private handle(res: HttpResponse, req: HttpRequest): void {
    const head = readHead(res, req);
    const started = performance.now();
    const response = new ApiResponse(res);
    const path = `${PREFIX}${head.route}`;
    const route = ROUTES.get(head.route);
    const counted = route === undefined ? `${PREFIX}unknown` : path;
    let ended = false;
    const end = (code: string): void => {
      if (ended) return;
      ended = true;
      this.options.counters.callEnded(counted, CODE_NUMBER[code] ?? 2, (performance.now() - started) / 1000);
    };
    response.onAbort(() => end('CANCELLED'));
    const refuse = (error: HttpApiError, headers: Readonly<Record<string, string>> = {}): void => {
      // A large (or unbounded) body that follows a refusal is not worth reading: the connection
      // is closed instead. A small one is read and thrown away, since closing on unread bytes
      // resets the connection and can destroy the answer before the client reads it.
      const length = Number(head.contentLength);
      const largeBody = head.chunked || (head.contentLength !== '' && !(length <= SMALL_BODY_BYTES));
      end(error.code);
      response.error(error, headers, largeBody);
    };

    if (route === undefined) {
      const known = [...ROUTES.keys()].join(', ');
      refuse(new HttpApiError('NOT_FOUND', `${SERVICE} has no method ${JSON.stringify(head.route)} over HTTP; it has ${known}`));
      return;
    }
    if (head.httpMethod !== 'POST') {
      refuse(new HttpApiError('UNIMPLEMENTED', `${path} takes POST, not ${head.httpMethod}`, 405), { allow: 'POST' });
      return;
    }
    if (!this.keys.required && (!isLoopbackAddress(head.remote) || head.forwarded)) {
      // Without keys anyone could mint tokens; gRPC is kept to loopback by default for the same reason.
      refuse(new HttpApiError('PERMISSION_DENIED', 'without API keys the HTTP API answers this machine only; start channeld with --api-key to open it to others'));
      return;
    }
    const keyProblem = this.keys.refusal(head.authorization, 'header');
    if (keyProblem !== undefined) {
      refuse(new HttpApiError('UNAUTHENTICATED', keyProblem), { 'www-authenticate': 'Bearer' });
      return;
    }
    const format = bodyFormat(head.contentType);
    if (format === undefined) {
      refuse(
        new HttpApiError('INVALID_ARGUMENT', `content-type ${JSON.stringify(head.contentType)} is not supported; send application/json or application/proto`, 415),
      );
      return;
    }
    const limit = format === 'proto' ? MAX_PROTO_BODY_BYTES : MAX_JSON_BODY_BYTES;
    const tooLarge = (bytes: string): HttpApiError =>
      new HttpApiError('RESOURCE_EXHAUSTED', `body is ${bytes} bytes; the limit is ${limit} for ${format === 'proto' ? 'application/proto' : 'JSON'}`, 413);
    let declared: number | undefined;
    if (head.contentLength !== '') {
      declared = Number(head.contentLength);
      if (!/^\d+$/.test(head.contentLength) || !Number.isSafeInteger(declared)) {
        refuse(new HttpApiError('INVALID_ARGUMENT', `content-length ${JSON.stringify(head.contentLength)} is not a number of bytes`));
        return;
      }
      if (declared > limit) {
        refuse(tooLarge(String(declared)));
        return;
      }
    }
    readLimitedBody(res, declared, limit, (outcome) => {
      if (!outcome.ok) {
        end('RESOURCE_EXHAUSTED');
        // Not closed: the client is still sending, and closing on unread bytes resets the
        // connection, which can destroy the 413 before the client reads it. uWS throws the rest
        // of the body away as it comes; nothing of it is kept.
        response.error(tooLarge(`over ${outcome.bytes - 1}`));
        return;
      }
      if (route.kind === 'unary') this.unary(route, outcome.body, format, response, end);
      else this.watch(route, outcome.body, format, head, response, end);
    });
  }

  private unary(route: UnaryRoute, body: Uint8Array, format: BodyFormat, response: ApiResponse, end: (code: string) => void): void {
    const controller = new AbortController();
    response.onAbort(() => controller.abort());
    route.handle(this.methods, body, format, { signal: controller.signal }).then(
      ({ encoded, accepted }) => {
        if (!response.open) return;
        this.options.counters.messagesAccepted(route.name, accepted);
        end('OK');
        response.send(200, encoded.contentType, encoded.body);
      },
      (err: unknown) => {
        const error = toHttpApiError(err);
        if (error.code === 'INTERNAL') this.log.warn({ err, method: route.name }, 'HTTP API call failed');
        if (!response.open) return;
        end(error.code);
        response.error(error);
      },
    );
  }

  private watch(route: WatchRoute, body: Uint8Array, format: BodyFormat, head: RequestHead, response: ApiResponse, end: (code: string) => void): void {
    let request;
    try {
      request = route.decode(body, format);
    } catch (err) {
      const error = toHttpApiError(err);
      end(error.code);
      response.error(error);
      return;
    }
    const streamFormat = streamFormatOf(head.accept);
    // A reconnecting EventSource names the last event it got; that is where it resumes.
    if (streamFormat === 'sse' && head.lastEventId !== '') request = { ...request, cursor: head.lastEventId };
    startPresenceStream({
      api: this.options.api,
      request,
      format: streamFormat,
      response,
      heartbeatMs: this.options.heartbeatMs,
      end,
      log: this.log,
    });
  }
}
