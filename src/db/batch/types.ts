/**
 * The public shapes of a batch writer: its options, its figures, its errors.
 *
 * @module
 */
import { BATCH_LIMITS, type BatchSettings } from "../../config.ts";

/** How one writer behaves. Sizes and timing default to `DEFAULT_BATCH_SETTINGS` (50 / 30 s / 10000). */
export interface BatchWriterOptions extends Partial<BatchSettings> {
  /** Names the writer in logs, metrics and spill files: letters, digits, underscores. */
  name: string;
  /**
   * Where events go when memory is full, and what `close()` could not write (e.g. `.data/spill`). Without
   * it, a full writer refuses events, and what the shutdown deadline leaves is lost.
   */
  spillDir?: string;
  /** Backoff after a failed write: exponential from `initialDelayMs`, capped at `maxDelayMs`, with jitter. */
  retry?: { initialDelayMs: number; maxDelayMs: number };
  /** The clock, epoch ms: deadlines, spill file names, `lastFlushMs`. */
  now?: () => number;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Called after every write attempt, e.g. to feed a flush-duration histogram. Must not throw. */
  onFlush?: (report: FlushReport) => void;
}

/** One write attempt, as `onFlush` sees it. */
export interface FlushReport {
  writer: string;
  /** Events sent. */
  events: number;
  /** Of those, confirmed in the database. */
  written: number;
  durationMs: number;
  /** False when the attempt failed: part of the batch is retried after a backoff. */
  ok: boolean;
}

/** A writer's figures for `/metrics` and the health output. Counters only grow. */
export interface BatchWriterStats {
  name: string;
  /** Events held in memory: queued plus in flight. */
  buffered: number;
  /** Spilled events waiting for room in memory to be written (recovery). */
  waiting: number;
  /** Bytes this writer keeps in spill files, within `maxSpillBytes`. */
  spillBytes: number;
  /** Events confirmed in the database (duplicates on `_id` included: they were there). */
  flushed: number;
  /** Of `flushed`: events found already written (a retry after a lost reply, or a recovered spill). */
  duplicates: number;
  /** `insertMany` calls made. */
  batches: number;
  /** Calls that failed in whole or in part for a reason worth retrying. */
  failures: number;
  /** Calls that were retries after a failure. */
  retries: number;
  /** Events the server refused for good (logged and kept in a `-rejected-` file under `spillDir`). */
  rejected: number;
  /** Events written to spill files: overflow while memory was full, and what was left at close. */
  spilled: number;
  /** Events refused at `add()` because memory and the spill files were full. */
  refused: number;
  /** Events read back from spill files. */
  recovered: number;
  /** When the last write that needed no retry finished (epoch ms); undefined before the first. */
  lastFlushMs?: number;
  /** Write durations in milliseconds: the last, the longest, their sum and count (for a mean or a rate). */
  flushDurationMs: { last: number; max: number; total: number; count: number };
  /** The last failure, redacted. */
  lastError?: string;
}

/** `add()` after `close()` began, or a flush whose events were spilled instead of written. */
export class WriterClosedError extends Error {
  constructor(writer: string, detail = "is closed") {
    super(`Batch writer ${writer} ${detail}`);
    this.name = "WriterClosedError";
  }
}

/**
 * No room left for an event, in memory or on disk: the caller refuses it (503 with Retry-After for an event
 * that would be acknowledged) rather than holding its request until the database is back.
 */
export class WriterFullError extends Error {
  constructor(writer: string, detail: string) {
    super(`Batch writer ${writer} cannot take more events: ${detail}`);
    this.name = "WriterFullError";
  }
}

const WRITER_NAME = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Checks the settings given in code: a name usable in a file name, sizes within `BATCH_LIMITS`, and a batch
 * no larger than the buffer. (The environment's values were checked by `loadConfig`.)
 *
 * @throws {TypeError} for a bad name; {RangeError} naming the setting and what is allowed
 */
export function assertWriterOptions(name: string, settings: BatchSettings): void {
  if (!WRITER_NAME.test(name)) {
    throw new TypeError(
      `Batch writer name ${JSON.stringify(name)} must be 1-64 letters, digits or underscores`,
    );
  }
  for (const key of ["maxBatch", "flushIntervalMs", "maxBuffer", "maxSpillBytes"] as const) {
    const value = settings[key];
    const min = key === "maxSpillBytes" ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min || value > BATCH_LIMITS[key]) {
      throw new RangeError(
        `Batch writer ${key}=${value}: expected an integer from ${min} to ${BATCH_LIMITS[key]}`,
      );
    }
  }
  if (settings.maxBatch > settings.maxBuffer) {
    throw new RangeError(
      `Batch writer maxBatch=${settings.maxBatch}: expected at most maxBuffer (${settings.maxBuffer})`,
    );
  }
}
