export type Listener<E> = (event: E) => void;

/**
 * Rethrows a listener's exception in a task of its own: the browser reports it as usual, and one
 * broken listener cannot leave the protocol state half updated or starve the other listeners.
 */
export function reportLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}

/** A minimal typed event emitter; `M` maps event names to event payloads. */
export class Emitter<M> {
  private readonly listeners: { [K in keyof M]?: Set<Listener<M[K]>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners[type];
    if (set === undefined) {
      set = new Set();
      this.listeners[type] = set;
    }
    set.add(listener);
    return () => this.off(type, listener);
  }

  off<K extends keyof M>(type: K, listener: Listener<M[K]>): void {
    this.listeners[type]?.delete(listener);
  }

  emit<K extends keyof M>(type: K, event: M[K]): void {
    const set = this.listeners[type];
    if (set === undefined) return;
    // A copy, so listeners that add or remove listeners do not disturb this round.
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        reportLater(error);
      }
    }
  }
}
