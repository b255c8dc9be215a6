/**
 * A telephony provider that calls nobody: it answers `placeCall` at once with a Twilio-like call sid, then
 * posts the callbacks Twilio would (initiated, ringing, in-progress, one transcript per prompt, completed;
 * or busy, no-answer, failed) over real HTTP to the call's callback URLs, so the whole flow runs on one
 * machine through the same webhook code. With an auth token it signs every post as Twilio does.
 *
 * @example
 * ```ts
 * // Tests: no answer twice, then an answer.
 * const sim = new SimulatedProvider({ ringMs: 5, outcome: ["no-answer", "no-answer", "answer"] });
 * // Or per call: the person at +1555... never answers.
 * const other = new SimulatedProvider({ ringMs: 5, outcome: (to) => to === "+15550001111" ? "no-answer" : "answer" });
 * ```
 * @module
 */
import { getLogger } from "../log.ts";
import type {
  CallPrompt,
  PlaceCallRequest,
  PlaceCallResult,
  ProviderCallState,
  TelephonyProvider,
} from "./provider.ts";
import { PlacementError } from "./provider.ts";
import { SimulatedCall, type SimulatedCallOutcome } from "./simulated_call.ts";

export type { SimulatedCallOutcome };

const log = getLogger(["telephony", "simulated"]);

/**
 * What happens to one placement: a callback outcome, or a placement that fails at once
 * (`placement-error`: retryable, as a network error; `placement-rejected`: not, as an invalid number).
 */
export type SimulatedOutcome = SimulatedCallOutcome | "placement-error" | "placement-rejected";

/**
 * How outcomes are chosen: one for every call; a sequence consumed one per placement (the last one
 * repeats once it runs out); or a function of the number, the attempt (1 for a call id's first placement,
 * 2 for its second...) and the request.
 */
export type OutcomePlan =
  | SimulatedOutcome
  | readonly SimulatedOutcome[]
  | ((to: string, attempt: number, request: PlaceCallRequest) => SimulatedOutcome);

/** Settings of the simulated provider. */
export interface SimulatedProviderOptions {
  /** How long the phone rings before the outcome (`TELEPHONY_SIM_RING_MS`). */
  ringMs: number;
  /** Default: every call is answered. */
  outcome?: OutcomePlan;
  /** When set, posts carry `X-Twilio-Signature` made with this token. */
  authToken?: string;
  /** The `AccountSid` the callbacks carry. */
  accountSid?: string;
  /** The `From` number the callbacks carry. */
  fromNumber?: string;
  /** What the person says to a prompt. Default `Simulated answer to: <prompt text>`. */
  speech?: (prompt: CallPrompt, request: PlaceCallRequest) => string;
  /** How long one callback post may take. Default 10 s. */
  postTimeoutMs?: number;
  /** For tests; default the global `fetch`. */
  fetch?: typeof fetch;
}

/** The `AccountSid` of simulated callbacks when none is configured. */
export const SIMULATED_ACCOUNT_SID = "AC" + "0".repeat(32);
/** The caller id of simulated callbacks when none is configured (Twilio's test number). */
export const SIMULATED_FROM_NUMBER = "+15005550006";

const e164 = /^\+[1-9]\d{1,14}$/;
// Enough for every retry of every call in a long development session; older call ids are forgotten.
const maxRememberedCalls = 10_000;
// A simulated call posts its first callbacks before it starts to ring; this covers them on a busy machine.
const ringMarginMs = 1_000;

/** A fake call sid: `CA` and 32 random hex digits, like Twilio's. */
export function fakeCallSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "CA" + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The simulated provider; see the module documentation. */
export class SimulatedProvider implements TelephonyProvider {
  readonly name = "simulated" as const;
  readonly #options: SimulatedProviderOptions;
  readonly #calls = new Set<SimulatedCall>();
  readonly #attempts = new Map<string, number>();
  /** The calls placed, by provider call id, for `callStatus` (the oldest forgotten past the limit). */
  readonly #bySid = new Map<string, SimulatedCall>();
  #placements = 0;
  #closed = false;

