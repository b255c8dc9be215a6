/**
 * CallWindow: when a person may be called, weekly or on one date, in their own time zone.
 *
 * @module
 */
import type { Collection, Db, Filter } from "mongodb";
import { type Clock, type ConceptOptions, newId, systemClock } from "../common.ts";
import { ConceptError } from "../errors.ts";
import { minutesOfDay } from "../schemas.ts";
import {
  type ActiveWindow,
  findActiveWindow,
  localMoment,
  overlaps,
  type WindowSpec,
} from "./active_window.ts";
import { MAX_WINDOWS } from "./schemas.ts";

interface WindowDoc extends WindowSpec {
  user: string;
  createdAt: Date;
}

/** A window as `_getWindows` returns it. */
export type WindowView = WindowSpec;

/** A window with the person it belongs to, as the call-window worker reads them across people. */
export interface OwnedWindowView extends WindowSpec {
  user: string;
}

/** A reading of a wall clock: the local date, its ISO weekday (1 = Monday) and the time `HH:MM`. */
export interface WallClock {
  date: string;
  dayOfWeek: number;
  time: string;
}

const VIEW = { _id: 1, kind: 1, dayOfWeek: 1, date: 1, start: 1, end: 1 } as const;
const DAY_NAMES = ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** The CallWindow concept. Collection: `CallWindow.windows`. */
export class CallWindow {
  readonly #windows: Collection<WindowDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: ConceptOptions = {}) {
    this.#windows = db.collection<WindowDoc>("CallWindow.windows");
    this.#now = options.now ?? systemClock;
  }

  /** Creates this concept's indexes; safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.#windows.createIndex({ user: 1, dayOfWeek: 1, start: 1 }, { name: "user_dayOfWeek_start" });
    await this.#windows.createIndex({ user: 1, date: 1, start: 1 }, { name: "user_date_start" });
    // The call-window worker's: windows open at a wall-clock time, across people.
    await this.#windows.createIndex({ dayOfWeek: 1, start: 1, end: 1 }, { name: "dayOfWeek_start_end" });
    await this.#windows.createIndex({ date: 1, start: 1, end: 1 }, { name: "date_start_end" });
  }

  /** Adds a weekly window. Refuses one that overlaps another window on the same weekday. */
  async addRecurringWindow(
    input: { user: string; dayOfWeek: number; start: string; end: string },
  ): Promise<{ window: string }> {
    return await this.#add({ kind: "recurring", dayOfWeek: input.dayOfWeek }, input);
  }

  /** Adds a window on one date. Refuses one that overlaps another one-off window on that date. */
  async addOneOffWindow(
    input: { user: string; date: string; start: string; end: string },
  ): Promise<{ window: string }> {
    return await this.#add({ kind: "oneoff", date: input.date }, input);
  }

  /** Removes a window. */
  async removeWindow(input: { user: string; window: string }): Promise<{ window: string }> {
    const result = await this.#windows.deleteOne({ _id: input.window, user: input.user });
    if (result.deletedCount === 0) throw new ConceptError("not_found", "There is no such window.");
    return { window: input.window };
  }

  /** All the person's windows: recurring ones by weekday and time, then one-off ones by date and time. */
  async _getWindows(input: { user: string }): Promise<WindowView[]> {
    const docs = await this.#windows.find({ user: input.user }, { projection: VIEW }).toArray();
    const kindRank = (w: WindowView) => w.kind === "recurring" ? 0 : 1;
    return docs.sort((a, b) =>
      kindRank(a) - kindRank(b) || (a.dayOfWeek ?? 0) - (b.dayOfWeek ?? 0) ||
      (a.date ?? "").localeCompare(b.date ?? "") || a.start.localeCompare(b.start)
    );
  }

  /**
   * The window open at instant `at` on the clock of `timezone` (the person's, from their profile): `[]` or one
   * `ActiveWindow`. A one-off window on the local date replaces that day's recurring windows.
   */
  async _getActiveWindow(input: { user: string; at: string; timezone: string }): Promise<ActiveWindow[]> {
    const local = localMoment(input.at, input.timezone);
    const [oneOffs, recurring] = await Promise.all([
      this.#windows.find({ user: input.user, date: local.date }, { projection: VIEW }).toArray(),
      this.#windows.find({ user: input.user, dayOfWeek: local.dayOfWeek }, { projection: VIEW }).toArray(),
    ]);
    const active = findActiveWindow([...oneOffs, ...recurring], input.at, input.timezone);
    return active ? [active] : [];
  }

  /**
   * Everyone's windows open at any of the wall-clock readings `clocks` (recurring ones on the reading's
   * weekday, one-off ones on its date), in pages of at most `pageSize`, from one cursor. A window is matched
   * by the clock alone: whose clock it is (the person's time zone) is the caller's to check, as is a one-off
   * window replacing the recurring ones of its date. Served by `dayOfWeek_start_end` and `date_start_end`.
   */
  async *_pagesOfWindowsOpenAt(
    input: { clocks: readonly WallClock[]; pageSize: number },
  ): AsyncGenerator<OwnedWindowView[]> {
    if (input.clocks.length === 0) return;
    const open = (time: string) => ({ start: { $lte: time }, end: { $gt: time } });
    const filter: Filter<WindowDoc> = {
      $or: input.clocks.flatMap((clock) => [
        { dayOfWeek: clock.dayOfWeek, ...open(clock.time) },
        { date: clock.date, ...open(clock.time) },
      ]),
    };
    const cursor = this.#windows.find(filter, {
      projection: { ...VIEW, user: 1 },
      batchSize: input.pageSize,
    });
    try {
      let page: OwnedWindowView[] = [];
      for await (const doc of cursor) {
        page.push(doc);
        if (page.length >= input.pageSize) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    } finally {
      await cursor.close();
    }
  }

  /** The one-off windows of any of `users` on any of `dates` (one query, on `user_date_start`). */
  async _getOneOffWindowsOn(
    input: { users: readonly string[]; dates: readonly string[] },
  ): Promise<OwnedWindowView[]> {
    if (input.users.length === 0 || input.dates.length === 0) return [];
    return await this.#windows.find(
      { user: { $in: [...input.users] }, date: { $in: [...input.dates] } },
      { projection: { ...VIEW, user: 1 }, batchSize: 10_000 },
    ).toArray();
  }

  async #add(
    day: { kind: "recurring"; dayOfWeek: number } | { kind: "oneoff"; date: string },
    input: { user: string; start: string; end: string },
  ): Promise<{ window: string }> {
    if (minutesOfDay(input.end) <= minutesOfDay(input.start)) {
      throw new ConceptError("invalid", "A window must end after it starts, on the same day.");
    }
    const sameDay: Filter<WindowDoc> = day.kind === "recurring"
      ? { user: input.user, dayOfWeek: day.dayOfWeek }
      : { user: input.user, date: day.date };
    const clash = (await this.#windows.find(sameDay, { projection: VIEW }).toArray()).find((w) =>
      overlaps(w, input)
    );
    if (clash) throw overlapError(clash);
    if (await this.#windows.countDocuments({ user: input.user }) >= MAX_WINDOWS) {
      throw new ConceptError("conflict", `You already have ${MAX_WINDOWS} windows; remove one first.`);
    }
    const doc: WindowDoc = {
      _id: newId(),
      user: input.user,
      ...day,
      start: input.start,
      end: input.end,
      createdAt: this.#now(),
    };
    await this.#windows.insertOne(doc);
    // Two overlapping adds can both pass the check above; after inserting, each looks again and backs out if
    // it now overlaps anything. At worst both back out; never do both stay.
    const after = await this.#windows.find(sameDay, { projection: VIEW }).toArray();
    const raced = after.find((w) => w._id !== doc._id && overlaps(w, doc));
    if (raced) {
      await this.#windows.deleteOne({ _id: doc._id });
      throw overlapError(raced);
    }
    return { window: doc._id };
  }
}

function overlapError(clash: WindowSpec): ConceptError {
  const when = clash.kind === "recurring" ? `on ${DAY_NAMES[clash.dayOfWeek ?? 0]}s` : `on ${clash.date}`;
  return new ConceptError(
    "conflict",
    `That window overlaps your ${clash.start}-${clash.end} window ${when}.`,
  );
}
