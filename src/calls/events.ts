/**
 * The one place a call's story is reported as events: every step of the call flow emits through
 * `emitCallEvent`, into the optional `onCallEvent` hook (main.ts plugs the `call_events` batch writer in).
 *
 * @module
 */
import { type Clock, systemClock } from "../concepts/mod.ts";
import type { CallDoc } from "../concepts/CallScheduler/mod.ts";
import { getLogger } from "../log.ts";

const log = getLogger(["calls"]);

/** What happened to a call. */
export type CallEventType =
  /** The call-window tick scheduled a call for an open window. */
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

/** What emitting needs: the hook, this instance's name and the clock. */
export interface CallEventSource {
  /** This instance's appName, named in every event. */
  instance: string;
  onCallEvent?: CallEventHook;
  now?: Clock;
}

/**
 * Reports `type` for `call`'s current attempt to the hook, if any. A hook that throws is logged, never
 * allowed to break a call's flow.
 */
export function emitCallEvent(
  source: CallEventSource,
  type: CallEventType,
  call: Pick<CallDoc, "_id" | "user" | "attempts">,
  detail?: string,
): void {
  if (source.onCallEvent === undefined) return;
  const event: CallEvent = {
    type,
    call: call._id,
    user: call.user,
    attempt: call.attempts,
    at: (source.now ?? systemClock)(),
    instance: source.instance,
    ...(detail === undefined ? {} : { detail }),
  };
  try {
    source.onCallEvent(event);
  } catch (err) {
    log.warn("call event hook failed for {type} of call {callId}: {error}", {
      type: event.type,
      callId: event.call,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
