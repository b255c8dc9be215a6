/**
 * CallScheduler's worker side: calls claimed with a lease, placed, moved forward by the provider's callbacks,
 * retried or failed, and recovered when their lease runs out. Every change is one atomic update whose filter
 * names the state it expects (the status, the attempt, the lease), so instances racing for the same call
 * cannot both win, and a callback that arrives twice or late changes nothing.
 *
 * The life of a call: PENDING (`nextAttemptAt` = when to place it) -> claimed: IN_PROGRESS, `attempts + 1`,
 * `lease` = this instance until `now + leaseMs`, and `nextAttemptAt` = the same deadline -> placed: the
 * provider's id recorded, the deadline renewed -> every callback that shows progress, and the placing
 * instance's heartbeat while the call is alive, renews the deadline -> COMPLETED, or back to PENDING with
 * backoff, or FAILED. An IN_PROGRESS call whose deadline passes (its instance died, a callback was lost) is
 * held while it may still ring (`holdExpired`), then recovered by any instance as a failed attempt.
 *
 * @module
 */
import type { Collection, Db, Filter } from "mongodb";
import { type Clock, type ConceptOptions, systemClock } from "../common.ts";
import { type CallDoc, type CallTransition, transitionCall } from "./call_scheduler.ts";
import { CALLS_COLLECTION } from "./queue_indexes.ts";

/** Options of the worker side. */
export interface CallQueueOptions extends ConceptOptions {
  /** How long a claim, and then each sign of progress, keeps a call from being recovered (`CALL_LEASE_MS`). */
  leaseMs: number;
}

/** Identifies one attempt of one call: callbacks carry both, so a late one from an earlier attempt is ignored. */
export interface CallAttempt {
  call: string;
  attempt: number;
}

/**
 * CallScheduler's worker side over the concept's collection: the same documents (`CallDoc`) and the same
 * status rules (`transitionCall`); made by the call runtime, which needs the lease settings.
 *
 * @example
 * ```ts
 * const queue = new CallQueue(db, { leaseMs: 120_000 });
 * const call = await queue.claimDueCall({ owner: appName });
 * if (call) await queue.recordPlacement({ call: call._id, attempt: call.attempts, owner: appName, providerCallId });
 * ```
 */
