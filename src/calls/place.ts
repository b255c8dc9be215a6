/**
 * Placing calls: renew the leases of this instance's calls that are still alive (the heartbeat), recover
 * calls whose lease expired (any instance's), then claim due PENDING calls one at a time and place each
 * through the telephony provider, with at most `CALL_CONCURRENCY` claims and placements in flight. When
 * asked to stop, no new call is claimed; the placements in flight finish.
 *
 * A lease never expires under a call that is alive: every callback renews it, and so does the heartbeat of
 * the instance that placed the call, for as long as its provider says the call rings or talks. A call whose
 * lease did expire is not simply placed again: the provider is asked for its state first, and while an
 * attempt may still be ringing (its state is unknown and its ring timeout has not passed), the next attempt
 * waits, so nobody is phoned twice at once.
 *
 * @module
 */
import type { CallAttempt, CallDoc } from "../concepts/CallScheduler/mod.ts";
import { systemClock } from "../concepts/mod.ts";
import { getLogger } from "../log.ts";
import {
  isTerminalStatus,
  PlacementError,
  type ProviderCallState,
  statusCallbackUrl,
  type TelephonyProvider,
  voiceUrl,
} from "../telephony/mod.ts";
import { emitCallEvent } from "./events.ts";
import { forEachLimit } from "./limit.ts";
import { type CallFlowDeps, completeAttempt, failAttempt, hasResponses, sessionOf } from "./outcomes.ts";

const log = getLogger(["calls"]);

/** What placing calls needs. */
export interface PlacementDeps extends CallFlowDeps {
  provider: TelephonyProvider;
  /** Claims and placements in flight at most (`CALL_CONCURRENCY`). */
  concurrency: number;
  /** The base URL the provider's callbacks reach (this instance's, or `PUBLIC_BASE_URL`). */
  callbackBaseUrl: () => string;
  /** Expired leases recovered per tick at most; the rest wait for the next tick. @default 100 */
  maxRecoveriesPerTick?: number;
}

/** What one round of placing did. */
export interface PlacementStats {
  placed: number;
  recovered: number;
  /** Leases this instance renewed because its provider says their calls are alive. */
  renewed: number;
}

/** This instance's placed attempts whose calls may still be alive: what its heartbeat renews. */
export class LiveCalls {
  readonly #attempts = new Map<string, { attempt: number; providerCallId: string }>();
  #lastBeat = -Infinity;

