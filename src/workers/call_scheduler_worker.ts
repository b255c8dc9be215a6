/**
 * The call-scheduler worker's tick: one round of `placeDueCalls` (calls/), with this instance's live calls
 * kept from tick to tick for the lease heartbeat.
 *
 * @module
 */
import { LiveCalls, placeDueCalls, type PlacementDeps } from "../calls/mod.ts";
import { getLogger } from "../log.ts";
import type { Tick } from "./periodic_worker.ts";

const log = getLogger(["workers", "call-scheduler"]);

/**
 * The tick of the call-scheduler worker. It must run more often than `CALL_LEASE_MS`, so the heartbeat
 * renews a live call's lease before it runs out.
 *
 * @example
 * ```ts
 * new PeriodicWorker({ name: "call-scheduler", intervalMs: 15_000, tick: createCallSchedulerTick(calls.placement) });
 * ```
 */
export function createCallSchedulerTick(deps: PlacementDeps): Tick {
  const live = new LiveCalls();
  return async (signal) => {
    const started = performance.now();
    const { placed, recovered, renewed } = await placeDueCalls(deps, live, signal);
    if (placed > 0 || recovered > 0) {
      log.info(
        "call-scheduler tick: {placed} call(s) placed, {recovered} expired lease(s) recovered, {renewed} live lease(s) renewed in {ms} ms",
        { placed, recovered, renewed, ms: Math.round(performance.now() - started) },
      );
    }
  };
}
