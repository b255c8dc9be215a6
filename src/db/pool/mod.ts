/**
 * Watching the one connection pool: live figures, history, warnings, and the checkout-wait histogram.
 *
 * @example
 * ```ts
 * import { PoolMonitor } from "./db/pool/mod.ts";
 * const monitor = new PoolMonitor(client, { maxPoolSize: 10, leakThresholdMs: 30_000, logIntervalMs: 60_000 });
 * monitor.start();
 * ```
 * @module
 */
export * from "./monitor.ts";
export { HistogramSeries, WAIT_BUCKETS_MS, WindowedPercentiles } from "./histogram.ts";
