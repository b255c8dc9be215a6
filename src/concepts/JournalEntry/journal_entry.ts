/**
 * JournalEntry: what a completed reflection leaves behind, one entry per session.
 *
 * @module
 */
import type { Collection, Db, Filter } from "mongodb";
import { type Clock, type ConceptOptions, newId, systemClock } from "../common.ts";
import { ConceptError, isDuplicateKeyError } from "../errors.ts";

/** One answered prompt in an entry. */
export interface EntryResponse {
  promptId: string;
  prompt: string;
  text: string;
}

interface EntryDoc {
  _id: string;
  user: string;
  reflectionSession: string;
  /** The local date (in the person's time zone) the reflection started on. */
  date: string;
  mode: string;
  responses: EntryResponse[];
  rating?: number;
  createdAt: Date;
}

/** An entry as the queries return it, with the cursor that continues a page after it. */
export interface EntryView extends Omit<EntryDoc, "user"> {
  cursor: string;
}

const SESSION_INDEX = "reflectionSession_unique";
const NEWEST_FIRST = { date: -1, _id: -1 } as const;

/** The JournalEntry concept. Collection: `JournalEntry.entries`. */
export class JournalEntry {
  readonly #entries: Collection<EntryDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: ConceptOptions = {}) {
    this.#entries = db.collection<EntryDoc>("JournalEntry.entries");
    this.#now = options.now ?? systemClock;
  }

  /** Creates this concept's indexes; safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.#entries.createIndex({ reflectionSession: 1 }, { name: SESSION_INDEX, unique: true });
    await this.#entries.createIndex({ user: 1, date: -1, _id: -1 }, { name: "user_date_id" });
  }

  /**
   * Makes the entry for a completed session, exactly once: a second call for the same session (a retried
   * flow, a webhook delivered twice) returns the existing entry with `created: false`.
   */
  async createEntry(input: {
    user: string;
    reflectionSession: string;
    date: string;
    mode: string;
    responses: EntryResponse[];
    rating?: number;
  }): Promise<{ entry: string; created: boolean }> {
    const doc: EntryDoc = {
      _id: newId(),
      user: input.user,
      reflectionSession: input.reflectionSession,
      date: input.date,
      mode: input.mode,
      responses: input.responses,
      createdAt: this.#now(),
    };
    if (input.rating !== undefined) doc.rating = input.rating;
    try {
      await this.#entries.insertOne(doc);
      return { entry: doc._id, created: true };
    } catch (err) {
      if (!isDuplicateKeyError(err, SESSION_INDEX)) throw err;
      const existing = await this.#entries.findOne(
        { reflectionSession: input.reflectionSession },
        { projection: { _id: 1 } },
      );
      if (!existing) throw err;
      return { entry: existing._id, created: false };
    }
  }

  /** Deletes one of the person's entries. */
  async deleteEntry(input: { user: string; entry: string }): Promise<{ entry: string }> {
    const result = await this.#entries.deleteOne({ _id: input.entry, user: input.user });
    if (result.deletedCount === 0) throw notFound();
    return { entry: input.entry };
  }

  /**
   * A page of the person's entries, newest first (by local date, then creation), between `from` and `to`
   * inclusive when given, continuing after cursor `after`.
   */
  async _getEntries(
    input: { user: string; from?: string; to?: string; limit: number; after?: string },
  ): Promise<EntryView[]> {
    const filter: Filter<EntryDoc> = { user: input.user };
    if (input.from || input.to) {
      filter.date = {};
      if (input.from) filter.date.$gte = input.from;
      if (input.to) filter.date.$lte = input.to;
    }
    if (input.after) {
      const [date, id] = input.after.split("_");
      filter.$or = [{ date: { $lt: date } }, { date, _id: { $lt: id } }];
    }
    const docs = await this.#entries.find(filter, { sort: NEWEST_FIRST, limit: input.limit }).toArray();
    return docs.map(view);
  }

  /** The person's entries for one local date, newest first. */
  async _getEntryForDate(input: { user: string; date: string }): Promise<EntryView[]> {
    const docs = await this.#entries.find({ user: input.user, date: input.date }, { sort: NEWEST_FIRST })
      .toArray();
    return docs.map(view);
  }

  /**
   * Which of `users` have an entry on which of `dates` (one query, on `user_date_id`): `{ user, date }` pairs,
   * each at most once.
   */
  async _getEntryDays(
    input: { users: readonly string[]; dates: readonly string[] },
  ): Promise<{ user: string; date: string }[]> {
    if (input.users.length === 0 || input.dates.length === 0) return [];
    const docs = await this.#entries.find(
      { user: { $in: [...input.users] }, date: { $in: [...input.dates] } },
      { projection: { _id: 0, user: 1, date: 1 }, batchSize: 10_000 },
    ).toArray();
    const seen = new Map(docs.map((doc) => [`${doc.user}|${doc.date}`, { user: doc.user, date: doc.date }]));
    return [...seen.values()];
  }

  /**
   * `_getEntryDates`: how many entries the person has, and each local date with at least one, newest first;
   * one aggregation over the `user_date_id` index (streaks and stats are computed from it).
   */
  async _getEntryDates(input: { user: string }): Promise<{ entries: number; dates: string[] }[]> {
    const days = await this.#entries.aggregate<{ _id: string; n: number }>([
      { $match: { user: input.user } },
      { $group: { _id: "$date", n: { $sum: 1 } } },
      { $sort: { _id: -1 } },
    ]).toArray();
    return [{ entries: days.reduce((sum, d) => sum + d.n, 0), dates: days.map((d) => d._id) }];
  }

  /** `_countAll`: entries across everyone (an estimate from collection metadata, as totals allow). */
  async _countAll(): Promise<{ entries: number }[]> {
    return [{ entries: await this.#entries.estimatedDocumentCount() }];
  }

  /** One of the person's entries; refuses (`not_found`) anyone else's. */
  async _getEntry(input: { user: string; entry: string }): Promise<EntryView[]> {
    const doc = await this.#entries.findOne({ _id: input.entry, user: input.user });
    if (!doc) throw notFound();
    return [view(doc)];
  }
}

function view(doc: EntryDoc): EntryView {
  const { user: _user, ...rest } = doc;
  return { ...rest, cursor: `${doc.date}_${doc._id}` };
}

function notFound(): ConceptError {
  return new ConceptError("not_found", "There is no such entry.");
}
