/**
 * Seeding people for the call tests: a profile, the default prompts and a window open right now, through the
 * concepts (no accounts: nothing in a call's flow reads UserAuth, and hashing passwords would cost ~0.3 s each).
 *
 * @module
 */
import type { Db } from "mongodb";
import { type Concepts, createConcepts, newId } from "../../src/concepts/mod.ts";
import { localMoment } from "../../src/concepts/CallWindow/mod.ts";
import { DEFAULT_PROMPTS } from "../../src/concepts/JournalPrompt/mod.ts";

const CANDIDATE_ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"];

/**
 * A time zone whose clock is well inside its day now (between 01:00 and 22:00), so a window from 00:00 to
 * 24:00 today stays open for the whole test, however long it runs.
 */
export function zoneInsideItsDay(at = new Date()): { timezone: string; date: string; dayOfWeek: number } {
  for (const timezone of CANDIDATE_ZONES) {
    const local = localMoment(at, timezone);
    if (local.minutes >= 60 && local.minutes < 22 * 60) return { timezone, ...local };
  }
  throw new Error("no candidate zone is inside its day (cannot happen: they span more than 3 hours)");
}

/** A zone whose clock is far from now's in `open`, so a window open there now is closed here. */
export function zoneOtherwise(open: string, at = new Date()): string {
  const mine = localMoment(at, open).minutes;
  for (const timezone of ["Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "UTC"]) {
    if (Math.abs(localMoment(at, timezone).minutes - mine) >= 180) return timezone;
  }
  throw new Error("no zone far enough from " + open);
}

/** How one person is seeded. */
export interface SeedOptions {
  timezone: string;
  /** `recurring`: this weekday 00:00-24:00; `oneoff`: today's date 00:00-24:00; `none`: no window. */
  window?: "recurring" | "oneoff" | "none";
  maxRetries?: number;
  phoneNumber?: string;
}

let phoneSequence = 0;

/** Seeds one person and returns their user id. */
export async function seedPerson(concepts: Concepts, options: SeedOptions): Promise<string> {
  const user = newId();
  const local = localMoment(new Date(), options.timezone);
  await concepts.profile.setProfile({
    user,
    phoneNumber: options.phoneNumber ?? `+1555${String(1_000_000 + phoneSequence++).slice(-7)}`,
    displayName: `Person ${user.slice(-4)}`,
    namePronunciation: "",
    timezone: options.timezone,
    maxRetries: options.maxRetries ?? 3,
    includeRating: false,
  });
  await concepts.journalPrompt.addDefaultPrompts({ user });
  const window = options.window ?? "recurring";
  if (window === "recurring") {
    await concepts.callWindow.addRecurringWindow({
      user,
      dayOfWeek: local.dayOfWeek,
      start: "00:00",
      end: "24:00",
    });
  } else if (window === "oneoff") {
    await concepts.callWindow.addOneOffWindow({ user, date: local.date, start: "00:00", end: "24:00" });
  }
  return user;
}

/** Seeds `count` people, `concurrency` at a time; returns their ids. */
export async function seedPeople(
  concepts: Concepts,
  count: number,
  options: (index: number) => SeedOptions,
  concurrency = 8,
): Promise<string[]> {
  const users: string[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const index = next++;
      users[index] = await seedPerson(concepts, options(index));
    }
  }));
  return users;
}

/**
 * Seeds `count` people at once, straight into the concepts' collections (three inserts, for the tests and the
 * benchmark that need hundreds or thousands), each with the default prompts and a recurring window open all of
 * today on `timezone`'s clock. The first person is read back through the concepts' own queries, so a change
 * in their documents' shape fails here rather than quietly seeding nobody.
 */
export async function seedPeopleBulk(
  db: Db,
  count: number,
  options: { timezone: string; maxRetries?: number },
): Promise<string[]> {
  const now = new Date();
  const { dayOfWeek } = localMoment(now, options.timezone);
  const users = Array.from({ length: count }, () => newId());
  const offset = phoneSequence;
  phoneSequence += count;
  await db.collection<{ _id: string }>("Profile.profiles").insertMany(users.map((user, i) => ({
    _id: user,
    phoneNumber: `+1556${String(1_000_000 + offset + i).slice(-7)}`,
    displayName: `Person ${i}`,
    namePronunciation: "",
    timezone: options.timezone,
    maxRetries: options.maxRetries ?? 3,
    includeRating: false,
    updatedAt: now,
  })));
  await db.collection<{ _id: string }>("JournalPrompt.prompts").insertMany(
    users.flatMap((user) =>
      DEFAULT_PROMPTS.map((text, position) => ({
        _id: newId(),
        user,
        text,
        position,
        active: true,
        createdAt: now,
      }))
    ),
  );
  await db.collection<{ _id: string }>("CallWindow.windows").insertMany(users.map((user) => ({
    _id: newId(),
    user,
    kind: "recurring",
    dayOfWeek,
    start: "00:00",
    end: "24:00",
    createdAt: now,
  })));
  const concepts = createConcepts(db);
  const [first] = users;
  const check = [
    (await concepts.profile._getProfile({ user: first })).length === 1,
    (await concepts.journalPrompt._getActivePrompts({ user: first })).length === DEFAULT_PROMPTS.length,
    (await concepts.callWindow._getActiveWindow({
      user: first,
      at: now.toISOString(),
      timezone: options.timezone,
    }))
      .length === 1,
  ];
  if (check.includes(false)) throw new Error(`seeded documents no longer read back: ${check}`);
  return users;
}
