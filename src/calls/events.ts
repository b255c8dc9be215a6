/**
 * The one place a call's story is reported as events: the workers and the telephony webhooks emit them
 * through an optional `onCallEvent` hook, which the `call_events` batch writer plugs into later.
 *
 * @module
 */
import { getLogger } from "../log.ts";

const log = getLogger(["workers", "calls"]);

/** What happened to a call. */
export type CallEventType =
  /** The call-window worker scheduled a call for an open window. */
  | "scheduled"
  /** The provider accepted an attempt. */
  | "placed"
  /** The person picked up. */
  | "answered"
  /** An attempt did not reach the person; another is scheduled. */
  | "attempt_failed"
  /** The call failed for good: retries exhausted, or an error retrying cannot fix. */
  | "failed"
  /** The call completed with answers. */
  | "completed"
  /** The journal entry of the call's session was made (once per session). */
  | "entry_created";

/** One event in a call's life. */
export interface CallEvent {
  type: CallEventType;
  /** Our call id. */
  call: string;
  user: string;
  /** The attempt it belongs to (0 for `scheduled`). */
  attempt: number;
  at: Date;
  /** The appName of the instance that saw it. */
  instance: string;
  /** A short reason or id: the provider's call id, why an attempt failed, the entry id. */
  detail?: string;
}

/** Receives call events; must not throw or block (a batch writer queues them). */
export type CallEventHook = (event: CallEvent) => void;

/** Hands `event` to `hook`, if any. A hook that throws is logged, never allowed to break a call's flow. */
export function emitCallEvent(hook: CallEventHook | undefined, event: CallEvent): void {
  if (hook === undefined) return;
  try {
    hook(event);
  } catch (err) {
    log.warn("call event hook failed for {type} of call {callId}: {error}", {
      type: event.type,
      callId: event.call,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