  constructor(options: SimulatedProviderOptions) {
    if (!Number.isFinite(options.ringMs) || options.ringMs < 0) {
      throw new RangeError(`ringMs must be a number >= 0, not ${options.ringMs}`);
    }
    this.#options = options;
  }

  /** Calls still posting callbacks. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Accepts the call (or fails as the plan says) and starts its callbacks in the background. */
  placeCall(request: PlaceCallRequest): Promise<PlaceCallResult> {
    try {
      return Promise.resolve(this.#place(request));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Rings at most `ringMs`, plus a margin for the callbacks posted before the ring. */
  get ringTimeoutMs(): number {
    return this.#options.ringMs + ringMarginMs;
  }

  /** What this process's simulation says about the call; `unknown` for a call another process placed. */
  callStatus(providerCallId: string): Promise<ProviderCallState> {
    return Promise.resolve(this.#bySid.get(providerCallId)?.status ?? "unknown");
  }

  /** Cancels every pending callback and waits for posts in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const call of this.#calls) call.cancel();
    await Promise.all([...this.#calls].map((call) => call.done));
  }

  #place(request: PlaceCallRequest): PlaceCallResult {
    if (this.#closed) {
      throw new PlacementError("the simulated provider is closed", { retryable: true, failure: "closed" });
    }
    this.#validate(request);
    const attempt = this.#nextAttempt(request.callId);
    const outcome = this.#outcome(request, attempt);
    log.info("simulated call {callId} (attempt {attempt}): {outcome}", {
      callId: request.callId,
      attempt,
      outcome,
    });
    if (outcome === "placement-error") {
      throw new PlacementError("simulated placement error", { retryable: true, failure: "unreachable" });
    }
    if (outcome === "placement-rejected") {
      throw new PlacementError("simulated rejection: HTTP 400 (21211)", {
        retryable: false,
        failure: "rejected",
        status: 400,
        providerCode: 21211,
      });
    }
    const providerCallId = fakeCallSid();
    const call = new SimulatedCall(request, {
      providerCallId,
      outcome,
      ringMs: this.#options.ringMs,
      accountSid: this.#options.accountSid ?? SIMULATED_ACCOUNT_SID,
      fromNumber: this.#options.fromNumber ?? SIMULATED_FROM_NUMBER,
      authToken: this.#options.authToken,
      postTimeoutMs: this.#options.postTimeoutMs ?? 10_000,
      speech: this.#options.speech ?? ((prompt) => `Simulated answer to: ${prompt.text}`),
      fetch: this.#options.fetch ?? fetch,
    });
    this.#calls.add(call);
    call.done.finally(() => this.#calls.delete(call));
    this.#bySid.set(providerCallId, call);
    if (this.#bySid.size > maxRememberedCalls) this.#bySid.delete(this.#bySid.keys().next().value!);
    return { providerCallId };
  }

  // The same checks Twilio makes before it accepts a call, with its error codes.
  #validate(request: PlaceCallRequest): void {
    if (!e164.test(request.to)) {
      throw new PlacementError("simulated rejection: 'To' is not an E.164 number (21211)", {
        retryable: false,
        failure: "rejected",
        status: 400,
        providerCode: 21211,
      });
    }
    if (!URL.canParse(request.statusCallbackUrl)) {
      throw new PlacementError("simulated rejection: invalid StatusCallback URL (21609)", {
        retryable: false,
        failure: "rejected",
        status: 400,
        providerCode: 21609,
      });
    }
  }

  #nextAttempt(callId: string): number {
    const attempt = (this.#attempts.get(callId) ?? 0) + 1;
    this.#attempts.delete(callId);
    this.#attempts.set(callId, attempt);
    if (this.#attempts.size > maxRememberedCalls) {
      this.#attempts.delete(this.#attempts.keys().next().value!);
    }
    return attempt;
  }

  #outcome(request: PlaceCallRequest, attempt: number): SimulatedOutcome {
    const plan = this.#options.outcome ?? "answer";
    const index = this.#placements++;
    if (typeof plan === "function") return plan(request.to, attempt, request);
    if (typeof plan === "string") return plan;
    if (plan.length === 0) return "answer";
    return plan[Math.min(index, plan.length - 1)];
  }
}
