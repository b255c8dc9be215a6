/**
 * The app's three event streams, each behind a `BatchWriter` on the shared pool: usage (one event per API
 * request), analytics (`POST /api/analytics/track`) and the workers' call events.
 *
 * @module
 */
import type { Db } from "mongodb";
import type { BatchConfig, BatchWriterName } from "../../config.ts";
import { BatchWriter, type BatchWriterStats, type FlushReport } from "./writer.ts";

// deno-lint-ignore no-explicit-any -- each stream has its own event shape
type AnyWriter = BatchWriter<any>;

/** The writers by the stream they carry. */
export interface EventWriters {
  usage: AnyWriter;
  analytics: AnyWriter;
  callEvents: AnyWriter;
  all: AnyWriter[];
  stats(): BatchWriterStats[];
}

/** How the writers retry and report. */
export interface EventWritersOptions {
  retry: { initialDelayMs: number; maxDelayMs: number };
  onFlush?: (report: FlushReport) => void;
}

/**
 * Makes the writers for `usage_events`, `analytics_events` and `call_events`, each with its settings from
 * the configuration (`BATCH_<NAME>_*`), spilling to `BATCH_SPILL_DIR`.
 *
 * @example
 * ```ts
 * const writers = createEventWriters(db, config.batch, { retry: config.retry });
 * for (const writer of writers.all) writer.start();
 * ```
 */
export function createEventWriters(
  db: Db,
  batch: BatchConfig,
  options: EventWritersOptions,
): EventWriters {
  const make = (name: BatchWriterName): AnyWriter =>
    new BatchWriter(db.collection(name), {
      name,
      ...batch.writers[name],
      spillDir: batch.spillDir,
      retry: options.retry,
      onFlush: options.onFlush,
    });
  const usage = make("usage_events");
  const analytics = make("analytics_events");
  const callEvents = make("call_events");
  const all = [usage, analytics, callEvents];
  return { usage, analytics, callEvents, all, stats: () => all.map((w) => w.stats()) };
}
