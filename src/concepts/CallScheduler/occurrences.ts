/**
 * Claims on window occurrences: before an instance starts a reflection and schedules the call for one
 * occurrence of a person's window, it inserts the occurrence's claim, whose `_id` is the occurrence key. Of
 * several instances deciding at once, one insert succeeds; the others do nothing, so no session is started
 * twice. The call itself is also unique per occurrence (`one_call_per_occurrence`), so even a claim taken
 * over from an instance thought dead cannot make a second call.
 *
 * @module
 */
import type { Collection, Db, MongoBulkWriteError } from "mongodb";
import { type Clock, systemClock } from "../common.ts";
import { OCCURRENCES_COLLECTION } from "./queue_indexes.ts";

interface ClaimDoc {
  /** The occurrence key: `<user>:<window>:<local date>`. */
  _id: string;
  user: string;
  owner: string;
  claimedAt: Date;
  /** When the claim may be forgotten (TTL): a day after the occurrence ends. */
  expiresAt: Date;
}

/** A claim as `_getClaims` returns it. */
export interface OccurrenceClaim {
  occurrence: string;
  owner: string;
  claimedAt: Date;
}

/** One occurrence to claim. */
export interface OccurrenceToClaim {
  occurrence: string;
  user: string;
  /** When the occurrence's window ends. */
  endsAt: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The occurrence claims. Collection: `CallScheduler.occurrences` (indexes made by `CallScheduler`). */
export class OccurrenceClaims {
  readonly #claims: Collection<ClaimDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: { now?: Clock } = {}) {
    this.#claims = db.collection<ClaimDoc>(OCCURRENCES_COLLECTION);
    this.#now = options.now ?? systemClock;
  }

  /**
   * Claims each occurrence for `owner` in one unordered insert; returns the ones won. An occurrence someone
   * else holds is simply not won.
   */
  async claim(input: { owner: string; occurrences: readonly OccurrenceToClaim[] }): Promise<Set<string>> {
    if (input.occurrences.length === 0) return new Set();
    const now = this.#now();
    const docs: ClaimDoc[] = input.occurrences.map((o) => ({
      _id: o.occurrence,
      user: o.user,
      owner: input.owner,
      claimedAt: now,
      expiresAt: new Date(o.endsAt.getTime() + DAY_MS),
    }));
    const won = new Set(docs.map((doc) => doc._id));
    try {
      await this.#claims.insertMany(docs, { ordered: false });
    } catch (err) {
      const writeErrors = duplicateOnly(err);
      for (const { index } of writeErrors) won.delete(docs[index]._id);
    }
    return won;
  }

  /**
   * Takes over a claim whose holder has not scheduled its call since before `staleBefore` (it died between
   * the claim and the call). True when this caller now holds it.
   */
  async takeOver(input: { owner: string; occurrence: string; staleBefore: Date }): Promise<boolean> {
    const result = await this.#claims.updateOne(
      { _id: input.occurrence, claimedAt: { $lt: input.staleBefore } },
      { $set: { owner: input.owner, claimedAt: this.#now() } },
    );
    return result.modifiedCount === 1;
  }

  /** Gives up a claim `owner` holds (nothing was scheduled, so a later tick may try again). */
  async release(input: { owner: string; occurrence: string }): Promise<void> {
    await this.#claims.deleteOne({ _id: input.occurrence, owner: input.owner });
  }

  /** The claims on any of `occurrences` (one query, by `_id`). */
  async _getClaims(input: { occurrences: readonly string[] }): Promise<OccurrenceClaim[]> {
    if (input.occurrences.length === 0) return [];
    const docs = await this.#claims.find({ _id: { $in: [...input.occurrences] } }, {
      batchSize: input.occurrences.length,
    }).toArray();
    return docs.map((doc) => ({ occurrence: doc._id, owner: doc.owner, claimedAt: doc.claimedAt }));
  }
}

// An unordered insert reports each refused document; anything but a duplicate key is a real failure.
function duplicateOnly(err: unknown): { index: number }[] {
  const bulk = err as Partial<MongoBulkWriteError> & { code?: number };
  const raw = bulk.writeErrors;
  const writeErrors = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== 11000)) throw err;
  return writeErrors;
}
