/**
 * A fixed-bucket histogram for the hot path of every database operation, exported through a `prom-client`
 * registry like any other metric.
 *
 * Why not `prom-client`'s `Histogram`: its `observe()` validates and hashes the labels on every call, about
 * 1 µs; three observations per query (checkout wait, connection use, command duration) came to 2% of the
 * client's CPU per query, most of what monitoring itself cost. Here a series is resolved once and an
 * observation is a binary search and three additions.
 *
 * @module
 */
import type { Metric, Registry } from "prom-client";

/** One label set's buckets, sum and count. */
export class HistogramSeries {
  readonly labels: Record<string, string>;
  readonly #bounds: readonly number[];
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[], labels: Record<string, string>) {
    this.#bounds = bounds;
    this.labels = labels;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Adds one value. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bounds[mid] >= value) high = mid;
      else low = mid + 1;
    }
    this.counts[low]++;
    this.sum += value;
    this.count++;
  }
}

/** Name, help, bucket bounds and the optional single label of a `FastHistogram`. */
export interface FastHistogramConfig {
  name: string;
  help: string;
  buckets: number[];
  /** The one label this histogram is split by, if any. */
  labelName?: string;
}

/**
 * A histogram registered on `registry`, read by it at scrape time in the same text format as prom-client's.
 *
 * @example
 * ```ts
 * const wait = new FastHistogram(registry, { name: "x_wait_seconds", help: "...", buckets: [0.01, 0.1, 1] });
 * wait.observe(0.02);
 * const find = new FastHistogram(registry, { ...config, labelName: "op" }).series("find");
 * find.observe(0.003);
 * ```
 */
export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #labelName: string | undefined;
  #series = new Map<string, HistogramSeries>();
  #unlabeled: HistogramSeries | undefined;

  constructor(registry: Registry, config: FastHistogramConfig) {
    this.name = config.name;
    this.help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    this.#labelName = config.labelName;
    // The registry only reads name, help, type, aggregator, get() and reset() of what it holds.
    registry.registerMetric(this as unknown as Metric);
  }

  /** Adds one value to the unlabeled series. */
  observe(value: number): void {
    (this.#unlabeled ??= this.series("")).observe(value);
  }

  /** The series for one label value, made on first use; keep it to skip the lookup. */
  series(labelValue: string): HistogramSeries {
    let series = this.#series.get(labelValue);
    if (!series) {
      series = new HistogramSeries(this.#bounds, this.#labelName ? { [this.#labelName]: labelValue } : {});
      this.#series.set(labelValue, series);
    }
    return series;
  }

  /** Drops every series (prom-client's `registry.resetMetrics()` calls this). */
  reset(): void {
    this.#series = new Map();
    this.#unlabeled = undefined;
  }

  /** The values in prom-client's shape: cumulative `_bucket` per bound and +Inf, then `_sum` and `_count`. */
  get(): Promise<{
    name: string;
    help: string;
    type: "histogram";
    aggregator: "sum";
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  }> {
    const values = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += series.counts[i];
        const le = i < this.#bounds.length ? this.#bounds[i] : "+Inf";
        values.push({
          labels: { ...series.labels, le },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
