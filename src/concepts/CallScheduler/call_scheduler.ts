/**
 * CallScheduler: the calls Zien places, their statuses, and the rule that a person has at most one active
 * (PENDING or IN_PROGRESS) call, which the database enforces with a unique partial index.
 *
 * The worker side (`CallQueue`: claiming due calls, leases, retries) shares the collection, the document type
 * and `transitionCall()` with this concept.
 *
 * @module
 */
import type { Collection, Db, Filter, UpdateFilter } from "mongodb";
import type { z } from "zod";
import { type Clock, type ConceptOptions, newId, systemClock } from "../common.ts";
import { ConceptError, isDuplicateKeyError } from "../errors.ts";
import type { CallStatus } from "./schemas.ts";
import { CALLS_COLLECTION, ensureQueueIndexes, ONE_CALL_PER_OCCURRENCE_INDEX } from "./queue_indexes.ts";

/** A call status. */
export type CallStatusValue = z.infer<typeof CallStatus>;

/** The statuses that make a call active; `active` on the document mirrors membership here. */
export const ACTIVE_STATUSES: ReadonlySet<CallStatusValue> = new Set(["PENDING", "IN_PROGRESS"]);

/**
 * Where each status may go. IN_PROGRESS back to PENDING is a retry after a failed placement; COMPLETED,
 * FAILED and CANCELLED are final.
 */
