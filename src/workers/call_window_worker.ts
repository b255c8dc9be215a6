/**
 * The call-window worker's tick: one round of `scheduleDueCalls` (calls/), and its summary line, which says
 * why the people with an open window who were not called were skipped.
 *
 * @module
 */
import { scheduleDueCalls, type SchedulingDeps, type SchedulingStats } from "../calls/mod.ts";
import { getLogger } from "../log.ts";
import type { Tick } from "./periodic_worker.ts";

const log = getLogger(["workers", "call-window"]);

/** What one tick did, for its log line and tests. */
export interface CallWindowTickStats extends SchedulingStats {
  durationMs: number;
}

/**
 * The tick of the call-window worker. `onTick` receives each tick's figures.
 *
 * @example
 * ```ts
 * const tick = createCallWindowTick(calls.scheduling);
 * new PeriodicWorker({ name: "call-window", intervalMs: 300_000, runAtStart: true, tick });
 * ```
 */
export function createCallWindowTick(
  deps: SchedulingDeps,
  onTick?: (stats: CallWindowTickStats) => void,
): Tick {
  return async (signal) => {
    const started = performance.now();
    const stats = await scheduleDueCalls(deps, signal);
    const result = { ...stats, durationMs: Math.round(performance.now() - started) };
    // Once per interval (5 minutes by default), so the tick's cost can be watched as the people grow.
    log.info(
      "call-window tick: {windows} open window(s), {due} due, {scheduled} call(s) scheduled in {durationMs} ms; " +
        "skipped: {entryToday} with an entry today, {callPending} with a call pending, {outsideWindow} outside " +
        "their window, {retriesExhausted} with retries exhausted, {noPrompt} without an active prompt",
      { ...result, ...result.skipped },
    );
    onTick?.(result);
  };
}
