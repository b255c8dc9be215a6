/**
 * Buffered, batched inserts for high-volume events (usage, analytics, call events), with nothing lost:
 * one `insertMany` per batch instead of one `insertOne` per event, retried with backoff while the database
 * is away, bounded by back-pressure, and spilled to disk when the shutdown deadline comes first.
 *
 * @example
 * ```ts
 * const writer = new BatchWriter(db.collection("usage_events"), {
 *   name: "usage_events",
 *   ...config.batch.writers.usage_events,
 *   spillDir: ".data/spill",
 * });
 * writer.start();
 * await writer.recoverSpill();
 * lifecycle.add("flushers", writer.name, (deadline) => writer.close({ deadline: deadline - 500 }));
 * await writer.add({ route: "/api/entries", status: 200, at: new Date() });
 * ```
 * @module
 */
import type { Collection, Document } from "mongodb";
import { getLogger } from "../../log.ts";
import { redactText } from "../../redact.ts";
import { backoffDelayMs } from "../../backoff.ts";
import { type BatchSettings, DEFAULT_BATCH_SETTINGS } from "../../config.ts";
import { describeError as describe, type EventRefusal, sortInsertFailure } from "./outcome.ts";
import { type Pending, PendingEvents, prepareEvent as prepare } from "./queue.ts";
import { BatchCounters } from "./stats.ts";
import { keepRejected, writeSpillFile } from "./spill.ts";
import { recoverSpillFiles } from "./recovery.ts";
import { SpillOverflow } from "./overflow.ts";
import {
  assertWriterOptions,
  type BatchWriterOptions,
  type BatchWriterStats,
  type FlushReport,
  WriterClosedError,
} from "./types.ts";

export { type BatchSettings, DEFAULT_BATCH_SETTINGS } from "../../config.ts";
export {
  type BatchWriterOptions,
  type BatchWriterStats,
  type FlushReport,
  WriterClosedError,
  WriterFullError,
} from "./types.ts";

const log = getLogger(["db", "batch"]);

interface AttemptResult {
  written: Pending[];
  duplicates: number;
  retry: Pending[];
  refused: { pending: Pending; refusal: EventRefusal }[];
  error?: unknown;
}

/**
 * Writes events of one collection in batches. See the module docs for the lifecycle.
 *
 * Guarantees: `add()` never holds its caller: past `maxBuffer` the event goes to a spill file (and
 * `add()` resolves once it is on disk), and past `maxSpillBytes` too it is refused with `WriterFullError`,
 * so an event that `add()` accepted is never dropped. Spilled events are written once the database answers
 * again (and at the next start). Each event gets its
 * `_id` when added, so a batch retried after a lost reply or a partial failure writes no duplicate; only
 * one write is in flight at a time and every background write is awaited and its errors caught; what the
 * shutdown deadline leaves unwritten goes to a spill file that `recoverSpill()` writes at the next start.
 *
 * Failures: a failure of the whole batch (network, server selection, write concern) keeps every event, in
 * order, and retries with exponential backoff, for as long as it takes. A per-event refusal is retried only
 * when its code is transient; a duplicate key on `_id` counts as written; any other refusal (a duplicate on
 * another unique index whose `_id` is not in the collection, a validation error) can never succeed, so the
 * event is counted in `rejected`, logged, kept in a `-rejected-` file for an operator, and not retried.
 */
export class BatchWriter<T extends Record<string, unknown>> {
  /** The writer's name. */
  readonly name: string;
  /** The effective sizes and timing. */
  readonly settings: Readonly<BatchSettings>;
  readonly #collection: Collection<Document>;
  readonly #spillDir?: string;
  readonly #retry: { initialDelayMs: number; maxDelayMs: number };
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #onFlush?: (report: FlushReport) => void;
  readonly #events: PendingEvents;
  readonly #overflow: SpillOverflow;
  /** Spill files may be waiting to be written; set by every overflow, cleared by a recovery that ran dry. */
  #spillPending = true;
  #recovering: Promise<{ files: number; events: number }> | undefined;
  /** What the log last said about room: so a long outage logs once, not once per event. */
  #roomState: "ok" | "overflowing" | "refusing" = "ok";
  #checkedIncomplete = false;
  /** Events up to here are written even when they do not fill a batch. */
  #drainTarget = 0;
  #pump: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #backoff: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;
  #consecutiveFailures = 0;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;
  readonly #stats = new BatchCounters();

