/** A cancellable timer handle, whatever the clock behind it. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Time as the core sees it. Injected so tests can move time forward (token expiry, replay-window
 * age) without waiting minutes. Callbacks never fire synchronously inside `setTimer`.
 */
export interface Clock {
  nowMs(): number;
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

// setTimeout stores its delay in a 32-bit signed int; longer delays fire immediately.
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer(delayMs, callback) {
    let handle: NodeJS.Timeout;
    const deadline = Date.now() + delayMs;
    const arm = (ms: number): void => {
      handle = setTimeout(() => {
        const left = deadline - Date.now();
        if (left > 0) arm(left);
        else callback();
      }, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
      handle.unref();
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(handle) };
  },
};
