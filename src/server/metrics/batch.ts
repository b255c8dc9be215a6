/**
 * The batch writers' figures on the metrics registry.
 *
 * @module
 */
import { Histogram, type Registry } from "prom-client";
import type { BatchWriterStats, FlushReport } from "../../db/mod.ts";
import { scrapedCounter, scrapedGauge } from "./collect.ts";

const COUNTED = [
  "flushed",
  "batches",
  "failures",
  "retries",
  "rejected",
  "spilled",
  "refused",
  "recovered",
] as const;

/**
 * Registers gauges (buffered, waiting, spill bytes), counters (flushed, batches, failures, retries,
 * rejected, spilled, refused, recovered) per writer, and a flush-duration histogram; returns the `onFlush` hook that feeds the histogram.
 */
export function registerBatchMetrics(
  registry: Registry,
  stats: () => BatchWriterStats[],
): (report: FlushReport) => void {
  const labelNames = ["writer"];
  scrapedGauge(registry, {
    name: "zien_batch_buffered_events",
    help: "Events held in memory by a batch writer, queued or in flight.",
    labelNames,
  }, (g) => stats().forEach((s) => g.set({ writer: s.name }, s.buffered)));
  scrapedGauge(registry, {
    name: "zien_batch_waiting_adds",
    help: "Spilled events waiting for room in memory to be written again.",
    labelNames,
  }, (g) => stats().forEach((s) => g.set({ writer: s.name }, s.waiting)));
  scrapedGauge(registry, {
    name: "zien_batch_spill_bytes",
    help: "Bytes a batch writer keeps in spill files (events that overflowed memory, or left at shutdown).",
    labelNames,
  }, (g) => stats().forEach((s) => g.set({ writer: s.name }, s.spillBytes)));
  for (const field of COUNTED) {
    scrapedCounter(registry, {
      name: `zien_batch_${field}_total`,
      help: `Batch writer ${field} since start (events; write calls for batches, failures and retries; ` +
        "refused: events turned away with memory and spill files full).",
      labelNames,
    }, (c) => stats().forEach((s) => c.inc({ writer: s.name }, s[field])));
  }
  const durations = new Histogram({
    name: "zien_batch_flush_duration_seconds",
    help: "Duration of batch writes (one insertMany each), by writer and outcome.",
    labelNames: ["writer", "outcome"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (report) =>
    durations.observe(
      { writer: report.writer, outcome: report.ok ? "ok" : "failed" },
      report.durationMs / 1000,
    );
}