  /**
   * @throws {TypeError} for a bad name; {RangeError} for sizes that are not positive integers, or a
   *   batch larger than the buffer
   */
  constructor(collection: Collection<Document>, options: BatchWriterOptions) {
    const settings: BatchSettings = {
      maxBatch: options.maxBatch ?? DEFAULT_BATCH_SETTINGS.maxBatch,
      flushIntervalMs: options.flushIntervalMs ?? DEFAULT_BATCH_SETTINGS.flushIntervalMs,
      maxBuffer: options.maxBuffer ?? DEFAULT_BATCH_SETTINGS.maxBuffer,
      maxSpillBytes: options.maxSpillBytes ?? DEFAULT_BATCH_SETTINGS.maxSpillBytes,
    };
    assertWriterOptions(options.name, settings);
    this.name = options.name;
    this.settings = Object.freeze(settings);
    this.#collection = collection;
    this.#spillDir = options.spillDir;
    this.#retry = { initialDelayMs: 1_000, maxDelayMs: 30_000, ...options.retry };
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#onFlush = options.onFlush;
    this.#events = new PendingEvents(settings.maxBuffer);
    this.#overflow = new SpillOverflow(this.#spillDir, this.name, settings.maxSpillBytes, this.#now);
  }

  /** Starts the flush timer: a partial batch is written at least every `flushIntervalMs`. */
  start(): void {
    if (this.#state !== "open") throw new WriterClosedError(this.name);
    this.#timer ??= setInterval(() => this.#onInterval(), this.settings.flushIntervalMs);
  }

  /**
   * Hands an event to the writer. Resolves at once while memory has room (the write happens later, in a
   * batch); when `maxBuffer` events are held, resolves once the event is in a spill file. The event is
   * copied (shallowly) and given an `_id` unless it has one.
   *
   * @throws {WriterClosedError} once `close()` has begun
   * @throws {WriterFullError} when memory is full and the spill files hold `maxSpillBytes` (or cannot be
   *   written): the event is not taken, and the caller should say "retry later"
   * @throws {TypeError} when the event cannot be stored as BSON (a cycle, too large)
   */
  add(event: T): Promise<void> {
    if (this.#state !== "open") return Promise.reject(new WriterClosedError(this.name));
    let doc: Document;
    try {
      doc = prepare(event);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#events.hasRoom()) return this.#admit(doc);
    return this.#spillOver(doc);
  }

  /**
   * Writes everything added so far, not waiting for a batch to fill or for a backoff to end. Resolves when
   * those events are in the database (or refused for good, see the class docs); rejects with the error of
   * the first attempt that fails — the events stay buffered and the writer keeps retrying in the background.
   */
  flush(): Promise<void> {
    const target = this.#events.lastSeq;
    if (this.#events.oldestSeq() > target) return Promise.resolve();
    if (this.#isClosed()) return Promise.reject(new WriterClosedError(this.name));
    return this.#whenWritten(target, true);
  }

  /**
   * For the shutdown sequence: stops the timer, refuses new events, and writes what is buffered (retrying
   * as needed) until `deadline` (epoch ms, by the writer's clock). If the deadline comes first, the events
   * left — the batch in flight included, since its outcome is unknown — go to a spill file under `spillDir`,
   * and `close()` resolves. Calling it again returns the same promise.
   *
   * Pass a deadline a little before the shutdown's own, to leave time for the spill file and client close.
   *
   * @throws when the deadline passed with events left and no `spillDir`, or the spill file failed
   */
  close(options: { deadline: number }): Promise<void> {
    return this.#closing ??= this.#close(options.deadline);
  }

  /**
   * Reads this writer's spill files from `spillDir`, oldest first, adds their events back (keeping their
   * `_id`s, so an event that had in fact been written is not doubled), and deletes each file once its
   * events are written, until none is left. Call it once at start, after the client connects; the writer
   * calls it again itself once the database answers after events overflowed. A file that cannot be read is
   * logged and left in place; so are `.tmp` files left by a process that died while spilling.
   *
   * @returns how many files and events were recovered
   * @throws {WriterClosedError} when `close()` came first (the files stay for the next start)
   */
  recoverSpill(): Promise<{ files: number; events: number }> {
    return this.#recovering ??= this.#recover().finally(() => (this.#recovering = undefined));
  }

  async #recover(): Promise<{ files: number; events: number }> {
    if (this.#spillDir === undefined) return { files: 0, events: 0 };
    await this.#overflow.countExisting();
    const recovered = await recoverSpillFiles({
      name: this.name,
      dir: this.#spillDir,
      admit: (doc) => {
        if (this.#state !== "open") throw new WriterClosedError(this.name, "closed during spill recovery");
        return this.#admit(doc);
      },
      written: () => this.#whenWritten(this.#events.lastSeq, false),
      // Cleared before listing: a file that overflow writes after the listing sets it again.
      beforeListing: () => (this.#spillPending = false),
      removed: (path, events) => {
        this.#overflow.fileRemoved(path);
        this.#stats.recovered(events);
      },
    }, { warnIncomplete: !this.#checkedIncomplete });
    this.#checkedIncomplete = true;
    if (this.#roomState !== "ok" && !this.#spillPending) {
      this.#roomState = "ok";
      log.info("batch writer {writer}: back to normal, every spilled event is written", {
        writer: this.name,
      });
    }
    return recovered;
  }

  /** After a write succeeded: if events overflowed to disk, write them now that the database answers. */
  #recoverInBackground(): void {
    if (!this.#spillPending || this.#recovering || this.#state !== "open" || this.#spillDir === undefined) {
      return;
    }
    this.recoverSpill().catch((err) => {
      if (err instanceof WriterClosedError) return;
      log.error("batch writer {writer}: recovering spill files failed: {error}", {
        writer: this.name,
        error: describe(err),
      });
    });
  }

  /** Memory is full: the event goes to a spill file, or is refused when there is no room there either. */
  #spillOver(doc: Document): Promise<void> {
    this.#kick();
    return this.#overflow.add(doc).then(() => {
      this.#stats.spilled(1);
      this.#spillPending = true;
      if (this.#roomState !== "overflowing") {
        this.#roomState = "overflowing";
        log.warn("batch writer {writer}: {held} events in memory (the most it holds); new ones go to {dir}", {
          writer: this.name,
          held: this.#events.held,
          dir: this.#spillDir,
        });
      }
    }, (err) => {
      this.#stats.refused(1);
      if (this.#roomState !== "refusing") {
        this.#roomState = "refusing";
        log.error("batch writer {writer}: refusing events: {error}", {
          writer: this.name,
          error: describe(err),
        });
      }
      throw err;
    });
  }

  /** A snapshot of the writer's figures. */
  stats(): BatchWriterStats {
    return {
      name: this.name,
      buffered: this.#events.held,
      waiting: this.#events.waiting,
      spillBytes: this.#overflow.bytes,
      ...this.#stats.snapshot(),
    };
  }

  #admit(doc: Document): Promise<void> {
    const admitted = this.#events.admit(doc);
    // A full batch, or a full buffer (someone now waits): write without waiting for the timer.
    if (this.#events.queued >= this.settings.maxBatch || this.#events.waiting > 0) this.#kick();
    return admitted;
  }

  // A method, not a field comparison: the state changes across awaits, which TypeScript's narrowing ignores.
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #shouldWrite(): boolean {
    const head = this.#events.headSeq;
    if (head === undefined) return false;
    return this.#events.queued >= this.settings.maxBatch || head <= this.#drainTarget;
  }

  #onInterval(): void {
    if (this.#events.held === 0 && this.#events.waiting === 0) return;
    this.#drainTarget = Math.max(this.#drainTarget, this.#events.lastSeq);
    this.#kick();
  }

  #whenWritten(target: number, strict: boolean): Promise<void> {
    const written = this.#events.whenWritten(target, strict);
    this.#drainTarget = Math.max(this.#drainTarget, target);
    if (strict) this.#backoff?.wake();
    this.#kick();
    return written;
  }

  /** Starts the write loop unless it runs. Its promise never rejects and is awaited by `close()`. */
  #kick(): void {
    if (this.#pump || this.#isClosed()) return;
    this.#pump = this.#run().finally(() => {
      this.#pump = undefined;
      this.#events.admitWaiting();
      if (this.#shouldWrite()) this.#kick();
    });
  }

  async #run(): Promise<void> {
    try {
      while (!this.#isClosed()) {
        this.#events.admitWaiting();
        if (!this.#shouldWrite()) return;
        const failure = await this.#writeNextBatch();
        if (this.#isClosed()) return;
        this.#events.settle(failure?.error);
        if (failure) await this.#sleep(this.#backoffMs());
        else this.#recoverInBackground();
      }
    } catch (err) {
      // A bug, not a database failure: events stay buffered, and the loop pauses so a retry cannot spin.
      log.error("batch writer {writer}: write loop failed: {error}", {
        writer: this.name,
        error: err instanceof Error ? err.stack ?? err.message : String(err),
      });
      await this.#sleep(this.#retry.maxDelayMs);
    }
  }

  /** Writes the next batch; returns the failure when part of it must be retried after a backoff. */
  async #writeNextBatch(): Promise<{ error: unknown } | undefined> {
    const batch = this.#events.take(this.settings.maxBatch);
    const docs = batch.map((pending) => pending.doc);
    const started = performance.now();
    let result: AttemptResult;
    try {
      await this.#collection.insertMany(docs, { ordered: false });
      result = { written: batch, duplicates: 0, retry: [], refused: [] };
    } catch (err) {
      // Past the deadline the spill file holds these events; whatever happened to them no longer matters.
      if (this.#isClosed()) return undefined;
      const sorted = await sortInsertFailure(this.#collection, docs, err);
      result = {
        written: sorted.written.map((i) => batch[i]),
        duplicates: sorted.duplicates,
        retry: sorted.retry.map((i) => batch[i]),
        refused: sorted.refused.map((refusal) => ({ pending: batch[refusal.index], refusal })),
        error: sorted.error,
      };
    }
    if (this.#isClosed()) return undefined;
    this.#events.finish(result.retry);
    this.#record(batch.length, result, performance.now() - started);
    if (result.refused.length > 0) await this.#reportRefused(result.refused);
    return result.error !== undefined ? { error: result.error } : undefined;
  }

  #record(sent: number, result: AttemptResult, durationMs: number): void {
    const ok = result.error === undefined;
    const error = ok ? undefined : describe(result.error);
    this.#stats.attempt({
      written: result.written.length,
      duplicates: result.duplicates,
      refused: result.refused.length,
      durationMs,
      wasRetry: this.#consecutiveFailures > 0,
      error,
    }, this.#now());
    this.#consecutiveFailures = ok ? 0 : this.#consecutiveFailures + 1;
    if (!ok) {
      log.warn(
        "batch writer {writer}: write failed ({written} of {sent} written, {retry} kept for retry, " +
          "attempt {attempt}): {error}",
        {
          writer: this.name,
          written: result.written.length,
          sent,
          retry: result.retry.length,
          attempt: this.#consecutiveFailures,
          error,
        },
      );
    }
    try {
      this.#onFlush?.({ writer: this.name, events: sent, written: result.written.length, durationMs, ok });
    } catch (err) {
      log.error("batch writer {writer}: onFlush threw {error}", { writer: this.name, error: describe(err) });
    }
  }

  async #reportRefused(refused: AttemptResult["refused"]): Promise<void> {
    const entries = refused.map(({ pending, refusal }) => ({ event: pending.doc, ...refusal }));
    const kept = await keepRejected(this.#spillDir, this.name, entries, this.#now());
    log.error(
      "batch writer {writer}: the server refused {count} events for good, {kept}; first: code {code}: {message}",
      {
        writer: this.name,
        count: refused.length,
        kept,
        code: entries[0].code,
        message: redactText(entries[0].message),
      },
    );
  }

  /** The wait after the latest of `#consecutiveFailures` failed writes. */
  #backoffMs(): number {
    const backoff = { baseMs: this.#retry.initialDelayMs, maxMs: this.#retry.maxDelayMs };
    return backoffDelayMs(backoff, this.#consecutiveFailures, this.#random);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(this.#backoff?.timer);
        this.#backoff = undefined;
        resolve();
      };
      this.#backoff = { timer: setTimeout(wake, ms), wake };
    });
  }

  async #close(deadline: number): Promise<void> {
    this.#state = "closing";
    // Events on their way to a spill file were acknowledged once there: let those writes finish.
    await this.#overflow.idle();
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Never rejects: if the deadline wins, the waiter is failed by the spill, which is handled here.
    const drained = this.#whenWritten(this.#events.lastSeq, false).then(
      () => "drained" as const,
      () => "spilled" as const,
    );
    this.#backoff?.wake();
    let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      drained,
      new Promise<"deadline">((resolve) => {
        deadlineTimer = setTimeout(() => resolve("deadline"), Math.max(0, deadline - this.#now()));
      }),
    ]);
    clearTimeout(deadlineTimer);
    if (outcome === "drained") {
      this.#state = "closed";
      await this.#pump;
      log.info("batch writer {writer} closed: everything written", { writer: this.name });
      return;
    }
    await this.#spillRemaining();
  }

  async #spillRemaining(): Promise<void> {
    this.#state = "closed";
    this.#backoff?.wake();
    const { events, acknowledge } = this.#events.takeAll();
    let failure: Error | undefined;
    if (events.length > 0) {
      try {
        if (this.#spillDir === undefined) throw new Error("no spillDir is configured");
        const path = await writeSpillFile(this.#spillDir, this.name, events.map((p) => p.doc), this.#now());
        this.#stats.spilled(events.length);
        log.warn("batch writer {writer}: shutdown deadline reached; spilled {count} events to {path}", {
          writer: this.name,
          count: events.length,
          path,
        });
      } catch (err) {
        failure = new Error(
          `Batch writer ${this.name} lost ${events.length} events at shutdown: ${describe(err)}`,
        );
        log.error("{message}", { message: failure.message });
      }
    }
    acknowledge(
      failure,
      new WriterClosedError(this.name, "closed before these events were written (spilled)"),
    );
    if (failure) throw failure;
  }
}
