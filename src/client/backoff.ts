export interface BackoffOptions {
  /** Upper bound of the first delay. @default 250 */
  readonly baseDelayMs?: number;
  /** No delay is longer than this. @default 1000 */
  readonly maxDelayMs?: number;
}

export const DEFAULT_BASE_DELAY_MS = 250;
/**
 * Low on purpose: the cap bounds how long a client stays away after the network comes back, and a
 * failed attempt costs the server next to nothing (a refused connection, or a token check). A
 * terminal close code, not the backoff, is what stops a client whose token is no longer good.
 */
export const DEFAULT_MAX_DELAY_MS = 1000;

/**
 * Exponential backoff with full jitter: uniform in [0, min(max, base · 2^attempt)]. The first few
 * attempts are quick, later ones spread over the whole cap. Full jitter spreads the reconnects of
 * thousands of browsers after a server restart instead of having them arrive in waves.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  // Capping the exponent keeps 2^attempt finite however long the outage lasts.
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}