  /**
   * Whether a heartbeat is due at `now`: three per lease, however often the tick runs, so the provider is
   * not asked about every call on every tick.
   */
  beatDue(now: Date, leaseMs: number): boolean {
    if (this.#attempts.size === 0 || now.getTime() - this.#lastBeat < leaseMs / 3) return false;
    this.#lastBeat = now.getTime();
    return true;
  }

  /** Remembers an attempt the provider accepted. */
  add(call: string, attempt: number, providerCallId: string): void {
    this.#attempts.set(call, { attempt, providerCallId });
  }

  /**
   * Asks the provider about each watched attempt, `concurrency` at a time; forgets those that ended; returns
   * those alive.
   */
  async alive(provider: TelephonyProvider, concurrency: number): Promise<CallAttempt[]> {
    const alive: CallAttempt[] = [];
    await forEachLimit([...this.#attempts], concurrency, async ([call, { attempt, providerCallId }]) => {
      if (isAlive(await provider.callStatus(providerCallId))) alive.push({ call, attempt });
      else this.#attempts.delete(call);
    });
    return alive;
  }
}

/** True while the provider says the call rings or talks. */
function isAlive(state: ProviderCallState): boolean {
  return state !== "unknown" && !isTerminalStatus(state);
}

/**
 * One round: the heartbeat, recovery, then claims and placements until nothing is due or `signal` aborts.
 * One call's trouble does not stop the rest; the first unexpected error is thrown once all have settled.
 */
export async function placeDueCalls(
  deps: PlacementDeps,
  live: LiveCalls,
  signal: AbortSignal,
): Promise<PlacementStats> {
  const renewed = live.beatDue((deps.now ?? systemClock)(), deps.queue.leaseMs)
    ? await renewAlive(deps, await live.alive(deps.provider, deps.concurrency))
    : 0;
  const recovered = await recoverExpiredCalls(deps, signal);
  let placed = 0;
  const runner = async () => {
    while (!signal.aborted) {
      const call = await deps.queue.claimDueCall({ owner: deps.instance });
      if (call === null) return;
      deps.leases?.claimed({ call: call._id, attempt: call.attempts });
      try {
        if (await placeClaimedCall(deps, live, call)) placed++;
      } catch (err) {
        // The lease stays; its deadline passing is the recovery.
        log.error("call {callId}: placing attempt {attempt} failed: {error}", {
          callId: call._id,
          attempt: call.attempts,
          error: err instanceof Error ? err.stack ?? err.message : String(err),
        });
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: deps.concurrency }, runner));
  const failure = results.find((r) => r.status === "rejected");
  if (failure) throw failure.reason;
  return { placed, recovered, renewed };
}

/** The heartbeat: renews the leases of this instance's attempts that its provider says are alive. */
async function renewAlive(deps: PlacementDeps, alive: CallAttempt[]): Promise<number> {
  const renewed = await deps.queue.renewLeases({ owner: deps.instance, attempts: alive });
  deps.leases?.renewed(alive);
  return renewed;
}

/** Places one claimed call; true when the provider accepted it. */
async function placeClaimedCall(deps: PlacementDeps, live: LiveCalls, call: CallDoc): Promise<boolean> {
  const attempt = call.attempts;
  const session = await sessionOf(deps, call);
  if (session === undefined || session.status === "ABANDONED") {
    await failAttempt(deps, call, "its reflection session is over", { retryable: false });
    return false;
  }
  if (session.status === "COMPLETED") {
    // Answered on an earlier attempt whose completion landed after the lease ran out: finish, do not redial.
    await completeAttempt(deps, call, session);
    return false;
  }
  const base = deps.callbackBaseUrl();
  let providerCallId: string;
  try {
    ({ providerCallId } = await deps.provider.placeCall({
      to: call.phoneNumber,
      callId: call._id,
      statusCallbackUrl: statusCallbackUrl(base, call._id, attempt),
      voiceUrl: voiceUrl(base, call._id, attempt),
      prompts: session.prompts.map((p) => ({ promptId: p.promptId, text: p.text })),
    }));
  } catch (err) {
    if (err instanceof PlacementError && err.failure === "closed") {
      if (await deps.queue.releaseClaim({ call: call._id, attempt, owner: deps.instance })) {
        deps.leases?.ended({ call: call._id, attempt });
      }
      return false;
    }
    const placement = err instanceof PlacementError ? err : undefined;
    const started = (call.attemptStartedAt ?? (deps.now ?? systemClock)()).getTime();
    await failAttempt(deps, call, `placement failed: ${placement?.message ?? String(err)}`, {
      retryable: placement?.retryable ?? true,
      retryAfterMs: placement?.retryAfterMs,
      // The provider may have placed it after all: it may ring until its ring timeout.
      ...(placement?.mayHavePlaced ? { notBefore: new Date(started + deps.provider.ringTimeoutMs) } : {}),
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
  emitCallEvent(deps, "placed", call, providerCallId);
  live.add(call._id, attempt, providerCallId);
  const recorded = await deps.queue.recordPlacement({
    call: call._id,
    attempt,
    owner: deps.instance,
    providerCallId,
  });
  if (recorded) {
    deps.leases?.renewed([{ call: call._id, attempt }]);
  } else {
    // Ended meanwhile, by a callback here or at another instance: the lease is over either way.
    deps.leases?.ended({ call: call._id, attempt });
    log.debug("call {callId}: attempt {attempt} ended before its placement was recorded", {
      callId: call._id,
      attempt,
    });
  }
  return true;
}

/**
 * Recovers IN_PROGRESS calls whose deadline passed with no sign of progress. Completed if the answers are
 * in; otherwise the provider is asked about the attempt: alive, it is held for another lease; ended, it ends
 * here the same way; unknown, it is held until its ring timeout has passed, and only then is it a failed
 * attempt (retried or failed by the person's `maxRetries`). Each step is atomic on the deadline, so of
 * several instances recovering at once one acts.
 */
async function recoverExpiredCalls(deps: PlacementDeps, signal: AbortSignal): Promise<number> {
  const expired = await deps.queue._getExpiredCalls({ limit: deps.maxRecoveriesPerTick ?? 100 });
  let recovered = 0;
  for (const call of expired) {
    if (signal.aborted) break;
    const expiredBy = (deps.now ?? systemClock)();
    const session = await sessionOf(deps, call);
    const answered = session !== undefined &&
      (session.status === "COMPLETED" || (call.providerStatus === "completed" && hasResponses(session)));
    if (answered) {
      if (await completeAttempt(deps, call, session) === "completed") recovered++;
      continue;
    }
    const state = call.providerCallId === null
      ? "unknown"
      : await deps.provider.callStatus(call.providerCallId);
    const owner = call.lease?.owner ?? "nobody";
    const attempt = { call: call._id, attempt: call.attempts, expiredBy };
    if (isAlive(state)) {
      const until = new Date(expiredBy.getTime() + deps.queue.leaseMs);
      if (await deps.queue.holdExpired({ ...attempt, until })) {
        log.info("call {callId}: lease of attempt {attempt} ran out, but {provider} says {state}; held", {
          callId: call._id,
          attempt: call.attempts,
          provider: deps.provider.name,
          state,
        });
      }
      continue;
    }
    if (state === "unknown") {
      const started = call.attemptStartedAt?.getTime() ?? expiredBy.getTime();
      const mayRingUntil = new Date(started + deps.provider.ringTimeoutMs);
      if (mayRingUntil > expiredBy) {
        // It may still be ringing: a new attempt now could phone the person twice at once.
        await deps.queue.holdExpired({ ...attempt, until: mayRingUntil });
        continue;
      }
    }
    const reason = state === "unknown"
      ? `no progress within the lease (held by ${owner}, last status ${call.providerStatus ?? "none"})`
      : `the provider says ${state} (lease held by ${owner})`;
    const outcome = state === "completed"
      ? await failAttempt(deps, call, "answered but no answer was heard", { expiredBy })
      : await failAttempt(deps, call, reason, { expiredBy });
    if (outcome !== "stale") {
      recovered++;
      log.warn(
        "call {callId}: attempt {attempt} recovered after its lease expired (held by {owner}): {outcome}",
        { callId: call._id, attempt: call.attempts, owner, outcome },
      );
    }
  }
  return recovered;
}
