/**
 * The in-process workers, on the shared `Db`: the call-window worker turns active windows into calls, the
 * call-scheduler worker places due calls.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { PeriodicWorker, type Tick } from "./periodic_worker.ts";

export {
  jitteredDelay,
  PeriodicWorker,
  type PeriodicWorkerOptions,
  type Tick,
  type WorkerStatus,
} from "./periodic_worker.ts";
export { type CallRuntime, type CallRuntimeOptions, createCallRuntime } from "../calls/runtime.ts";
export { type CallEvent, type CallEventHook, type CallEventType, emitCallEvent } from "../calls/events.ts";
export { type CallWindowDeps, type CallWindowTickStats, createCallWindowTick } from "../calls/schedule.ts";
export { type CallSchedulerDeps, createCallSchedulerTick } from "../calls/place.ts";
export { type CallFlowDeps, DEFAULT_MAX_RETRIES } from "../calls/outcomes.ts";
export { loopbackBaseUrl } from "../telephony/callback_url.ts";

/** The ticks of the two workers. */
export interface WorkerTicks {
  callWindow: Tick;
  callScheduler: Tick;
}

/**
 * The call-window worker (every `CALL_WINDOW_INTERVAL_MS`, and once at start) and the call-scheduler
 * worker (every `CALL_SCHEDULER_INTERVAL_MS`).
 */
export function createWorkers(config: Config, ticks: WorkerTicks): PeriodicWorker[] {
  return [
    new PeriodicWorker({
      name: "call-window",
      intervalMs: config.calls.windowIntervalMs,
      runAtStart: true,
      tick: ticks.callWindow,
    }),
    new PeriodicWorker({
      name: "call-scheduler",
      intervalMs: config.calls.schedulerIntervalMs,
      tick: ticks.callScheduler,
    }),
  ];
}
