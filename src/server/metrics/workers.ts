/**
 * Worker metrics: each periodic worker's ticks, failures, whether it runs, its last tick, and the call
 * leases it holds, read from the workers' statuses at scrape time.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { scrapedCounter, scrapedGauge } from "./collect.ts";

/**
 * A worker's state as health output and metrics show it. Declared here, not imported: `workers/` and
 * `server/` do not import each other, and `PeriodicWorker.status()` has this shape.
 */
export interface WorkerStatus {
  name: string;
  running: boolean;
  /** Epoch milliseconds when the last tick started, or null before the first. */
  lastTickAt: number | null;
  lastDurationMs: number | null;
  ticks: number;
  failures: number;
  lastError: string | null;
  /** The call leases this instance holds now, for a worker that takes them; absent for the others. */
  leasesHeld?: number;
}

/** What the metrics read of a worker. */
export type WorkerMetricsStatus = Pick<
  WorkerStatus,
  "name" | "running" | "lastTickAt" | "lastDurationMs" | "ticks" | "failures" | "leasesHeld"
>;

/** Registers the worker metrics, labelled `worker="<name>"`. */
export function registerWorkerMetrics(registry: Registry, statuses: () => WorkerMetricsStatus[]): void {
  const labelNames = ["worker"];
  scrapedGauge(registry, {
    name: "zien_worker_running",
    help: "1 while the worker is started, 0 once stopped.",
    labelNames,
  }, (g) => {
    for (const s of statuses()) g.set({ worker: s.name }, s.running ? 1 : 0);
  });
  scrapedCounter(registry, {
    name: "zien_worker_ticks_total",
    help: "Ticks the worker has run, failed ones included.",
    labelNames,
  }, (c) => {
    for (const s of statuses()) c.inc({ worker: s.name }, s.ticks);
  });
  scrapedCounter(
    registry,
    { name: "zien_worker_failures_total", help: "Ticks that threw.", labelNames },
    (c) => {
      for (const s of statuses()) c.inc({ worker: s.name }, s.failures);
    },
  );
  scrapedGauge(registry, {
    name: "zien_worker_last_tick_timestamp_seconds",
    help: "When the last tick started, in Unix seconds; absent before the first.",
    labelNames,
  }, (g) => {
    for (const s of statuses()) if (s.lastTickAt !== null) g.set({ worker: s.name }, s.lastTickAt / 1000);
  });
  scrapedGauge(registry, {
    name: "zien_worker_last_tick_duration_seconds",
    help: "How long the last finished tick took; absent before the first.",
    labelNames,
  }, (g) => {
    for (const s of statuses()) {
      if (s.lastDurationMs !== null) g.set({ worker: s.name }, s.lastDurationMs / 1000);
    }
  });
  scrapedGauge(registry, {
    name: "zien_calls_leases_held",
    help: "Call leases this instance holds now (claimed or placed, not yet ended, released or lapsed).",
    labelNames,
  }, (g) => {
    for (const s of statuses()) if (s.leasesHeld !== undefined) g.set({ worker: s.name }, s.leasesHeld);
  });
}
