import type { Logger } from 'pino';
import { PresenceEvent, SnapshotComplete, type WatchPresenceRequest } from '../../gen/ts/channel/v1/channel.js';
import { toPresenceEvent, toWatchRequest } from '../api/channel-methods.js';
import type { ChannelApi } from '../core/channel-api.js';
import type { ChannelError } from '../core/errors.js';
import type { PresenceItem, PresenceSink, PresenceWatcher } from '../core/presence-feed.js';
import { toHttpApiError } from './errors.js';
import { completeJson, messageDesc } from './json-codec.js';
import type { ApiResponse } from './routes.js';

/** Server-sent events (`Accept: text/event-stream`) or one JSON object per line (everything else). */
export type StreamFormat = 'sse' | 'ndjson';

export function streamFormatOf(accept: string): StreamFormat {
  return /\btext\/event-stream\b/i.test(accept) ? 'sse' : 'ndjson';
}

const EVENT_DESC = messageDesc('channel.v1.PresenceEvent');
const SNAPSHOT_DESC = messageDesc('channel.v1.SnapshotComplete');

/** The framing of each thing a stream says, in one format. */
interface Framing {
  readonly contentType: string;
  item(item: PresenceItem): string;
  error(code: string, message: string): string;
  readonly heartbeat: string;
}

function eventJson(item: PresenceItem): { key: 'event' | 'snapshotComplete'; json: string; cursor: string } {
  if (item.kind === 'change') {
    const event = toPresenceEvent(item.change);
    return { key: 'event', json: JSON.stringify(completeJson(EVENT_DESC, PresenceEvent.toJSON(event) as Record<string, unknown>)), cursor: event.cursor };
  }
  const marker = { cursor: item.cursor, resumeFailed: item.resumeFailed };
  return { key: 'snapshotComplete', json: JSON.stringify(completeJson(SNAPSHOT_DESC, SnapshotComplete.toJSON(marker) as Record<string, unknown>)), cursor: item.cursor };
}

const FRAMINGS: Record<StreamFormat, Framing> = {
  // Each line a WatchPresenceResponse in JSON ({"event":…} or {"snapshotComplete":…}), or one of
  // the stream's own two: {"heartbeat":{}} and, last, {"error":{"code","message"}}.
  ndjson: {
    contentType: 'application/x-ndjson',
    item: (item) => {
      const { key, json } = eventJson(item);
      return `{"${key}":${json}}\n`;
    },
    error: (code, message) => `${JSON.stringify({ error: { code, message } })}\n`,
    heartbeat: '{"heartbeat":{}}\n',
  },
  // The cursor is the event id, so an EventSource that reconnects resumes by itself (Last-Event-ID).
  sse: {
    contentType: 'text/event-stream; charset=utf-8',
    item: (item) => {
      const { key, json, cursor } = eventJson(item);
      return `event: ${key === 'event' ? 'presence' : 'snapshot_complete'}\nid: ${cursor}\ndata: ${json}\n\n`;
    },
    error: (code, message) => `event: error\ndata: ${JSON.stringify({ code, message })}\n\n`,
    heartbeat: ': heartbeat\n\n',
  },
};

export interface PresenceStreamOptions {
  readonly api: ChannelApi;
  readonly request: WatchPresenceRequest;
  readonly format: StreamFormat;
  readonly response: ApiResponse;
  readonly heartbeatMs: number;
  /** Counts the call once, with its final code. */
  readonly end: (code: string) => void;
  readonly log: Logger;
}

/**
 * WatchPresence as a chunked HTTP response. The core's watcher holds what this stream cannot send
 * yet: `write` says false as soon as uWS had to buffer (the reader is behind), nothing more is
 * written until uWS says the socket drained, and a reader that stays behind past the watcher's
 * queue is cut off with a final error event naming the cursor to resume from. Heartbeats go only
 * to a stream that is keeping up, so they never pile up either.
 */
export function startPresenceStream(options: PresenceStreamOptions): void {
  const { api, response, end } = options;
  const res = response.res;
  const framing = FRAMINGS[options.format];
  let headSent = false;
  let blocked = false;
  let closed = false;
  let drained: (() => void) | undefined;
  let watcher: PresenceWatcher | undefined;

  // Called only inside cork: the status and headers go with the first bytes.
  const writeHead = (): void => {
    if (headSent) return;
    headSent = true;
    res.writeStatus('200 OK').writeHeader('content-type', framing.contentType).writeHeader('cache-control', 'no-store');
    // nginx would otherwise hold events back to fill its buffers.
    res.writeHeader('x-accel-buffering', 'no');
  };
  const write = (chunk: string): boolean => {
    let ok = false;
    res.cork(() => {
      writeHead();
      ok = res.write(chunk);
    });
    if (!ok) blocked = true;
    return ok;
  };
  const heartbeat = setInterval(() => {
    if (!closed && !blocked && response.open) write(framing.heartbeat);
  }, options.heartbeatMs);
  const stop = (): void => {
    closed = true;
    clearInterval(heartbeat);
  };

  res.onWritable(() => {
    blocked = false;
    const callback = drained;
    drained = undefined;
    callback?.();
    return true;
  });
  response.onAbort(() => {
    stop();
    if (watcher !== undefined) {
      api.unwatchPresence(watcher);
      watcher.end();
    }
  });

  const sink: PresenceSink = {
    write: (item) => !closed && response.open && write(framing.item(item)),
    onDrain: (callback) => {
      drained = callback;
    },
    end: (error?: ChannelError) => {
      if (closed) return;
      stop();
      const failure = error === undefined ? undefined : toHttpApiError(error);
      end(failure?.code ?? 'OK');
      if (!response.open) return;
      response.done = true;
      res.cork(() => {
        writeHead();
        if (failure !== undefined) res.write(framing.error(failure.code, failure.message));
        res.end();
      });
    },
  };

  let watching: Promise<PresenceWatcher>;
  try {
    watching = api.watchPresence(toWatchRequest(options.request), sink);
  } catch (err) {
    watching = Promise.reject(err);
  }
  watching.then(
    (started) => {
      watcher = started;
      if (!response.open) {
        api.unwatchPresence(started);
        started.end();
        return;
      }
      // Headers now, even before the first event, so the reader knows the stream is on.
      if (!headSent) write(options.format === 'sse' ? ': watching presence\n\n' : framing.heartbeat);
    },
    (err: unknown) => {
      stop();
      const error = toHttpApiError(err);
      end(error.code);
      if (headSent) {
        if (response.open) {
          response.done = true;
          res.cork(() => res.end(framing.error(error.code, error.message)));
        }
        return;
      }
      options.log.debug({ err: error.message }, 'WatchPresence refused');
      response.error(error);
    },
  );
}
