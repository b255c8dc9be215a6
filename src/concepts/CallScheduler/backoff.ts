/**
 * When a call that did not go through is tried again: exponential backoff with a cap and a little jitter.
 *
 * @module
 */

/** The backoff settings (`CALL_RETRY_BASE_MS`, `CALL_RETRY_MAX_MS`). */
export interface RetryBackoff {
  /** The wait after the first failed attempt. */
  baseMs: number;
  /** The longest wait, whatever the attempt. */
  maxMs: number;
}

/**
 * The wait before the attempt after `attempt` failed: `baseMs * 2^(attempt - 1)`, capped at `maxMs`, spread
 * by up to +-10% so that calls failed together are not retried in one burst. A provider's own `Retry-After`
 * wins when it asks for longer.
 *
 * @example
 * ```ts
 * retryDelayMs(3, { baseMs: 60_000, maxMs: 1_800_000 }, () => 0.5); // 240000
 * ```
 */
export function retryDelayMs(
  attempt: number,
  backoff: RetryBackoff,
  random: () => number = Math.random,
  retryAfterMs = 0,
): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  const spread = Math.round(exponential * (0.9 + 0.2 * random()));
  return Math.max(spread, retryAfterMs);
}
