import type { ChannelMessage, Epoch, StreamPosition } from '../core/types.js';
import type { HistoryResult } from './engine.js';

/** A channel's or topic's stored history, as an engine read it. */
export interface StoredHistory {
  readonly epoch: Epoch;
  /** The last seq ever appended in this epoch (messages up to it may have left the window). */
  readonly lastSeq: number;
  /** The messages still kept and inside the replay window, oldest first. */
  readonly kept: readonly ChannelMessage[];
}

/**
 * The one recovery rule both engines follow: what a socket gets from `since` (a resume), or, on a
 * fresh open, from the last seq its client acknowledged. A position the stored history cannot
 * honour (another epoch, beyond the last seq — history that went backwards — or older than the
 * oldest message kept) gets every kept message and `recovered: false`; never a silent gap.
 */
export function recover(stored: StoredHistory, since: StreamPosition | undefined, ackedSeq = 0): HistoryResult {
  const { epoch, lastSeq, kept } = stored;
  const oldest = kept.length > 0 ? kept[0]!.seq - 1 : lastSeq;
  const continuesFrom = (seq: number): boolean => seq <= lastSeq && (seq === lastSeq || seq >= oldest);
  if (since === undefined) {
    // A fresh open is never "not recovered": what it missed before acknowledging is not a gap.
    const from = continuesFrom(ackedSeq) ? ackedSeq : oldest;
    return { epoch, fromSeq: from, messages: kept.filter((m) => m.seq > from), recovered: true };
  }
  if (since.epoch === epoch && continuesFrom(since.seq)) {
    return { epoch, fromSeq: since.seq, messages: kept.filter((m) => m.seq > since.seq), recovered: true };
  }
  return { epoch, fromSeq: oldest, messages: kept, recovered: false };
}
