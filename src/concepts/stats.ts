/**
 * The stats a person's home screen shows, and the platform totals, read across concepts.
 *
 * @module
 */
import { localMoment } from "./CallWindow/active_window.ts";
import type { Concepts } from "./concepts.ts";

/**
 * The actions (`Concept.action`) that change what `userStats` reads for the person who did them: a new or
 * deleted entry, or a profile whose time zone moves "today". Call outcomes change through the call workers,
 * not through an action. Everything else (reads among them) leaves the figures as they were.
 */
export const ACTIONS_CHANGING_USER_STATS: ReadonlySet<string> = new Set([
  "ReflectionSession.completeSession",
  "JournalEntry.deleteEntry",
  "Profile.setProfile",
]);

/** One person's figures. */
export interface UserStats {
  entries: number;
  /** Consecutive local days with an entry, ending today (or yesterday, when today has none yet). */
  currentStreak: number;
  callsCompleted: number;
  callsFailed: number;
  /** The local date (YYYY-MM-DD) of the newest entry, or null. */
  lastEntryDate: string | null;
}

/** Figures across everyone. */
export interface PlatformStats {
  users: number;
  entries: number;
  callsCompleted: number;
}

/**
 * The length of the run of consecutive dates ending at `today`, or at the day before when `today` has no
 * entry yet (a streak is not broken until the day is over).
 *
 * @example
 * ```ts
 * currentStreak(["2026-11-22", "2026-11-21", "2026-11-19"], "2026-11-23"); // 2
 * ```
 */
export function currentStreak(datesNewestFirst: readonly string[], today: string): number {
  const dates = new Set(datesNewestFirst);
  let day = Temporal.PlainDate.from(today);
  if (!dates.has(day.toString())) day = day.subtract({ days: 1 });
  let streak = 0;
  while (dates.has(day.toString())) {
    streak++;
    day = day.subtract({ days: 1 });
  }
  return streak;
}

/** One person's stats: their entry dates and call outcomes, with "today" in their profile's time zone. */
export async function userStats(
  concepts: Concepts,
  user: string,
  now: Date = new Date(),
): Promise<UserStats> {
  const [[profile], [days], [calls]] = await Promise.all([
    concepts.profile._getProfile({ user }),
    concepts.journalEntry._getEntryDates({ user }),
    concepts.callScheduler._countOutcomes({ user }),
  ]);
  const today = localMoment(now, profile?.timezone ?? "UTC").date;
  return {
    entries: days.entries,
    currentStreak: currentStreak(days.dates, today),
    callsCompleted: calls.completed,
    callsFailed: calls.failed,
    lastEntryDate: days.dates[0] ?? null,
  };
}

/** The platform totals. */
export async function platformStats(concepts: Concepts): Promise<PlatformStats> {
  const [[users], [entries], [calls]] = await Promise.all([
    concepts.userAuth._countUsers(),
    concepts.journalEntry._countAll(),
    concepts.callScheduler._countOutcomes({}),
  ]);
  return { users: users.users, entries: entries.entries, callsCompleted: calls.completed };
}
