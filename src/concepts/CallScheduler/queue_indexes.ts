/**
 * The collections and indexes of CallScheduler's worker side: the unique key that allows one call per window
 * occurrence, the lease owner, and the occurrence claims that instances race for.
 *
 * @module
 */
import type { Db } from "mongodb";

/** Where the calls live (the same collection as `CallScheduler`'s). */
export const CALLS_COLLECTION = "CallScheduler.calls";
/** Where window occurrences are claimed, one document per occurrence (`_id` is the occurrence key). */
export const OCCURRENCES_COLLECTION = "CallScheduler.occurrences";
/** The unique index that allows at most one call per window occurrence. */
export const ONE_CALL_PER_OCCURRENCE_INDEX = "one_call_per_occurrence";

/**
 * Creates the worker side's indexes; idempotent. `CallScheduler.ensureIndexes` calls it, so every start
 * creates them before any worker ticks.
 */
export async function ensureQueueIndexes(db: Db): Promise<void> {
  const calls = db.collection(CALLS_COLLECTION);
  // Calls scheduled by hand carry no occurrence; only window calls take part in the uniqueness.
  await calls.createIndex({ occurrence: 1 }, {
    name: ONE_CALL_PER_OCCURRENCE_INDEX,
    unique: true,
    partialFilterExpression: { occurrence: { $exists: true } },
  });
  await calls.createIndex({ "lease.owner": 1 }, {
    name: "lease_owner",
    partialFilterExpression: { "lease.owner": { $exists: true } },
  });
  // Claims are kept a day past their window's end, long enough that no instance can still be deciding.
  await db.collection(OCCURRENCES_COLLECTION).createIndex({ expiresAt: 1 }, {
    name: "expiresAt_ttl",
    expireAfterSeconds: 0,
  });
}
