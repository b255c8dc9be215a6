/**
 * A call's whole life, in one module: scheduled for an open window (`schedule.ts`, `due.ts`), claimed and
 * placed, its lease renewed while it is alive and recovered when it is not (`place.ts`), moved forward by the
 * provider's status and transcript callbacks (`callbacks.ts`), and ended: completed with its journal entry,
 * retried or failed (`outcomes.ts`). Events are emitted from `events.ts`, the leases this instance holds are
 * counted in `leases.ts`; `runtime.ts` wires it all once per process. The workers tick `scheduleDueCalls`
 * and `placeDueCalls`; the webhook adapter in `server/` hands callbacks to `callbacks.ts`.
 *
 * @module
 */
export {
  type CallRuntime,
  type CallRuntimeOptions,
  type CallWebhooks,
  createCallRuntime,
} from "./runtime.ts";
export { type CallEvent, type CallEventHook, type CallEventType, emitCallEvent } from "./events.ts";
export { type CallFlowDeps, DEFAULT_MAX_RETRIES } from "./outcomes.ts";
export { HeldLeases } from "./leases.ts";
export { scheduleDueCalls, type SchedulingDeps, type SchedulingStats } from "./schedule.ts";
export type { SkipCounts } from "./due.ts";
export { LiveCalls, placeDueCalls, type PlacementDeps, type PlacementStats } from "./place.ts";
export {
  type CallbackEffect,
  firstPrompt,
  handleStatusCallback,
  handleTranscriptCallback,
  type NextPrompt,
} from "./callbacks.ts";
