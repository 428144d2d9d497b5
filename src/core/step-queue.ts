/**
 * Runs asynchronous steps one at a time, in the order they were queued. A session keeps one per
 * stream (its channel, each topic), so engine reads of one stream never interleave and a slow
 * read of one topic does not hold the others. A step that throws is reported and the next runs.
 */
export class StepQueue {
  private tail: Promise<void> = Promise.resolve();

  run(step: () => Promise<void> | void, onError: (err: unknown) => void): Promise<void> {
    const next = this.tail.then(step).catch((err: unknown) => {
      // The queue must go on whatever the handler does.
      try {
        onError(err);
      } catch {
        // nothing more to do
      }
    });
    this.tail = next;
    return next;
  }

  /** Settles once every step queued so far has run. */
  get idle(): Promise<void> {
    return this.tail;
  }
}
