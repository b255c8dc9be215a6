/**
 * How an attempt of a call ends, shared by placement (a placement that failed, a lease that expired) and the
 * callbacks (a terminal status): completed with the session's answers and its journal entry made (through
 * the `completeReflectionOnce` sync, the same steps as over HTTP), retried after a backoff, or failed for good
 * with the session abandoned.
 *
 * @module
 */
import { type Backoff, backoffDelayMs } from "../backoff.ts";
import {
  type Clock,
  completeReflectionOnce,
  ConceptError,
  type Concepts,
  systemClock,
} from "../concepts/mod.ts";
import type { CallDoc, CallQueue } from "../concepts/CallScheduler/mod.ts";
import type { SessionView } from "../concepts/ReflectionSession/mod.ts";
import { getLogger } from "../log.ts";
import { type CallEventHook, emitCallEvent } from "./events.ts";
import type { HeldLeases } from "./leases.ts";

const log = getLogger(["calls"]);

/** A person's `maxRetries` when their profile is gone. */
export const DEFAULT_MAX_RETRIES = 3;

/** What the call flow needs at every step. */
export interface CallFlowDeps {
  concepts: Concepts;
  queue: CallQueue;
  /** Backoff between attempts (`CALL_RETRY_BASE_MS`, `CALL_RETRY_MAX_MS`). */
  backoff: Backoff;
  /** This instance's appName: lease owner, and named in events. */
  instance: string;
  now?: Clock;
  random?: () => number;
  /** Where call events go (main.ts: the `call_events` batch writer). */
  onCallEvent?: CallEventHook;
  /** Where this instance counts the call leases it holds (the call runtime always sets it). */
  leases?: HeldLeases;
}

/** How a failed attempt ended: another attempt scheduled, the call failed, or someone else already ended it. */
export type FailOutcome = "retry" | "failed" | "stale";

/** How a completion ended. */
export type CompleteOutcome = "completed" | "already_completed" | "no_responses" | "abandoned" | "stale";

/**
 * Ends the call's current attempt as failed: back to PENDING after a backoff while the person's `maxRetries`
 * allows (a call is placed at most `1 + maxRetries` times), else FAILED with its session ABANDONED. With
 * `expiredBy`, only if the attempt's deadline passed by then (lease recovery); with `notBefore`, the next
 * attempt is not placed before then (this one may still ring).
 */
export async function failAttempt(
  deps: CallFlowDeps,
  call: CallDoc,
  reason: string,
  options: { retryable?: boolean; retryAfterMs?: number; expiredBy?: Date; notBefore?: Date } = {},
): Promise<FailOutcome> {
  const [profile] = await deps.concepts.profile._getProfile({ user: call.user });
  const maxRetries = profile?.maxRetries ?? DEFAULT_MAX_RETRIES;
  const attempt = call.attempts;
  const base = { call: call._id, attempt, error: reason, expiredBy: options.expiredBy };
  if ((options.retryable ?? true) && attempt <= maxRetries) {
    const delay = backoffDelayMs(deps.backoff, attempt, deps.random, options.retryAfterMs);
    const backedOff = (deps.now ?? systemClock)().getTime() + delay;
    const nextAttemptAt = new Date(Math.max(backedOff, options.notBefore?.getTime() ?? 0));
    if (!await deps.queue.recordRetry({ ...base, nextAttemptAt })) return "stale";
    deps.leases?.ended(base);
    log.info(
      "call {callId} attempt {attempt} did not reach the person ({reason}); attempt {next} of {max} at {nextAttemptAt}",
      { callId: call._id, attempt, reason, next: attempt + 1, max: maxRetries + 1, nextAttemptAt },
    );
    emitCallEvent(deps, "attempt_failed", call, reason);
    return "retry";
  }
  if (!await deps.queue.recordFinalFailure(base)) return "stale";
  deps.leases?.ended(base);
  await abandonQuietly(deps, call);
  log.warn("call {callId} FAILED after {attempts} attempt(s) ({reason}); session {session} abandoned", {
    callId: call._id,
    attempts: attempt,
    reason,
    session: call.reflectionSession,
  });
  emitCallEvent(deps, "failed", call, reason);
  return "failed";
}

/** The call's session, or undefined when it no longer exists: read once per step, then passed along. */
export async function sessionOf(
  deps: CallFlowDeps,
  call: Pick<CallDoc, "user" | "reflectionSession">,
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
 * Completes the call's current attempt, given its `session` as just read: the session completes with its
 * answers and its journal entry is made (exactly once, however often this runs), and the call becomes
 * COMPLETED. Safe to run twice or concurrently: each step is atomic and checks the state it expects.
 */
export async function completeAttempt(
  deps: CallFlowDeps,
  call: CallDoc,
  session: SessionView | undefined,
): Promise<CompleteOutcome> {
  if (session === undefined || session.status === "ABANDONED") return "abandoned";
  if (session.status === "IN_PROGRESS" && !hasResponses(session)) return "no_responses";
  let done;
  try {
    done = await completeReflectionOnce(
      deps.concepts,
      { user: call.user, session: session._id },
      session.status === "IN_PROGRESS" ? session : undefined,
    );
  } catch (err) {
    // Abandoned meanwhile (its call failed elsewhere): nothing to complete.
    if (err instanceof ConceptError && err.kind === "conflict") return "abandoned";
    throw err;
  }
  const completed = await deps.queue.recordCompleted({ call: call._id, attempt: call.attempts });
  if (completed) {
    deps.leases?.ended({ call: call._id, attempt: call.attempts });
    log.info("call {callId} completed on attempt {attempt} with {answers} answer(s)", {
      callId: call._id,
      attempt: call.attempts,
      answers: done.session.prompts.filter((p) => p.response !== undefined).length,
    });
    emitCallEvent(deps, "completed", call);
  }
  if (done.created) {
    log.info("journal entry {entry} created for call {callId} (session {session}, {date})", {
      entry: done.entry,
      callId: call._id,
      session: session._id,
      date: session.startedAt.toISOString(),
    });
    emitCallEvent(deps, "entry_created", call, done.entry);
  }
  return completed ? "completed" : "already_completed";
}

async function abandonQuietly(deps: CallFlowDeps, call: CallDoc): Promise<void> {
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
