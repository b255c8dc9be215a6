/**
 * What the provider's callbacks do to a call: status callbacks move the attempt forward (never back), renew
 * its lease and end it; transcript callbacks record one answer and renew the lease; the voice callback gives
 * the first prompt. Callbacks may come twice, late or out of order: each step is an atomic update on the
 * attempt named in the callback URL, so a repeat or a leftover from an earlier attempt changes nothing, and
 * the journal entry is made once whatever the order. Each step reads the call and its session once.
 *
 * @module
 */
import { ConceptError } from "../concepts/mod.ts";
import type { CallDoc } from "../concepts/CallScheduler/mod.ts";
import type { SessionView } from "../concepts/ReflectionSession/mod.ts";
import { getLogger } from "../log.ts";
import {
  isTerminalStatus,
  type ProviderCallStatus,
  type StatusCallback,
  statusRank,
  type TranscriptCallback,
} from "../telephony/mod.ts";
import { emitCallEvent } from "./events.ts";
import { type CallFlowDeps, completeAttempt, failAttempt, sessionOf } from "./outcomes.ts";

const log = getLogger(["calls"]);

/** What a callback did, for the webhook's log and tests. */
export type CallbackEffect =
  | "unknown_call"
  | "stale"
  | "duplicate"
  | "progress"
  | "retry"
  | "failed"
  | "completed"
  | "already_completed"
  | "recorded"
  | "ignored";

/** A prompt to ask: its id (for the transcript URL) and its text. */
export interface NextPrompt {
  promptId: string;
  text: string;
}

const failureReasons: Partial<Record<ProviderCallStatus, string>> = {
  "busy": "busy",
  "no-answer": "no answer",
  "failed": "the provider could not connect the call",
  "canceled": "canceled",
};

/**
 * The attempt a callback belongs to: the one in its URL; for a URL without one (not made by us), the call's
 * current attempt if the provider's call id matches.
 */
async function attemptOfCallback(
  deps: CallFlowDeps,
  callback: { callId: string; attempt?: number; providerCallId: string },
): Promise<number | undefined> {
  if (callback.attempt !== undefined) return callback.attempt;
  const call = await deps.queue._getCall({ call: callback.callId });
  return call?.providerCallId === callback.providerCallId ? call.attempts : undefined;
}

/** Applies a status callback. */
export async function handleStatusCallback(
  deps: CallFlowDeps,
  callback: StatusCallback,
): Promise<CallbackEffect> {
  const attempt = await attemptOfCallback(deps, callback);
  const context = { callId: callback.callId, status: callback.status, attempt };
  if (attempt === undefined) {
    log.info("call {callId}: {status} callback ignored (no attempt of ours)", context);
    return "stale";
  }
  // The update is the gate: it matches only the current attempt, in progress, moving forward. Of two
  // identical callbacks exactly one gets the call back, so a failure is never counted twice.
  const advanced = await deps.queue.recordProgress({
    call: callback.callId,
    attempt,
    providerStatus: callback.status,
    rank: statusRank(callback.status),
    providerCallId: callback.providerCallId,
  });
  if (callback.status === "completed") return await onCompleted(deps, callback.callId, attempt, advanced);
  if (advanced === null) {
    log.debug(
      "call {callId}: {status} callback of attempt {attempt} changes nothing (repeat, late or stale)",
      context,
    );
    return "duplicate";
  }
  if (isTerminalStatus(callback.status)) {
    return await failAttempt(deps, advanced, failureReasons[callback.status] ?? callback.status);
  }
  if (callback.status === "ringing") log.info("call {callId} ringing (attempt {attempt})", context);
  else if (callback.status === "in-progress") {
    log.info("call {callId} answered (attempt {attempt})", context);
    emitCallEvent(deps, "answered", advanced, callback.providerCallId);
  } else log.debug("call {callId} {status} (attempt {attempt})", context);
  return "progress";
}

async function onCompleted(
  deps: CallFlowDeps,
  callId: string,
  attempt: number,
  advanced: CallDoc | null,
): Promise<CallbackEffect> {
  if (advanced !== null) {
    const outcome = await completeAttempt(deps, advanced, await sessionOf(deps, advanced));
    if (outcome === "completed" || outcome === "already_completed") return outcome;
    const reason = outcome === "no_responses" ? "answered but no answer was heard" : "its session is over";
    return await failAttempt(deps, advanced, reason, { retryable: outcome === "no_responses" });
  }
  // Not an advance: a repeat after completion, a twin delivered at the same time, or a leftover. Completing
  // is idempotent, so the first two may run it: a repeat heals an entry a crash left unmade.
  const call = await deps.queue._getCall({ call: callId });
  if (call === null || call.attempts !== attempt) return "stale";
  if (call.status !== "COMPLETED" && call.status !== "IN_PROGRESS") return "stale";
  const outcome = await completeAttempt(deps, call, await sessionOf(deps, call));
  return outcome === "completed" ? "completed" : "duplicate";
}

/** The prompt after `promptId` in the session, if any. */
function promptAfter(session: SessionView | undefined, promptId: string): NextPrompt | undefined {
  const prompts = session?.prompts ?? [];
  const index = prompts.findIndex((p) => p.promptId === promptId);
  const next = index >= 0 ? prompts[index + 1] : undefined;
  return next ? { promptId: next.promptId, text: next.text } : undefined;
}

/**
 * Records the speech for one prompt of the call's current attempt and returns the prompt to ask next (none
 * after the last). Empty speech records nothing but still moves on.
 */
export async function handleTranscriptCallback(
  deps: CallFlowDeps,
  callback: TranscriptCallback,
): Promise<{ effect: CallbackEffect; next?: NextPrompt }> {
  const attempt = await attemptOfCallback(deps, callback);
  const found = attempt === undefined ? null : await deps.queue.touch({ call: callback.callId, attempt });
  if (found === null) {
    log.info("call {callId}: transcript for prompt {promptId} ignored (not an attempt in progress)", {
      callId: callback.callId,
      promptId: callback.promptId,
    });
    return { effect: "stale" };
  }
  const session = await sessionOf(deps, found);
  let effect: CallbackEffect = "ignored";
  if (callback.speech.trim() !== "") {
    try {
      await deps.concepts.reflectionSession.recordResponse({
        user: found.user,
        session: found.reflectionSession,
        promptId: callback.promptId,
        text: callback.speech,
      });
      effect = "recorded";
    } catch (err) {
      if (!(err instanceof ConceptError)) throw err;
      log.warn("call {callId}: transcript for prompt {promptId} not recorded: {reason}", {
        callId: found._id,
        promptId: callback.promptId,
        reason: err.message,
      });
    }
  }
  log.info("call {callId}: transcript for prompt {promptId} ({chars} characters, attempt {attempt})", {
    callId: found._id,
    promptId: callback.promptId,
    chars: callback.speech.length,
    attempt: found.attempts,
  });
  const next = promptAfter(session, callback.promptId);
  return { effect, ...(next ? { next } : {}) };
}

/** The first prompt of the call's current attempt, for the TwiML voice URL; none if the attempt is over. */
export async function firstPrompt(
  deps: CallFlowDeps,
  callback: { callId: string; attempt?: number; providerCallId: string },
): Promise<NextPrompt | undefined> {
  const attempt = await attemptOfCallback(deps, callback);
  const found = attempt === undefined ? null : await deps.queue.touch({ call: callback.callId, attempt });
  if (found === null) return undefined;
  const session = await sessionOf(deps, found);
  const first = session?.status === "IN_PROGRESS" ? session.prompts[0] : undefined;
  return first ? { promptId: first.promptId, text: first.text } : undefined;
}
