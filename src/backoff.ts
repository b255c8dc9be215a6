/**
 * The one backoff: exponential growth with a cap, spread by jitter so that things that failed (or started)
 * together do not retry (or tick) in one burst. Connecting at start, a call's next attempt and a worker's
 * next tick all take their waits from here.
 *
 * @module
 */

/** How a wait grows and spreads. */
export interface Backoff {
  /** The wait for the first attempt (attempt 1). */
  baseMs: number;
  /** The longest wait before jitter, whatever the attempt. */
  maxMs: number;
  /** Spread as a fraction: 0.1 gives 90% to 110% of the wait. @default 0.1 */
  jitter?: number;
  /** Growth per attempt; 1 makes a fixed, jittered interval. @default 2 */
  factor?: number;
}

/**
 * The wait for `attempt` (1-based): `baseMs * factor^(attempt - 1)`, capped at `maxMs`, then spread by
 * ±`jitter`. A peer's own `Retry-After` wins when it asks for longer.
 *
 * @example
 * ```ts
 * backoffDelayMs({ baseMs: 60_000, maxMs: 1_800_000 }, 3, () => 0.5); // 240000
 * backoffDelayMs({ baseMs: 1000, maxMs: 1000, factor: 1, jitter: 0.2 }, 7, () => 1); // 1200
 * ```
 */
export function backoffDelayMs(
  backoff: Backoff,
  attempt: number,
  random: () => number = Math.random,
  retryAfterMs = 0,
): number {
  const factor = backoff.factor ?? 2;
  const jitter = backoff.jitter ?? 0.1;
  const grown = Math.min(backoff.maxMs, backoff.baseMs * factor ** Math.max(0, attempt - 1));
  const spread = Math.max(0, Math.round(grown * (1 - jitter + 2 * jitter * random())));
  return Math.max(spread, retryAfterMs);
}
