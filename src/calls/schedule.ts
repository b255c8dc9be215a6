/**
 * Scheduling: for each person whose window is open now on their own clock and who is due (no entry for their
 * local today, no active call, no call yet for this occurrence), start a phone reflection with their active
 * prompts and schedule a call for now, through the `startOccurrenceReflection` sync.
 *
 * Instances race safely: each occurrence is claimed first (one insert wins), and the call itself is unique
 * per occurrence in the database. Open windows are read page by page from one cursor and each page is
 * filtered with a fixed number of bulk queries; writes go at most `concurrency` at a time, so a round holds a
 * few pooled connections however many people are due.
 *
 * @module
 */
import {
  activePromptsOf,
  type Clock,
  type Concepts,
  startOccurrenceReflection,
  systemClock,
} from "../concepts/mod.ts";
import type { CallQueue, OccurrenceClaims } from "../concepts/CallScheduler/mod.ts";
import type { PromptSnapshot } from "../concepts/ReflectionSession/mod.ts";
import { getLogger } from "../log.ts";
import { type CallEventHook, emitCallEvent } from "./events.ts";
import { type DueCall, findDue, type SkipCounts, wallClocks } from "./due.ts";
import { forEachLimit } from "./limit.ts";

const log = getLogger(["calls"]);

/** What scheduling needs. */
export interface SchedulingDeps {
  concepts: Concepts;
  queue: CallQueue;
  occurrences: OccurrenceClaims;
  /** This instance's appName: the claims' owner. */
  instance: string;
  /** A claim whose call was not scheduled this long after it was made is presumed abandoned (`CALL_LEASE_MS`). */
  claimStaleMs: number;
  /** Windows read per page. @default 500 */
  pageSize?: number;
  /** People scheduled at once. @default 2 */
  concurrency?: number;
  now?: Clock;
  /** Orders the due people before claiming (tests make it fixed). */
  random?: () => number;
  onCallEvent?: CallEventHook;
}

/** Occurrences claimed per round, per concurrent writer. */
const CLAIM_CHUNK_PER_WRITER = 8;

/** What one round of scheduling did. */
export interface SchedulingStats {
  windows: number;
  due: number;
  scheduled: number;
  /** The people with a window open somewhere who were not called, by reason. */
  skipped: SkipCounts;
}

/** One round: every page of open windows, until done or `signal` aborts. */
export async function scheduleDueCalls(deps: SchedulingDeps, signal: AbortSignal): Promise<SchedulingStats> {
  const at = (deps.now ?? systemClock)();
  const stats: SchedulingStats = {
    windows: 0,
    due: 0,
    scheduled: 0,
    skipped: { entryToday: 0, callPending: 0, outsideWindow: 0, retriesExhausted: 0, noPrompt: 0 },
  };
  const clocks = wallClocks(await deps.concepts.profile._getTimezones(), at);
  const pages = deps.concepts.callWindow._pagesOfWindowsOpenAt({ clocks, pageSize: deps.pageSize ?? 500 });
  for await (const page of pages) {
    stats.windows += page.length;
    const { due, skipped } = await findDue(deps, page, at, new Date(at.getTime() - deps.claimStaleMs));
    for (const reason of Object.keys(skipped) as (keyof typeof skipped)[]) {
      stats.skipped[reason] += skipped[reason];
    }
    stats.due += due.length;
    const { scheduled, noPrompt } = await scheduleDue(deps, due, at, signal);
    stats.scheduled += scheduled;
    stats.skipped.noPrompt += noPrompt;
    if (signal.aborted) break;
  }
  return stats;
}

