/**
 * Fixed-bucket latency histogram for the pool monitor's wait-time percentiles: constant memory and a
 * constant-time record, so the driver's event handlers stay cheap however busy the pool is.
 *
 * @module
 */

/** Bucket upper bounds in milliseconds: 1-1.5-2-3-5-7 per decade from 0 up to 60 s (the driver counts whole ms). */
export const WAIT_BUCKETS_MS: readonly number[] = (() => {
  const bounds = [0];
  for (let decade = 1; decade <= 10_000; decade *= 10) {
    for (const step of [1, 1.5, 2, 3, 5, 7]) bounds.push(step * decade);
  }
  bounds.push(60_000);
  return bounds;
})();

/**
 * Counts values in `WAIT_BUCKETS_MS` buckets, over two rotating windows (current and previous) so that
 * percentiles describe recent behaviour without keeping individual values.
 *
 * @example
 * ```ts
 * const h = new WindowedHistogram();
 * h.record(3);
 * h.percentile(0.99); // 3
 * h.rotate(); // the current window becomes the previous one
 * ```
 */
export class WindowedHistogram {
  #current = new Float64Array(WAIT_BUCKETS_MS.length + 1);
  #previous = new Float64Array(WAIT_BUCKETS_MS.length + 1);

  /** Adds one value (milliseconds). */
  record(ms: number): void {
    this.#current[bucketIndex(ms)]++;
  }

  /** Starts a new window; the one before it is dropped. */
  rotate(): void {
    const dropped = this.#previous;
    this.#previous = this.#current;
    dropped.fill(0);
    this.#current = dropped;
  }

  /** The `q` quantile (0..1) of both windows, as a bucket upper bound (60000 means "60 s or more"); 0 when empty. */
  percentile(q: number): number {
    let count = 0;
    for (let i = 0; i < this.#current.length; i++) count += this.#current[i] + this.#previous[i];
    if (count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * count));
    let seen = 0;
    for (let i = 0; i < this.#current.length; i++) {
      seen += this.#current[i] + this.#previous[i];
      if (seen >= rank) return WAIT_BUCKETS_MS[Math.min(i, WAIT_BUCKETS_MS.length - 1)];
    }
    return WAIT_BUCKETS_MS[WAIT_BUCKETS_MS.length - 1];
  }
}

/** The first bucket whose bound is at least `ms` (binary search over a few dozen bounds). */
function bucketIndex(ms: number): number {
  let low = 0;
  let high = WAIT_BUCKETS_MS.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (WAIT_BUCKETS_MS[mid] >= ms) high = mid;
    else low = mid + 1;
  }
  return low;
}