export const LEGAL_TRANSITIONS: Readonly<Record<CallStatusValue, readonly CallStatusValue[]>> = {
  PENDING: ["IN_PROGRESS", "FAILED", "CANCELLED"],
  IN_PROGRESS: ["PENDING", "COMPLETED", "FAILED"],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

/** Which instance holds a call while it places it, and until when. */
export interface CallLease {
  owner: string;
  expiresAt: Date;
}

/** A call as stored in `CallScheduler.calls`. */
export interface CallDoc {
  _id: string;
  user: string;
  reflectionSession: string;
  phoneNumber: string;
  scheduledFor: Date;
  status: CallStatusValue;
  /** True exactly while the status is PENDING or IN_PROGRESS: the unique partial index keys on it. */
  active: boolean;
  /** Placements tried so far. */
  attempts: number;
  /** When the next placement is due; the scheduler worker claims PENDING calls by it. */
  nextAttemptAt: Date;
  lease: CallLease | null;
  /** The telephony provider's id for the current placement. */
  providerCallId: string | null;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
  /** For calls made from a call window: `<user>:<window>:<local date>`, unique among calls. */
  occurrence?: string;
  /**
   * When the current attempt was claimed, then when its placement was recorded: it may ring until then plus
   * the provider's ring timeout.
   */
  attemptStartedAt?: Date | null;
  /** The provider's last status for the current attempt (Twilio's `CallStatus`), null before any. */
  providerStatus?: string | null;
  /** The rank of `providerStatus`; a callback must beat it to change anything. -1 before any. */
  providerStatusRank?: number;
  /** Why the last attempt did not go through. */
  lastError?: string | null;
}

/** A call as the queries return it: no lease or provider internals. */
export type CallView = Pick<
  CallDoc,
  | "_id"
  | "reflectionSession"
  | "phoneNumber"
  | "scheduledFor"
  | "status"
  | "attempts"
  | "nextAttemptAt"
  | "createdAt"
  | "updatedAt"
  | "endedAt"
>;

const VIEW = {
  _id: 1,
  reflectionSession: 1,
  phoneNumber: 1,
  scheduledFor: 1,
  status: 1,
  attempts: 1,
  nextAttemptAt: 1,
  createdAt: 1,
  updatedAt: 1,
  endedAt: 1,
} as const;
/** The index that allows one active call per person. */
export const ONE_ACTIVE_CALL_INDEX = "one_active_call_per_user";
const PAST_TOLERANCE_MS = 5 * 60 * 1000;
const MAX_AHEAD_MS = 366 * 24 * 60 * 60 * 1000;

/** A status change as `transition()` takes it. */
export interface CallTransition {
  call: string;
  /** The statuses the call may be in now; if it is in none of them, nothing changes. */
  from: readonly CallStatusValue[];
  to: CallStatusValue;
  /** Only this person's call (for actions a person takes). */
  user?: string;
  /** Further conditions, e.g. on the lease. */
  where?: Filter<CallDoc>;
  /** Further changes made in the same atomic update. */
  set?: Partial<Omit<CallDoc, "_id" | "user" | "status" | "active">>;
  inc?: { attempts?: number };
}

/** What `scheduleOccurrenceCall` did. */
export type OccurrenceCallResult =
  | { call: string }
  /** The person already has a PENDING or IN_PROGRESS call, or this occurrence already has its call. */
  | { conflict: "active_call" | "occurrence_taken" };

/** The CallScheduler concept. Collection: `CallScheduler.calls`. */
export class CallScheduler {
  readonly #calls: Collection<CallDoc>;
  readonly #now: Clock;
  readonly #db: Db;

  constructor(db: Db, options: ConceptOptions = {}) {
    this.#calls = db.collection<CallDoc>(CALLS_COLLECTION);
    this.#now = options.now ?? systemClock;
    this.#db = db;
  }

  /** `_countOutcomes`: one person's calls that ended COMPLETED and FAILED (all people's when no user). */
  async _countOutcomes(input: { user?: string }): Promise<{ completed: number; failed: number }[]> {
    const match = input.user === undefined
      ? { status: { $in: ["COMPLETED", "FAILED"] } }
      : { user: input.user, status: { $in: ["COMPLETED", "FAILED"] } };
    const groups = await this.#calls.aggregate<{ _id: string; n: number }>([
      { $match: match },
      { $group: { _id: "$status", n: { $sum: 1 } } },
    ]).toArray();
    const count = (status: string) => groups.find((g) => g._id === status)?.n ?? 0;
    return [{ completed: count("COMPLETED"), failed: count("FAILED") }];
  }

  /** Creates this concept's indexes; safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.#calls.createIndex({ user: 1 }, {
      name: ONE_ACTIVE_CALL_INDEX,
      unique: true,
      partialFilterExpression: { active: true },
    });
    await this.#calls.createIndex({ status: 1, nextAttemptAt: 1 }, { name: "status_nextAttemptAt" });
    await this.#calls.createIndex({ user: 1, createdAt: -1 }, { name: "user_createdAt" });
    // The worker side's: one call per window occurrence, lease release, occurrence claims.
    await ensureQueueIndexes(this.#db);
  }

  /**
   * Schedules a call to `phoneNumber` (from the person's profile) for a reflection session. Refuses
   * (`conflict`) when the person already has a PENDING or IN_PROGRESS call: the unique index decides, so
   * two racing requests cannot both win.
   */
  async scheduleCall(
    input: { user: string; reflectionSession: string; phoneNumber: string; scheduledFor: string | Date },
  ): Promise<{ call: string }> {
    const now = this.#now();
    const when = new Date(input.scheduledFor);
    if (Number.isNaN(when.getTime())) {
      throw new ConceptError("invalid", "scheduledFor is not a valid instant.");
    }
    if (when.getTime() < now.getTime() - PAST_TOLERANCE_MS) {
      throw new ConceptError("invalid", "scheduledFor is in the past.");
    }
    if (when.getTime() > now.getTime() + MAX_AHEAD_MS) {
      throw new ConceptError("invalid", "scheduledFor is more than a year away.");
    }
    const doc: CallDoc = {
      _id: newId(),
      user: input.user,
      reflectionSession: input.reflectionSession,
      phoneNumber: input.phoneNumber,
      scheduledFor: when,
      status: "PENDING",
      active: true,
      attempts: 0,
      nextAttemptAt: when,
      lease: null,
      providerCallId: null,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
    };
    try {
      await this.#calls.insertOne(doc);
    } catch (err) {
      if (isDuplicateKeyError(err, ONE_ACTIVE_CALL_INDEX)) {
        throw new ConceptError(
          "conflict",
          "You already have a call that is pending or in progress; cancel it or wait for it to finish.",
        );
      }
      throw err;
    }
    return { call: doc._id };
  }

  /**
   * Schedules the call for one window occurrence (the call-window tick), like `scheduleCall` plus the
   * occurrence. The database refuses a second call for the occurrence and a second active call for the
   * person, so three instances deciding at once make one call.
   */
  async scheduleOccurrenceCall(input: {
    user: string;
    reflectionSession: string;
    phoneNumber: string;
    occurrence: string;
    scheduledFor: Date;
  }): Promise<OccurrenceCallResult> {
    const now = this.#now();
    const doc: CallDoc = {
      _id: newId(),
      user: input.user,
      reflectionSession: input.reflectionSession,
      phoneNumber: input.phoneNumber,
      scheduledFor: input.scheduledFor,
      status: "PENDING",
      active: true,
      attempts: 0,
      nextAttemptAt: input.scheduledFor,
      lease: null,
      providerCallId: null,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
      occurrence: input.occurrence,
    };
    try {
      await this.#calls.insertOne(doc);
    } catch (err) {
      if (isDuplicateKeyError(err, ONE_CALL_PER_OCCURRENCE_INDEX)) return { conflict: "occurrence_taken" };
      if (isDuplicateKeyError(err, ONE_ACTIVE_CALL_INDEX)) return { conflict: "active_call" };
      throw err;
    }
    return { call: doc._id };
  }

  /** Cancels one of the person's calls that is still PENDING. */
  async cancelCall(input: { user: string; call: string }): Promise<{ call: string }> {
    const done = await this.transition({
      call: input.call,
      user: input.user,
      from: ["PENDING"],
      to: "CANCELLED",
    });
    if (!done) {
      const [call] = await this._getScheduledCall(input);
      throw new ConceptError("conflict", `This call cannot be cancelled: it is ${describe(call.status)}.`);
    }
    return { call: input.call };
  }

  /** The person's PENDING or IN_PROGRESS calls (at most one). */
  async _getActiveCallsForUser(input: { user: string }): Promise<CallView[]> {
    return await this.#calls.find({ user: input.user, active: true }, { projection: VIEW }).toArray();
  }

  /** One of the person's calls; refuses (`not_found`) anyone else's. */
  async _getScheduledCall(input: { user: string; call: string }): Promise<CallView[]> {
    const doc = await this.#calls.findOne({ _id: input.call, user: input.user }, { projection: VIEW });
    if (!doc) throw new ConceptError("not_found", "There is no such call.");
    return [doc];
  }

  /** `transitionCall` on this concept's collection. */
  async transition(change: CallTransition): Promise<CallDoc | null> {
    return await transitionCall(this.#calls, this.#now(), change);
  }
}

