/**
 * The pool's checkout waits as one bucketed series: constant memory and a constant-time record, so the
 * driver's event handlers stay cheap however busy the pool is. The monitor's windowed percentiles and the
 * Prometheus histogram (`db_client_connection_wait_time_seconds`) are both read from this one series.
 *
 * @module
 */

/**
 * Checkout-wait bucket bounds in milliseconds (the driver counts whole ms): 1-1.5-2-3-5-7 per decade up to
 * 10 s, then 15, 20, 30 and 60 s. Past the last is "+Inf".
 */
export const WAIT_BUCKETS_MS: readonly number[] = Object.freeze([
  0,
  ...[1, 10, 100, 1_000].flatMap((decade) => [1, 1.5, 2, 3, 5, 7].map((step) => step * decade)),
  10_000,
  15_000,
  20_000,
  30_000,
  60_000,
]);

/**
 * One label set's buckets, sum and count: what a Prometheus histogram exports. Per-bucket counts (not
 * cumulative); the last slot is +Inf.
 *
 * @example
 * ```ts
 * const waits = new HistogramSeries(WAIT_BUCKETS_MS);
 * waits.observe(3);
 * waits.counts[waits.bucketOf(3)]; // 1
 * ```
 */
export class HistogramSeries {
  /** Upper bounds, ascending. */
  readonly bounds: readonly number[];
  readonly labels: Record<string, string>;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[], labels: Record<string, string> = {}) {
    this.bounds = bounds;
    this.labels = labels;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Adds one value. */
  observe(value: number): void {
    this.counts[this.bucketOf(value)]++;
    this.sum += value;
    this.count++;
  }

  /** The first bucket whose bound is at least `value` (binary search); `bounds.length` is +Inf. */
  bucketOf(value: number): number {
    const bounds = this.bounds;
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bounds[mid] >= value) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}

/**
 * Percentiles of a series over a recent window (the current and the previous interval), without keeping
 * values: at each `rotate()` it remembers the series' counts, and a window is the difference.
 *
 * @example
 * ```ts
 * const recent = new WindowedPercentiles(waits);
 * recent.percentile(0.99); // over everything since the rotation before last
 * recent.rotate();
 * ```
 */
export class WindowedPercentiles {
  readonly #series: HistogramSeries;
  /** The series' counts at the rotation before last: the window starts there. */
  #windowStart: Float64Array;
  /** The series' counts at the last rotation. */
  #lastRotation: Float64Array;

  constructor(series: HistogramSeries) {
    this.#series = series;
    this.#windowStart = new Float64Array(series.counts.length);
    this.#lastRotation = new Float64Array(series.counts.length);
  }

  /** Starts a new interval; the oldest one leaves the window. */
  rotate(): void {
    const reused = this.#windowStart;
    this.#windowStart = this.#lastRotation;
    reused.set(this.#series.counts);
    this.#lastRotation = reused;
  }

  /** The `q` quantile (0..1) of the window, as a bucket upper bound (the last bound for "+Inf"); 0 when empty. */
  percentile(q: number): number {
    const { counts, bounds } = this.#series;
    const start = this.#windowStart;
    let total = 0;
    for (let i = 0; i < counts.length; i++) total += counts[i] - start[i];
    if (total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i] - start[i];
      if (seen >= rank) return bounds[Math.min(i, bounds.length - 1)];
    }
    return bounds[bounds.length - 1];
  }
}
