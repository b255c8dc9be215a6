/**
 * A batch writer's counters: what `stats()` reports and `/metrics` exposes.
 *
 * @module
 */
import type { BatchWriterStats } from "./types.ts";

/** The outcome of one write attempt, for the counters. */
export interface AttemptCounts {
  written: number;
  duplicates: number;
  refused: number;
  durationMs: number;
  /** The attempt followed a failure. */
  wasRetry: boolean;
  /** Why the attempt failed; set, it counts as a failure (retried after a backoff). */
  error?: string;
}

type Counters = Omit<BatchWriterStats, "name" | "buffered" | "waiting" | "spillBytes">;

/** Counters that only grow, plus the last flush and the last error. */
export class BatchCounters {
  readonly #counters: Counters = {
    flushed: 0,
    duplicates: 0,
    batches: 0,
    failures: 0,
    retries: 0,
    rejected: 0,
    spilled: 0,
    refused: 0,
    recovered: 0,
    flushDurationMs: { last: 0, max: 0, total: 0, count: 0 },
  };

  /** Counts one `insertMany` call; `at` is the clock's time when it ended. */
  attempt(counts: AttemptCounts, at: number): void {
    const c = this.#counters;
    c.batches++;
    if (counts.wasRetry) c.retries++;
    c.flushed += counts.written;
    c.duplicates += counts.duplicates;
    c.rejected += counts.refused;
    const durations = c.flushDurationMs;
    durations.last = counts.durationMs;
    durations.max = Math.max(durations.max, counts.durationMs);
    durations.total += counts.durationMs;
    durations.count++;
    if (counts.error === undefined) {
      c.lastFlushMs = at;
    } else {
      c.failures++;
      c.lastError = counts.error;
    }
  }

  /** Counts events written to a spill file. */
  spilled(events: number): void {
    this.#counters.spilled += events;
  }

  /** Counts events refused at `add()` for want of room. */
  refused(events: number): void {
    this.#counters.refused += events;
  }

  /** Counts events read back from a spill file. */
  recovered(events: number): void {
    this.#counters.recovered += events;
  }

  /** A copy of the counters. */
  snapshot(): Counters {
    return { ...this.#counters, flushDurationMs: { ...this.#counters.flushDurationMs } };
  }
}