/**
 * Moves a call from one of `from` to `to` in one atomic update, keeping `active` in step with the status.
 * Returns the call after the change, or null when it was not in `from` (or did not match `user`/`where`).
 * Throws on a transition `LEGAL_TRANSITIONS` does not allow; a move to an active status can meet the
 * one-active-call index like `scheduleCall` does. Shared by the concept and the worker side (`CallQueue`).
 */
export async function transitionCall(
  calls: Collection<CallDoc>,
  now: Date,
  change: CallTransition,
): Promise<CallDoc | null> {
  const illegal = change.from.find((status) => !LEGAL_TRANSITIONS[status].includes(change.to));
  if (illegal) throw new Error(`illegal call transition ${illegal} -> ${change.to}`);
  const final = !ACTIVE_STATUSES.has(change.to);
  const filter: Filter<CallDoc> = { ...change.where, _id: change.call, status: { $in: [...change.from] } };
  if (change.user !== undefined) filter.user = change.user;
  const update: UpdateFilter<CallDoc> = {
    $set: {
      ...change.set,
      status: change.to,
      active: !final,
      updatedAt: now,
      ...(final ? { endedAt: now, lease: null } : {}),
    },
  };
  if (change.inc) update.$inc = change.inc;
  return await calls.findOneAndUpdate(filter, update, { returnDocument: "after" });
}

function describe(status: CallStatusValue): string {
  return status === "IN_PROGRESS" ? "in progress" : status.toLowerCase();
}
