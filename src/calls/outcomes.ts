/**
 * How an attempt of a call ends, shared by the call-scheduler worker (a placement that failed, a lease that
 * expired) and the telephony webhooks (a terminal status callback): completed with the session's answers and
 * its journal entry made, retried after a backoff, or failed for good with the session abandoned.
 *
 * @module
 */
import { type Clock, ConceptError, type Concepts, ensureEntry, systemClock } from "../concepts/mod.ts";
import {
  type CallQueue,
  type QueuedCallDoc,
  type RetryBackoff,
  retryDelayMs,
} from "../concepts/CallScheduler/mod.ts";
import type { SessionView } from "../concepts/ReflectionSession/reflection_session.ts";
import { getLogger } from "../log.ts";
import { type CallEventHook, type CallEventType, emitCallEvent } from "./events.ts";

const log = getLogger(["workers", "calls"]);

/** A person's `maxRetries` when their profile is gone. */
export const DEFAULT_MAX_RETRIES = 3;

/** What the call flows need. */
export interface CallFlowDeps {
  concepts: Concepts;
  queue: CallQueue;
  /** Backoff between attempts (`CALL_RETRY_BASE_MS`, `CALL_RETRY_MAX_MS`). */
  backoff: RetryBackoff;
  /** This instance's appName: lease owner, and named in events. */
  instance: string;
  now?: Clock;
  random?: () => number;
  /** Where call events go (later: the `call_events` batch writer). */
  onCallEvent?: CallEventHook;
}

/** How a failed attempt ended: another attempt scheduled, the call failed, or someone else already ended it. */
export type FailOutcome = "retry" | "failed" | "stale";

/** How a completion ended. */
export type CompleteOutcome = "completed" | "already_completed" | "no_responses" | "abandoned" | "stale";

/** Reports `type` for `call` to the hook. */
export function emit(
  deps: CallFlowDeps,
  type: CallEventType,
  call: Pick<QueuedCallDoc, "_id" | "user" | "attempts">,
  detail?: string,
): void {
  emitCallEvent(deps.onCallEvent, {
    type,
    call: call._id,
    user: call.user,
    attempt: call.attempts,
    at: (deps.now ?? systemClock)(),
    instance: deps.instance,
    ...(detail === undefined ? {} : { detail }),
  });
}

/**
 * Ends the call's current attempt as failed: back to PENDING after a backoff while the person's `maxRetries`
 * allows (a call is placed at most `1 + maxRetries` times), else FAILED with its session ABANDONED. With
 * `expiredBy`, only if the attempt's deadline passed by then (lease recovery).
 */
export async function failAttempt(
  deps: CallFlowDeps,
  call: QueuedCallDoc,
  reason: string,
  options: { retryable?: boolean; retryAfterMs?: number; expiredBy?: Date } = {},
): Promise<FailOutcome> {
  const [profile] = await deps.concepts.profile._getProfile({ user: call.user });
  const maxRetries = profile?.maxRetries ?? DEFAULT_MAX_RETRIES;
  const attempt = call.attempts;
  const base = { call: call._id, attempt, error: reason, expiredBy: options.expiredBy };
  if ((options.retryable ?? true) && attempt <= maxRetries) {
    const delay = retryDelayMs(attempt, deps.backoff, deps.random, options.retryAfterMs);
    const nextAttemptAt = new Date((deps.now ?? systemClock)().getTime() + delay);
    if (!await deps.queue.recordRetry({ ...base, nextAttemptAt })) return "stale";
    log.info(
      "call {callId} attempt {attempt} did not reach the person ({reason}); attempt {next} of {max} at {nextAttemptAt}",
      { callId: call._id, attempt, reason, next: attempt + 1, max: maxRetries + 1, nextAttemptAt },
    );
    emit(deps, "attempt_failed", call, reason);
    return "retry";
  }
  if (!await deps.queue.recordFinalFailure(base)) return "stale";
  await abandonQuietly(deps, call);
  log.warn("call {callId} FAILED after {attempts} attempt(s) ({reason}); session {session} abandoned", {
    callId: call._id,
    attempts: attempt,
    reason,
    session: call.reflectionSession,
  });
  emit(deps, "failed", call, reason);
  return "failed";
}

/** The call's session, or undefined when it no longer exists. */
export async function sessionOf(
  deps: CallFlowDeps,
  call: Pick<QueuedCallDoc, "user" | "reflectionSession">,
): Promise<SessionView | undefined> {
  try {
    const [session] = await deps.concepts.reflectionSession._getSession({
      user: call.user,
      session: call.reflectionSession,
    });
    return session;
  } catch (err) {
    if (err instanceof ConceptError && err.kind === "not_found") return undefined;
    throw err;
  }
}

/** Whether the person answered at least one prompt. */
export function hasResponses(session: SessionView): boolean {
  return session.prompts.some((p) => p.response !== undefined);
}

/**
 * Completes the call's current attempt: the session completes with its answers, its journal entry is made
 * (the entry's unique index makes that exactly once, however often this runs), and the call becomes
 * COMPLETED. Safe to run twice or concurrently: each step is atomic and checks the state it expects.
 */
export async function completeAttempt(deps: CallFlowDeps, call: QueuedCallDoc): Promise<CompleteOutcome> {
  let completed = await sessionOf(deps, call);
  if (completed === undefined || completed.status === "ABANDONED") return "abandoned";
  if (completed.status === "IN_PROGRESS") {
    if (!hasResponses(completed)) return "no_responses";
    try {
      await deps.concepts.reflectionSession.completeSession({ user: call.user, session: completed._id });
      completed = { ...completed, status: "COMPLETED" };
    } catch (err) {
      // Completed meanwhile by a twin delivery of the same callback: the entry step below still runs.
      if (!(err instanceof ConceptError && err.kind === "conflict")) throw err;
      completed = await sessionOf(deps, call);
    }
  }
  if (completed?.status !== "COMPLETED") return "abandoned";
  const { entry, created } = await ensureEntry(deps.concepts, completed);
  const done = await deps.queue.recordCompleted({ call: call._id, attempt: call.attempts });
  if (done) {
    log.info("call {callId} completed on attempt {attempt} with {answers} answer(s)", {
      callId: call._id,
      attempt: call.attempts,
      answers: completed.prompts.filter((p) => p.response !== undefined).length,
    });
    emit(deps, "completed", call);
  }
  if (created) {
    log.info("journal entry {entry} created for call {callId} (session {session}, {date})", {
      entry,
      callId: call._id,
      session: completed._id,
      date: completed.startedAt.toISOString(),
    });
    emit(deps, "entry_created", call, entry);
  }
  return done ? "completed" : "already_completed";
}

async function abandonQuietly(deps: CallFlowDeps, call: QueuedCallDoc): Promise<void> {
  try {
    await deps.concepts.reflectionSession.abandonSession({
      user: call.user,
      session: call.reflectionSession,
    });
  } catch (err) {
    // Already over (or gone): nothing to abandon.
    if (!(err instanceof ConceptError)) throw err;
  }
}
