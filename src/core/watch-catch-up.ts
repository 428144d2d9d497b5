import { ChannelError, ErrorCode } from './errors.js';
import type { StreamWatcher } from './stream-watcher.js';

/**
 * The engine's feed may have lost events (its connection to Redis came back): every watcher that
 * has started holds its live items, reads back what came after its cursor, and goes on from
 * there, so nothing is missed and nothing is sent twice. A watcher whose events are no longer
 * all kept is ended with its cursor instead: resuming from it says what was lost.
 */
export function catchUpWatchers<Item, Event>(
  watchers: Iterable<StreamWatcher<Item>>,
  since: (cursor: string) => Promise<readonly Event[] | undefined>,
  toItems: (watcher: StreamWatcher<Item>, events: readonly Event[]) => Item[],
  what: string,
): void {
  for (const watcher of [...watchers]) {
    if (watcher.isEnded || !watcher.started) continue;
    const cursor = watcher.cursor;
    watcher.hold();
    const lost = (): void =>
      watcher.end(new ChannelError(ErrorCode.Unavailable, `${what} may have been missed while the feed was interrupted; resume with cursor "${cursor}"`));
    since(cursor).then(
      (events) => {
        if (events === undefined) lost();
        else watcher.begin(toItems(watcher, events), cursor);
      },
      lost,
    );
  }
}
