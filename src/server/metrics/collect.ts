/**
 * Metrics whose values are read from elsewhere at scrape time rather than updated as things happen.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";

/** Name, help and labels of a scraped metric. */
export interface ScrapedMetric {
  name: string;
  help: string;
  labelNames?: string[];
}

/**
 * A gauge filled by `fill` on every scrape, after a reset (so label sets that disappeared are dropped).
 *
 * @example
 * ```ts
 * scrapedGauge(registry, { name: "zien_queue_length", help: "Items queued." }, (g) => g.set(queue.length));
 * ```
 */
export function scrapedGauge(registry: Registry, metric: ScrapedMetric, fill: (gauge: Gauge) => void): Gauge {
  return new Gauge({
    ...metric,
    labelNames: metric.labelNames ?? [],
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

/**
 * A counter mirroring a cumulative count kept elsewhere: reset and set to `fill`'s increments on every
 * scrape. Its name must end in `_total`.
 *
 * @example
 * ```ts
 * scrapedCounter(registry, { name: "zien_jobs_done_total", help: "Jobs done." }, (c) => c.inc(jobs.done));
 * ```
 */
export function scrapedCounter(
  registry: Registry,
  metric: ScrapedMetric,
  fill: (counter: Counter) => void,
): Counter {
  return new Counter({
    ...metric,
    labelNames: metric.labelNames ?? [],
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}