export class CallQueue {
  /** How long a claim or a sign of progress holds a call. */
  readonly leaseMs: number;
  readonly #queue: Collection<CallDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: CallQueueOptions) {
    if (!(options.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${options.leaseMs}`);
    this.leaseMs = options.leaseMs;
    this.#queue = db.collection<CallDoc>(CALLS_COLLECTION);
    this.#now = options.now ?? systemClock;
  }

  #deadline(now: Date): Date {
    return new Date(now.getTime() + this.leaseMs);
  }

  #transition(change: CallTransition): Promise<CallDoc | null> {
    return transitionCall(this.#queue, this.#now(), change);
  }

  /**
   * Claims the most overdue PENDING call for `owner`, atomically: IN_PROGRESS, one more attempt, leased until
   * `now + leaseMs`. Null when nothing is due.
   */
  async claimDueCall(input: { owner: string }): Promise<CallDoc | null> {
    const now = this.#now();
    const deadline = this.#deadline(now);
    return await this.#queue.findOneAndUpdate(
      { status: "PENDING", nextAttemptAt: { $lte: now } },
      {
        $set: {
          status: "IN_PROGRESS",
          active: true,
          lease: { owner: input.owner, expiresAt: deadline },
          nextAttemptAt: deadline,
          attemptStartedAt: now,
          providerCallId: null,
          providerStatus: null,
          providerStatusRank: -1,
          updatedAt: now,
        },
        $inc: { attempts: 1 },
      },
      { sort: { nextAttemptAt: 1 }, returnDocument: "after" },
    );
  }

  /** Records that the provider accepted the attempt, and renews its lease. False if the attempt is over. */
  async recordPlacement(input: CallAttempt & { owner: string; providerCallId: string }): Promise<boolean> {
    const now = this.#now();
    const deadline = this.#deadline(now);
    const result = await this.#queue.updateOne(
      { _id: input.call, attempts: input.attempt, status: "IN_PROGRESS" },
      {
        $set: {
          providerCallId: input.providerCallId,
          lease: { owner: input.owner, expiresAt: deadline },
          nextAttemptAt: deadline,
          // Placed by now: its ring timeout counts from here, not from the claim.
          attemptStartedAt: now,
          updatedAt: now,
        },
      },
    );
    return result.matchedCount === 1;
  }

  /**
   * Moves the attempt's provider status forward to `providerStatus` (of rank `rank`) and renews the deadline.
   * Returns the call after the change, or null when the status is not an advance (a repeat, a late callback,
   * another attempt's, another provider call's): statuses never go backwards, and of two identical callbacks
   * exactly one gets a call back.
   */
  async recordProgress(
    input: CallAttempt & { providerStatus: string; rank: number; providerCallId: string },
  ): Promise<CallDoc | null> {
    const now = this.#now();
    return await this.#queue.findOneAndUpdate(
      {
        _id: input.call,
        attempts: input.attempt,
        status: "IN_PROGRESS",
        providerStatusRank: { $lt: input.rank },
        providerCallId: { $in: [null, input.providerCallId] },
      },
      {
        $set: {
          providerStatus: input.providerStatus,
          providerStatusRank: input.rank,
          providerCallId: input.providerCallId,
          nextAttemptAt: this.#deadline(now),
          updatedAt: now,
        },
      },
      { returnDocument: "after" },
    );
  }

  /**
   * The heartbeat of the instance that placed `attempts`, whose calls its provider says are still alive:
   * renews their leases, so a call that rings or talks longer than the lease is never recovered under it.
   */
  async renewLeases(input: { owner: string; attempts: readonly CallAttempt[] }): Promise<number> {
    if (input.attempts.length === 0) return 0;
    const now = this.#now();
    const deadline = this.#deadline(now);
    const result = await this.#queue.updateMany(
      { $or: input.attempts.map((a) => ({ _id: a.call, attempts: a.attempt })), status: "IN_PROGRESS" },
      {
        $set: { lease: { owner: input.owner, expiresAt: deadline }, nextAttemptAt: deadline, updatedAt: now },
      },
    );
    return result.modifiedCount;
  }

  /**
   * Keeps an attempt whose deadline passed by `expiredBy` IN_PROGRESS until `until`, because it may still
   * be ringing (recovery found it alive, or could not tell). False if it moved meanwhile.
   */
  async holdExpired(input: CallAttempt & { expiredBy: Date; until: Date }): Promise<boolean> {
    const result = await this.#queue.updateOne(
      { ...this.#attemptFilter(input), _id: input.call, status: "IN_PROGRESS" },
      { $set: { nextAttemptAt: input.until, updatedAt: this.#now() } },
    );
    return result.modifiedCount === 1;
  }

  /**
   * Renews the deadline of an attempt in progress (a transcript arrived) and returns the call, or null when the
   * attempt is over.
   */
  async touch(input: CallAttempt): Promise<CallDoc | null> {
    const now = this.#now();
    return await this.#queue.findOneAndUpdate(
      { _id: input.call, attempts: input.attempt, status: "IN_PROGRESS" },
      { $set: { nextAttemptAt: this.#deadline(now), updatedAt: now } },
      { returnDocument: "after" },
    );
  }

  /**
   * Puts a failed attempt back to PENDING, due at `nextAttemptAt`. With `expiredBy`, only if the attempt's
   * deadline has passed by then (lease recovery must not take a call that just showed progress).
   */
  async recordRetry(
    input: CallAttempt & { nextAttemptAt: Date; error: string; expiredBy?: Date },
  ): Promise<CallDoc | null> {
    const set: Partial<CallDoc> = {
      nextAttemptAt: input.nextAttemptAt,
      lease: null,
      lastError: input.error,
    };
    return await this.#transition({
      call: input.call,
      from: ["IN_PROGRESS"],
      to: "PENDING",
      where: this.#attemptFilter(input),
      set,
    });
  }

  /** Fails the call for good (retries exhausted, or an error retrying cannot fix). Null if the attempt is over. */
  async recordFinalFailure(
    input: CallAttempt & { error: string; expiredBy?: Date },
  ): Promise<CallDoc | null> {
    const set: Partial<CallDoc> = { lastError: input.error };
    return await this.#transition({
      call: input.call,
      from: ["IN_PROGRESS"],
      to: "FAILED",
      where: this.#attemptFilter(input),
      set,
    });
  }

  /** Completes the call. Null if the attempt is over (already completed, retried or failed). */
  async recordCompleted(input: CallAttempt): Promise<CallDoc | null> {
    return await this.#transition({
      call: input.call,
      from: ["IN_PROGRESS"],
      to: "COMPLETED",
      where: { attempts: input.attempt },
    });
  }

  /**
   * Gives back one claim that was never placed (the provider was closed): PENDING again at once, and the
   * attempt does not count.
   */
  async releaseClaim(input: CallAttempt & { owner: string }): Promise<boolean> {
    const now = this.#now();
    const result = await this.#queue.updateOne(
      {
        _id: input.call,
        attempts: input.attempt,
        status: "IN_PROGRESS",
        providerCallId: null,
        "lease.owner": input.owner,
      },
      {
        $set: { status: "PENDING", active: true, lease: null, nextAttemptAt: now, updatedAt: now },
        $inc: { attempts: -1 },
      },
    );
    return result.modifiedCount === 1;
  }

  /**
   * Releases every lease `owner` still holds, at a graceful stop. Claims never placed go back to PENDING at
   * once without counting the attempt; placed calls stay IN_PROGRESS with their deadline, owned by nobody:
   * their callbacks reach any instance, and if none come, any instance recovers them.
   */
  async releaseLeases(input: { owner: string }): Promise<{ requeued: number; released: number }> {
    const now = this.#now();
    const mine = { status: "IN_PROGRESS", "lease.owner": input.owner } as const;
    const requeued = await this.#queue.updateMany(
      { ...mine, providerCallId: null },
      {
        $set: { status: "PENDING", active: true, lease: null, nextAttemptAt: now, updatedAt: now },
        $inc: { attempts: -1 },
      },
    );
    const released = await this.#queue.updateMany(
      { ...mine, providerCallId: { $ne: null } },
      { $set: { lease: null, updatedAt: now } },
    );
    return { requeued: requeued.modifiedCount, released: released.modifiedCount };
  }

  /** IN_PROGRESS calls whose deadline has passed, most overdue first. */
  async _getExpiredCalls(input: { limit: number }): Promise<CallDoc[]> {
    return await this.#queue.find(
      { status: "IN_PROGRESS", nextAttemptAt: { $lte: this.#now() } },
      { sort: { nextAttemptAt: 1 }, limit: input.limit },
    ).toArray();
  }

  /** A call as stored, for the call flow (never for a person: it carries the lease). */
  async _getCall(input: { call: string }): Promise<CallDoc | null> {
    return await this.#queue.findOne({ _id: input.call });
  }

  /** Of `users`, those with a PENDING or IN_PROGRESS call (one query, on the one-active-call index). */
  async _getUsersWithActiveCalls(input: { users: readonly string[] }): Promise<string[]> {
    const docs = await this.#queue.find(
      { user: { $in: [...input.users] }, active: true },
      { projection: { _id: 0, user: 1 }, batchSize: input.users.length },
    ).toArray();
    return docs.map((doc) => doc.user);
  }

  /** Of `occurrences`, those that already have a call, with its status (one query, on the occurrence index). */
  async _getScheduledOccurrences(
    input: { occurrences: readonly string[] },
  ): Promise<{ occurrence: string; status: CallDoc["status"] }[]> {
    const docs = await this.#queue.find(
      { occurrence: { $in: [...input.occurrences] } },
      { projection: { _id: 0, occurrence: 1, status: 1 }, batchSize: input.occurrences.length },
    ).toArray();
    return docs.flatMap((doc) =>
      doc.occurrence === undefined ? [] : [{ occurrence: doc.occurrence, status: doc.status }]
    );
  }

  #attemptFilter(input: CallAttempt & { expiredBy?: Date }): Filter<CallDoc> {
    return input.expiredBy === undefined
      ? { attempts: input.attempt }
      : { attempts: input.attempt, nextAttemptAt: { $lte: input.expiredBy } };
  }
}
