/**
 * Who is due a call now, found with a fixed number of indexed queries per page of open windows, never one
 * query per person.
 *
 * The windows are wall-clock times in each person's time zone. The zones in use are few (one `distinct`), and
 * at any instant they show few distinct wall clocks, so "windows open now" is one indexed query over those
 * clocks. A window matched on some zone's clock is then checked on its owner's own clock (their profile) with
 * the same pure function the `_getActiveWindow` query uses, one-off windows replacing the recurring ones of
 * their date. Per page, bulk reads drop the people who already have an entry for their local today, an active
 * call, or a call (or a live claim) for this occurrence, counting each reason.
 *
 * @module
 */
import type { Concepts } from "../concepts/mod.ts";
import type { CallQueue, OccurrenceClaim, OccurrenceClaims } from "../concepts/CallScheduler/mod.ts";
import {
  type ActiveWindow,
  findActiveWindow,
  localMoment,
  type OwnedWindowView,
  type WallClock,
} from "../concepts/CallWindow/mod.ts";
import type { ProfileView } from "../concepts/Profile/mod.ts";
import { getLogger } from "../log.ts";

const log = getLogger(["calls"]);

/** A person due a call for an open window. */
export interface DueCall {
  user: string;
  phoneNumber: string;
  timezone: string;
  window: ActiveWindow;
  /** `<user>:<window>:<local date>`: one call per occurrence, whoever decides. */
  occurrence: string;
  /** Set when the occurrence has a claim whose holder never scheduled its call and is presumed gone. */
  staleClaim?: OccurrenceClaim;
}

/** Why people with a window open somewhere were not called, counted for the tick's log line. */
export interface SkipCounts {
  /** They have a journal entry for their local today. */
  entryToday: number;
  /** A call of theirs is PENDING or IN_PROGRESS, or another instance is scheduling this occurrence's call. */
  callPending: number;
  /** The window is not open on their own clock (or their profile or its time zone is missing). */
  outsideWindow: number;
  /** This occurrence's call FAILED after its retries. */
  retriesExhausted: number;
  /** They have no active prompt to be asked. */
  noPrompt: number;
}

/** What finding the due needs. */
export interface DueDeps {
  concepts: Concepts;
  queue: CallQueue;
  occurrences: OccurrenceClaims;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function knownZone(timezone: string): boolean {
  try {
    localMoment(new Date(0), timezone);
    return true;
  } catch {
    return false;
  }
}

/** The distinct wall clocks that `timezones` show at instant `at`. A zone Temporal does not know is skipped. */
export function wallClocks(timezones: readonly string[], at: Date): WallClock[] {
  const clocks = new Map<string, WallClock>();
  for (const timezone of timezones) {
    let local;
    try {
      local = localMoment(at, timezone);
    } catch {
      log.warn("profiles name time zone {timezone}, which is not known here; skipped", { timezone });
      continue;
    }
    const time = `${pad(Math.floor(local.minutes / 60))}:${pad(local.minutes % 60)}`;
    clocks.set(`${local.date} ${time}`, { date: local.date, dayOfWeek: local.dayOfWeek, time });
  }
  return [...clocks.values()];
}

/** The open window of each person in `page` on their own clock, with their profile. */
async function openWindows(
  deps: DueDeps,
  page: readonly OwnedWindowView[],
  at: Date,
): Promise<{ profile: ProfileView; window: ActiveWindow }[]> {
  const users = [...new Set(page.map((w) => w.user))];
  const profiles = (await deps.concepts.profile._getProfiles({ users })).filter((p) => knownZone(p.timezone));
  const localDates = new Map(profiles.map((p) => [p.user, localMoment(at, p.timezone).date]));
  // Any one-off window on a person's local date replaces that day's recurring ones, open or not.
  const oneOffs = await deps.concepts.callWindow._getOneOffWindowsOn({
    users: [...localDates.keys()],
    dates: [...new Set(localDates.values())],
  });
  const windows = new Map<string, Map<string, OwnedWindowView>>();
  for (const w of [...page, ...oneOffs]) {
    const mine = windows.get(w.user) ?? new Map<string, OwnedWindowView>();
    mine.set(w._id, w);
    windows.set(w.user, mine);
  }
  const open: { profile: ProfileView; window: ActiveWindow }[] = [];
  for (const profile of profiles) {
    const window = findActiveWindow([...windows.get(profile.user)?.values() ?? []], at, profile.timezone);
    if (window) open.push({ profile, window });
  }
  return open;
}

/**
 * Of the people with a window in `page`, those due a call now, and why the others are not. A claim older than
 * `staleBefore` whose call was never scheduled is reported as stale, for the caller to take over.
 */
export async function findDue(
  deps: DueDeps,
  page: readonly OwnedWindowView[],
  at: Date,
  staleBefore: Date,
): Promise<{ due: DueCall[]; skipped: Omit<SkipCounts, "noPrompt"> }> {
  const open = await openWindows(deps, page, at);
  const skipped = { entryToday: 0, callPending: 0, outsideWindow: 0, retriesExhausted: 0 };
  skipped.outsideWindow = new Set(page.map((w) => w.user)).size - open.length;
  if (open.length === 0) return { due: [], skipped };
  const users = open.map((o) => o.profile.user);
  const occurrenceOf = (o: (typeof open)[number]) => `${o.profile.user}:${o.window.occurrence}`;
  const occurrences = open.map(occurrenceOf);
  // One after another: a tick holds one pooled connection at a time here.
  const entryDays = await deps.concepts.journalEntry._getEntryDays({
    users,
    dates: [...new Set(open.map((o) => o.window.localDate))],
  });
  const busy = new Set(await deps.queue._getUsersWithActiveCalls({ users }));
  const scheduled = new Map(
    (await deps.queue._getScheduledOccurrences({ occurrences })).map((c) => [c.occurrence, c.status]),
  );
  const claims = new Map((await deps.occurrences._getClaims({ occurrences })).map((c) => [c.occurrence, c]));
  const journaled = new Set(entryDays.map((d) => `${d.user}|${d.date}`));
  const due: DueCall[] = [];
  for (const o of open) {
    const occurrence = occurrenceOf(o);
    const claim = claims.get(occurrence);
    const called = scheduled.get(occurrence);
    if (journaled.has(`${o.profile.user}|${o.window.localDate}`)) skipped.entryToday++;
    else if (called === "FAILED") skipped.retriesExhausted++;
    else if (busy.has(o.profile.user) || called !== undefined || (claim && claim.claimedAt >= staleBefore)) {
      skipped.callPending++;
    } else {
      due.push({
        user: o.profile.user,
        phoneNumber: o.profile.phoneNumber,
        timezone: o.profile.timezone,
        window: o.window,
        occurrence,
        ...(claim ? { staleClaim: claim } : {}),
      });
    }
  }
  return { due, skipped };
}
