/**
 * The in-process workers, on the shared `Db`: the periodic runtime and two small ticks over `calls/`, the
 * call-window worker (open windows become calls) and the call-scheduler worker (due calls are placed).
 *
 * @module
 */
import type { CallRuntime } from "../calls/mod.ts";
import type { Config } from "../config.ts";
import { isTransientDbError } from "../db/mod.ts";
import { createCallSchedulerTick } from "./call_scheduler_worker.ts";
import { createCallWindowTick } from "./call_window_worker.ts";
import { PeriodicWorker } from "./periodic_worker.ts";

export {
  PeriodicWorker,
  type PeriodicWorkerOptions,
  type Tick,
  type WorkerStatus,
} from "./periodic_worker.ts";
export { type CallWindowTickStats, createCallWindowTick } from "./call_window_worker.ts";
export { createCallSchedulerTick } from "./call_scheduler_worker.ts";

/**
 * The call-window worker (every `CALL_WINDOW_INTERVAL_MS`, and once at start) and the call-scheduler
 * worker (every `CALL_SCHEDULER_INTERVAL_MS`), whose status counts the call leases this instance holds.
 */
export function createWorkers(
  config: Config,
  calls: Pick<CallRuntime, "scheduling" | "placement" | "leases">,
): PeriodicWorker[] {
  return [
    new PeriodicWorker({
      name: "call-window",
      intervalMs: config.calls.windowIntervalMs,
      runAtStart: true,
      tick: createCallWindowTick(calls.scheduling),
      isTransient: isTransientDbError,
    }),
    new PeriodicWorker({
      name: "call-scheduler",
      intervalMs: config.calls.schedulerIntervalMs,
      tick: createCallSchedulerTick(calls.placement),
      leasesHeld: () => calls.leases.count(),
      isTransient: isTransientDbError,
    }),
  ];
}
