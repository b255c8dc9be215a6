/**
 * The call-window worker's tick: for each person whose window is open now on their own clock and who is due
 * (no entry for their local today, no active call, no call yet for this occurrence), start a phone reflection
 * with their active prompts and schedule a call for now.
 *
 * Instances race safely: each occurrence is claimed first (one insert wins), and the call itself is unique
 * per occurrence in the database. The tick reads open windows page by page from one cursor and filters each
 * page with a fixed number of bulk queries; writes go at most `concurrency` at a time, so the tick holds a few
 * pooled connections however many people are due.
 *
 * @module
 */
import type { Clock, Concepts } from "../concepts/mod.ts";
import { systemClock } from "../concepts/mod.ts";
import type { CallQueue, OccurrenceClaims } from "../concepts/CallScheduler/mod.ts";
import type { PromptView } from "../concepts/JournalPrompt/mod.ts";
import { getLogger } from "../log.ts";
import { type CallEventHook, emitCallEvent } from "./events.ts";
import { type DueCall, findDue, wallClocks } from "./due.ts";
import { forEachLimit } from "./limit.ts";
import type { Tick } from "../workers/periodic_worker.ts";

const log = getLogger(["workers", "calls"]);

/** What the call-window worker needs. */
export interface CallWindowDeps {
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

/** What one tick did, for its log line and tests. */
export interface CallWindowTickStats {
  windows: number;
  due: number;
  scheduled: number;
  durationMs: number;
}

/**
 * The tick of the call-window worker. `onTick` receives each tick's figures.
 *
 * @example
 * ```ts
 * const tick = createCallWindowTick({ concepts, queue, occurrences, instance: appName, claimStaleMs: 120_000 });
 * new PeriodicWorker({ name: "call-window", intervalMs: 300_000, runAtStart: true, tick });
 * ```
 */
export function createCallWindowTick(
  deps: CallWindowDeps,
  onTick?: (stats: CallWindowTickStats) => void,
): Tick {
  return async (signal) => {
    const started = performance.now();
    const at = (deps.now ?? systemClock)();
    const stats = { windows: 0, due: 0, scheduled: 0 };
    const clocks = wallClocks(await deps.concepts.profile._getTimezones(), at);
    const pages = deps.concepts.callWindow._pagesOfWindowsOpenAt({ clocks, pageSize: deps.pageSize ?? 500 });
    for await (const page of pages) {
      stats.windows += page.length;
      const due = await findDue(deps, page, at, new Date(at.getTime() - deps.claimStaleMs));
      stats.due += due.length;
      stats.scheduled += await scheduleDue(deps, due, at, signal);
      if (signal.aborted) break;
    }
    const result = { ...stats, durationMs: Math.round(performance.now() - started) };
    // Once per interval (5 minutes by default), so the tick's cost can be watched as the people grow.
    log.info(
      "call-window tick: {windows} open window(s), {due} due, {scheduled} call(s) scheduled in {durationMs} ms",
      { ...result },
    );
    onTick?.(result);
  };
}

/** Claims the due occurrences and schedules a call for each one won; returns how many were scheduled. */
async function scheduleDue(
  deps: CallWindowDeps,
  due: readonly DueCall[],
  at: Date,
  signal: AbortSignal,
): Promise<number> {
  if (due.length === 0 || signal.aborted) return 0;
  const users = due.map((d) => d.user);
  const prompts = new Map(
    (await deps.concepts.journalPrompt._getActivePromptsOfUsers({ users })).map((p) => [p.user, p.prompts]),
  );
  const callable = due.filter((d) => prompts.has(d.user));
  if (callable.length < due.length) {
    log.info("{count} person(s) with an open window have no active prompt; not called", {
      count: due.length - callable.length,
    });
  }
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
  return scheduled;
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
  deps: CallWindowDeps,
  d: DueCall,
  prompts: readonly PromptView[],
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

async function claimOccurrences(deps: CallWindowDeps, due: readonly DueCall[], at: Date): Promise<DueCall[]> {
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
  deps: CallWindowDeps,
  d: DueCall,
  prompts: readonly PromptView[],
  at: Date,
): Promise<boolean> {
  const { concepts } = deps;
  const { session } = await concepts.reflectionSession.startSession({
    user: d.user,
    mode: "phone",
    prompts: prompts.map((p) => ({ promptId: p._id, text: p.text })),
  });
  const result = await deps.queue.scheduleOccurrenceCall({
    user: d.user,
    reflectionSession: session,
    phoneNumber: d.phoneNumber,
    occurrence: d.occurrence,
    scheduledFor: at,
  });
  if ("conflict" in result) {
    await concepts.reflectionSession.abandonSession({ user: d.user, session });
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
      session,
      occurrence: d.occurrence,
    },
  );
  emitCallEvent(deps.onCallEvent, {
    type: "scheduled",
    call: result.call,
    user: d.user,
    attempt: 0,
    at,
    instance: deps.instance,
    detail: d.occurrence,
  });
  return true;
}
