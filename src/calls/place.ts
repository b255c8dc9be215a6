/**
 * The call-scheduler worker's tick: recover calls whose lease expired (any instance's), then claim due
 * PENDING calls one at a time and place each through the telephony provider, with at most
 * `CALL_CONCURRENCY` claims and placements in flight. When the worker is asked to stop, no new call is
 * claimed; the placements in flight finish.
 *
 * @module
 */
import { systemClock } from "../concepts/mod.ts";
import type { QueuedCallDoc } from "../concepts/CallScheduler/mod.ts";
import { getLogger } from "../log.ts";
import { PlacementError, type TelephonyProvider } from "../telephony/mod.ts";
import { attemptUrls } from "../telephony/callback_url.ts";
import {
  type CallFlowDeps,
  completeAttempt,
  emit,
  failAttempt,
  hasResponses,
  sessionOf,
} from "./outcomes.ts";
import type { Tick } from "../workers/periodic_worker.ts";

const log = getLogger(["workers", "calls"]);

/** What the call-scheduler worker needs. */
export interface CallSchedulerDeps extends CallFlowDeps {
  provider: TelephonyProvider;
  /** Claims and placements in flight at most (`CALL_CONCURRENCY`). */
  concurrency: number;
  /** The base URL the provider's callbacks reach (this instance's, or `PUBLIC_BASE_URL`). */
  callbackBaseUrl: () => string;
  /** Expired leases recovered per tick at most; the rest wait for the next tick. @default 100 */
  maxRecoveriesPerTick?: number;
}

/**
 * The tick of the call-scheduler worker.
 *
 * @example
 * ```ts
 * const tick = createCallSchedulerTick({ concepts, queue, provider, concurrency: 4, ... });
 * new PeriodicWorker({ name: "call-scheduler", intervalMs: 15_000, tick });
 * ```
 */
export function createCallSchedulerTick(deps: CallSchedulerDeps): Tick {
  return async (signal) => {
    const started = performance.now();
    const recovered = await recoverExpiredCalls(deps, signal);
    let placed = 0;
    const runner = async () => {
      while (!signal.aborted) {
        const call = await deps.queue.claimDueCall({ owner: deps.instance });
        if (call === null) return;
        try {
          if (await placeClaimedCall(deps, call)) placed++;
        } catch (err) {
          // The lease stays; its deadline passing is the recovery. One call's trouble does not stop the rest.
          log.error("call {callId}: placing attempt {attempt} failed: {error}", {
            callId: call._id,
            attempt: call.attempts,
            error: err instanceof Error ? err.stack ?? err.message : String(err),
          });
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: deps.concurrency }, runner));
    if (placed > 0 || recovered > 0) {
      log.info(
        "call-scheduler tick: {placed} call(s) placed, {recovered} expired lease(s) recovered in {ms} ms",
        {
          placed,
          recovered,
          ms: Math.round(performance.now() - started),
        },
      );
    }
    const failure = results.find((r) => r.status === "rejected");
    if (failure) throw failure.reason;
  };
}

/** Places one claimed call; true when the provider accepted it. */
async function placeClaimedCall(deps: CallSchedulerDeps, call: QueuedCallDoc): Promise<boolean> {
  const attempt = call.attempts;
  const session = await sessionOf(deps, call);
  if (session === undefined || session.status === "ABANDONED") {
    await failAttempt(deps, call, "its reflection session is over", { retryable: false });
    return false;
  }
  if (session.status === "COMPLETED") {
    // Answered on an earlier attempt whose completion landed after the lease ran out: finish, do not redial.
    await completeAttempt(deps, call);
    return false;
  }
  const urls = attemptUrls(deps.callbackBaseUrl(), call._id, attempt);
  let providerCallId: string;
  try {
    ({ providerCallId } = await deps.provider.placeCall({
      to: call.phoneNumber,
      callId: call._id,
      ...urls,
      prompts: session.prompts.map((p) => ({ promptId: p.promptId, text: p.text })),
    }));
  } catch (err) {
    if (err instanceof PlacementError && err.failure === "closed") {
      await deps.queue.releaseClaim({ call: call._id, attempt, owner: deps.instance });
      return false;
    }
    const placement = err instanceof PlacementError ? err : undefined;
    await failAttempt(deps, call, `placement failed: ${placement?.message ?? String(err)}`, {
      retryable: placement?.retryable ?? true,
      retryAfterMs: placement?.retryAfterMs,
    });
    return false;
  }
  // Told before the write: the provider's first callbacks may be handled while it is in flight.
  log.info("call {callId} placed (attempt {attempt}) with {provider} as {providerCallId}", {
    callId: call._id,
    attempt,
    provider: deps.provider.name,
    providerCallId,
  });
  emit(deps, "placed", call, providerCallId);
  const recorded = await deps.queue.recordPlacement({
    call: call._id,
    attempt,
    owner: deps.instance,
    providerCallId,
  });
  if (!recorded) {
    log.debug("call {callId}: attempt {attempt} ended before its placement was recorded", {
      callId: call._id,
      attempt,
    });
  }
  return true;
}

/**
 * Recovers IN_PROGRESS calls whose deadline passed with no sign of progress: completed if the answers are
 * in, otherwise a failed attempt (retried or failed by the person's `maxRetries`). Each recovery is atomic
 * on the deadline, so of several instances recovering at once one acts.
 */
async function recoverExpiredCalls(deps: CallSchedulerDeps, signal: AbortSignal): Promise<number> {
  const expired = await deps.queue._getExpiredCalls({ limit: deps.maxRecoveriesPerTick ?? 100 });
  let recovered = 0;
  for (const call of expired) {
    if (signal.aborted) break;
    const expiredBy = (deps.now ?? systemClock)();
    const session = await sessionOf(deps, call);
    const answered = session !== undefined &&
      (session.status === "COMPLETED" || (call.providerStatus === "completed" && hasResponses(session)));
    if (answered) {
      if (await completeAttempt(deps, call) === "completed") recovered++;
      continue;
    }
    const owner = call.lease?.owner ?? "nobody";
    const outcome = await failAttempt(
      deps,
      call,
      `no progress within the lease (held by ${owner}, last status ${call.providerStatus ?? "none"})`,
      { expiredBy },
    );
    if (outcome !== "stale") {
      recovered++;
      log.warn(
        "call {callId}: attempt {attempt} recovered after its lease expired (held by {owner}): {outcome}",
        {
          callId: call._id,
          attempt: call.attempts,
          owner,
          outcome,
        },
      );
    }
  }
  return recovered;
}
