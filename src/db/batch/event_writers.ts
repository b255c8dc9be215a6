/**
 * The app's three event streams, each behind a `BatchWriter` on the shared pool: usage (one event per API
 * request), analytics (`POST /api/analytics/track`) and the workers' call events.
 *
 * @module
 */
import type { Db } from "mongodb";
import { batchSettingsFromEnv, BatchWriter, type BatchWriterStats, type FlushReport } from "./writer.ts";

/** Where spilled events wait for the next start, unless `BATCH_SPILL_DIR` says otherwise (under `.data/`). */
export const DEFAULT_SPILL_DIR = ".data/spill";

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
 * Makes the writers for `usage_events`, `analytics_events` and `call_events`, with settings from
 * `BATCH_<NAME>_MAX_BATCH`, `_FLUSH_INTERVAL_MS` and `_MAX_BUFFER` (a bad value is a `ConfigError`), spilling
 * to `BATCH_SPILL_DIR`.
 *
 * @example
 * ```ts
 * const writers = createEventWriters(db, config.env, { retry: config.retry });
 * for (const writer of writers.all) writer.start();
 * ```
 */
export function createEventWriters(
  db: Db,
  env: Readonly<Record<string, string | undefined>>,
  options: EventWritersOptions,
): EventWriters {
  const make = (name: string): AnyWriter =>
    new BatchWriter(db.collection(name), {
      name,
      ...batchSettingsFromEnv(name, env),
      spillDir: env.BATCH_SPILL_DIR || DEFAULT_SPILL_DIR,
      retry: options.retry,
      onFlush: options.onFlush,
    });
  const usage = make("usage_events");
  const analytics = make("analytics_events");
  const callEvents = make("call_events");
  const all = [usage, analytics, callEvents];
  return { usage, analytics, callEvents, all, stats: () => all.map((w) => w.stats()) };
}
