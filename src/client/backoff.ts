export interface BackoffOptions {
  /** Upper bound of the first delay. @default 250 */
  readonly baseDelayMs?: number;
  /** No delay is longer than this. @default 30000 */
  readonly maxDelayMs?: number;
}

export const DEFAULT_BASE_DELAY_MS = 250;
export const DEFAULT_MAX_DELAY_MS = 30_000;

/**
 * Exponential backoff with full jitter: uniform in [0, min(max, base · 2^attempt)]. Full jitter
 * spreads the reconnects of thousands of browsers after a server restart instead of having them
 * arrive in waves.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  // Capping the exponent keeps 2^attempt finite however long the outage lasts.
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}