/** Claims the due occurrences and schedules a call for each one won; returns how many were scheduled. */
async function scheduleDue(
  deps: SchedulingDeps,
  due: readonly DueCall[],
  at: Date,
  signal: AbortSignal,
): Promise<{ scheduled: number; noPrompt: number }> {
  if (due.length === 0 || signal.aborted) return { scheduled: 0, noPrompt: 0 };
  const prompts = await activePromptsOf(deps.concepts, due.map((d) => d.user));
  const callable = due.filter((d) => prompts.has(d.user));
  const concurrency = deps.concurrency ?? 2;
  // Claim a few at a time, in an order of our own: instances working on the same page take turns on
  // different people instead of one claiming the whole page while the others find nothing left.
  const order = shuffled(callable, deps.random ?? Math.random);
  let scheduled = 0;
  for (
    let start = 0;
    start < order.length && !signal.aborted;
    start += concurrency * CLAIM_CHUNK_PER_WRITER
  ) {
    const chunk = order.slice(start, start + concurrency * CLAIM_CHUNK_PER_WRITER);
    const won = await claimOccurrences(deps, chunk, at);
    const skipped = await forEachLimit(won, concurrency, async (d) => {
      if (await scheduleOneSafely(deps, d, prompts.get(d.user)!, at)) scheduled++;
    }, signal);
    // Stopping: give the claims back, so another instance schedules these now rather than once they go stale.
    for (const d of skipped) {
      await deps.occurrences.release({
        owner: deps.instance,
        occurrence: d.occurrence,
      });
    }
  }
  return { scheduled, noPrompt: due.length - callable.length };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

async function scheduleOneSafely(
  deps: SchedulingDeps,
  d: DueCall,
  prompts: readonly PromptSnapshot[],
  at: Date,
): Promise<boolean> {
  try {
    return await scheduleOne(deps, d, prompts, at);
  } catch (err) {
    // The occurrence's unique call key keeps a retry safe even if this attempt got further than it knows.
    log.error("window {window} of user {user}: scheduling failed: {error}", {
      window: d.window.window,
      user: d.user,
      error: err instanceof Error ? err.message : String(err),
    });
    await deps.occurrences.release({ owner: deps.instance, occurrence: d.occurrence }).catch(() => {});
    return false;
  }
}

async function claimOccurrences(deps: SchedulingDeps, due: readonly DueCall[], at: Date): Promise<DueCall[]> {
  const fresh = due.filter((d) => d.staleClaim === undefined);
  const won = await deps.occurrences.claim({
    owner: deps.instance,
    occurrences: fresh.map((d) => ({
      occurrence: d.occurrence,
      user: d.user,
      endsAt: new Date(d.window.endsAt),
    })),
  });
  const staleBefore = new Date(at.getTime() - deps.claimStaleMs);
  const result = fresh.filter((d) => won.has(d.occurrence));
  for (const d of due.filter((d) => d.staleClaim !== undefined)) {
    const taken = await deps.occurrences.takeOver({
      owner: deps.instance,
      occurrence: d.occurrence,
      staleBefore,
    });
    if (taken) {
      log.warn("occurrence {occurrence}: taking over the claim {owner} never followed with a call", {
        occurrence: d.occurrence,
        owner: d.staleClaim!.owner,
      });
      result.push(d);
    }
  }
  return result;
}

/** Starts the reflection and schedules the call for one claimed occurrence. */
async function scheduleOne(
  deps: SchedulingDeps,
  d: DueCall,
  prompts: readonly PromptSnapshot[],
  at: Date,
): Promise<boolean> {
  const result = await startOccurrenceReflection(deps.concepts, {
    user: d.user,
    phoneNumber: d.phoneNumber,
    occurrence: d.occurrence,
    scheduledFor: at,
  }, prompts);
  if ("conflict" in result) {
    // An active call that started meanwhile may end inside the window; let a later tick try again.
    if (result.conflict === "active_call") {
      await deps.occurrences.release({ owner: deps.instance, occurrence: d.occurrence });
    }
    log.info("window {window} open for user {user}, but {conflict}; no call scheduled", {
      window: d.window.window,
      user: d.user,
      conflict: result.conflict === "active_call" ? "a call is already active" : "its call exists",
    });
    return false;
  }
  log.info(
    "window {window} open for user {user} ({start}-{end} {timezone}, {localDate}): call {callId} scheduled, session {session}",
    {
      window: d.window.window,
      user: d.user,
      start: d.window.start,
      end: d.window.end,
      timezone: d.timezone,
      localDate: d.window.localDate,
      callId: result.call,
      session: result.session,
      occurrence: d.occurrence,
    },
  );
  emitCallEvent(deps, "scheduled", { _id: result.call, user: d.user, attempts: 0 }, d.occurrence);
  return true;
}
