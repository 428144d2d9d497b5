import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ChannelError } from '../core/errors.js';
import type { StreamSink, StreamWatcher } from '../core/stream-watcher.js';
import { toGrpcStatus } from './status.js';

/**
 * Serves a watch (presence, receipts, a topic's presence) on a server stream: items go out with the stream's
 * backpressure, the watcher ends when the call does, and a refusal is the call's status.
 */
export function serveWatch<Item, Response>(
  call: ServerWritableStream<unknown, Response>,
  start: (sink: StreamSink<Item>) => Promise<StreamWatcher<Item>>,
  unwatch: (watcher: StreamWatcher<Item>) => void,
  toResponse: (item: Item) => Response,
  log: Logger,
): void {
  let ended = false;
  const finish = (error?: ChannelError): void => {
    if (ended) return;
    ended = true;
    if (error === undefined) call.end();
    else call.emit('error', toGrpcStatus(error));
  };
  const sink: StreamSink<Item> = {
    write: (item) => !ended && call.write(toResponse(item)),
    onDrain: (cb) => call.once('drain', cb),
    end: finish,
  };
  let watching: Promise<StreamWatcher<Item>>;
  try {
    watching = start(sink);
  } catch (err) {
    watching = Promise.reject(err);
  }
  watching.then(
    (watcher) => {
      const stop = (): void => {
        unwatch(watcher);
        watcher.end();
      };
      if (call.cancelled || ended) stop();
      call.on('cancelled', stop);
      call.on('close', stop);
    },
    (err: unknown) => {
      log.debug({ err, method: call.getPath() }, 'watch refused');
      ended = true;
      call.emit('error', toGrpcStatus(err));
    },
  );
}
