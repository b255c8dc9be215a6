/**
 * What an `insertMany(batch, { ordered: false })` that threw means for each event of the batch: written,
 * to retry, or refused for good.
 *
 * Every event carries its own `_id` from the moment it was added, so "retry when in doubt" is always safe:
 * an event that was in fact written comes back as a duplicate-key error on `_id`, which counts as written.
 *
 * @module
 */
import { type Collection, type Document, MongoBulkWriteError, MongoError } from "mongodb";
import { BSON, EJSON } from "bson";
import { redactText } from "../../redact.ts";

/** A per-event refusal from the server. */
export interface EventRefusal {
  /** The position in the batch. */
  index: number;
  code: number;
  message: string;
}

/** The fate of each event of one failed `insertMany`, by position in the batch. */
export interface InsertOutcome {
  /** Confirmed in the database, duplicates on `_id` included. */
  written: number[];
  /** Of `written`: the ones that were already there (a duplicate-key error on `_id`). */
  duplicates: number[];
  /** Not known to be written: write them again. */
  retry: number[];
  /** Duplicate keys on an index other than `_id`: written only if a document with its `_id` exists. */
  verify: EventRefusal[];
  /** Refused for a reason that a retry will not change. */
  refused: EventRefusal[];
  /** Why the batch (or part of it) must be retried after a backoff; undefined when `retry` can go at once. */
  transientError?: unknown;
}

/** Server codes that, on a single statement, mean "try again later" rather than "never". */
const TRANSIENT_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  24, // LockTimeout
  46, // LockBusy
  50, // MaxTimeMSExpired
  63, // StaleShardVersion
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  133, // FailedToSatisfyReadPreference
  150, // StaleEpoch
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13388, // StaleConfig
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  64, // WriteConcernFailed
]);

const DUPLICATE_KEY_CODES = new Set([11000, 11001, 12582]);

// mongod (and the devdb) word it "... index: _id_ dup key: { ... }"; the driver drops keyPattern.
const ID_INDEX = / index: _id_ /;

/**
 * Sorts the events of a batch of `size` after `insertMany` threw `error`.
 *
 * - Not a bulk write error, a write-concern error, or counts that do not add up (the driver stopped
 *   between sub-batches): everything not explicitly refused is retried.
 * - Duplicate key on `_id`: written (an earlier attempt, or an earlier process, wrote it).
 * - Duplicate key on another unique index: to verify by `_id` (it may be our own earlier write).
 * - A transient code: retried. Any other code: refused for good.
 */
export function classifyInsertError(size: number, error: unknown): InsertOutcome {
  const outcome: InsertOutcome = { written: [], duplicates: [], retry: [], verify: [], refused: [] };
  const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
  const byIndex = new Map<number, EventRefusal>();
  for (const writeError of writeErrors) {
    const index = writeError.index;
    if (Number.isInteger(index) && index >= 0 && index < size) {
      byIndex.set(index, { index, code: writeError.code, message: writeError.errmsg ?? "write error" });
    }
  }
  const bulk = error instanceof MongoBulkWriteError ? error : undefined;
  const complete = bulk !== undefined && byIndex.size > 0 && !hasWriteConcernError(bulk) &&
    bulk.result?.insertedCount + byIndex.size === size;
  for (let index = 0; index < size; index++) {
    const refusal = byIndex.get(index);
    if (!refusal) {
      (complete ? outcome.written : outcome.retry).push(index);
    } else if (DUPLICATE_KEY_CODES.has(refusal.code)) {
      if (ID_INDEX.test(refusal.message)) {
        outcome.written.push(index);
        outcome.duplicates.push(index);
      } else outcome.verify.push(refusal);
    } else if (TRANSIENT_CODES.has(refusal.code)) {
      outcome.retry.push(index);
    } else outcome.refused.push(refusal);
  }
  if (outcome.retry.length > 0) outcome.transientError = error;
  return outcome;
}

function hasWriteConcernError(error: MongoBulkWriteError): boolean {
  const errors = error.result?.getWriteConcernError?.();
  return errors !== undefined || (error as { writeConcernError?: unknown }).writeConcernError !== undefined;
}

/** The fate of each event of a failed attempt once duplicates on other indexes have been looked up. */
export interface SortedOutcome {
  /** Positions confirmed in the database. */
  written: number[];
  /** How many of `written` were already there. */
  duplicates: number;
  /** Positions to write again, ascending. */
  retry: number[];
  refused: EventRefusal[];
  /** Why some must be retried after a backoff; undefined when the retry can go at once. */
  error?: unknown;
}

/**
 * Sorts a failed `insertMany` of `docs` (see {@linkcode classifyInsertError}), then settles duplicates on
 * other unique indexes by looking their `_id`s up: found means an earlier attempt wrote the event; not
 * found means it conflicts with another document for good. A failed lookup sends them to retry.
 */
export async function sortInsertFailure(
  collection: Collection<Document>,
  docs: readonly Document[],
  error: unknown,
): Promise<SortedOutcome> {
  const outcome = classifyInsertError(docs.length, error);
  if (!(error instanceof MongoError)) refuseUnserializable(docs, outcome);
  const sorted: SortedOutcome = {
    written: outcome.written,
    duplicates: outcome.duplicates.length,
    retry: outcome.retry,
    refused: outcome.refused,
    error: outcome.transientError,
  };
  if (outcome.verify.length === 0) return sorted;
  try {
    const ids = outcome.verify.map((refusal) => docs[refusal.index]._id);
    const found = await collection.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray();
    const present = new Set(found.map((doc) => EJSON.stringify(doc._id)));
    for (const refusal of outcome.verify) {
      if (present.has(EJSON.stringify(docs[refusal.index]._id))) {
        sorted.written.push(refusal.index);
        sorted.duplicates++;
      } else sorted.refused.push(refusal);
    }
  } catch (lookupError) {
    sorted.retry.push(...outcome.verify.map((refusal) => refusal.index));
    sorted.retry.sort((a, b) => a - b);
    sorted.error ??= lookupError;
  }
  return sorted;
}

/**
 * A client-side failure (not from the server) may come from one event that can no longer be serialized,
 * e.g. mutated by its caller after `add()`: refuse such events so they cannot block every retry.
 */
function refuseUnserializable(docs: readonly Document[], outcome: InsertOutcome): void {
  outcome.retry = outcome.retry.filter((index) => {
    try {
      BSON.serialize(docs[index]);
      return true;
    } catch (err) {
      outcome.refused.push({ index, code: 0, message: `cannot be serialized: ${(err as Error).message}` });
      return false;
    }
  });
  // The poison is out and the rest was never sent (serialization comes first): retry them at once.
  if (outcome.refused.some((refusal) => refusal.code === 0)) outcome.transientError = undefined;
}

/** An error as one redacted line: `Name: message`. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return redactText(`${err.name}: ${err.message}`);
  return redactText(String(err));
}
