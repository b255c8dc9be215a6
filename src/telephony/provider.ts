/**
 * The one interface every telephony provider implements, and the error a failed placement throws.
 *
 * @module
 */
import type { ProviderCallStatus } from "./callbacks.ts";

/** What the provider says about a call it placed: its status now, or `unknown` when it cannot tell. */
export type ProviderCallState = ProviderCallStatus | "unknown";

/** One question the person is asked during the call. */
export interface CallPrompt {
  /** Our prompt id; it comes back on the transcript callback for this prompt. */
  promptId: string;
  /** What is said to the person. */
  text: string;
}

/** What a provider needs to place one call. */
export interface PlaceCallRequest {
  /** The number to call, E.164 (`+14155550123`). */
  to: string;
  /** Our call id; every callback for this call carries it (`?callId=` on the callback URLs). */
  callId: string;
  /** Where status callbacks go, built with `statusCallbackUrl()`; transcripts go to the URL beside it. */
  statusCallbackUrl: string;
  /**
   * The prompts, in order. The simulated provider answers each one; Twilio does not need them here
   * (its voice URL fetches the TwiML that asks them).
   */
  prompts?: CallPrompt[];
  /** The TwiML voice URL, built with `voiceUrl()`; Twilio defaults it to `voiceUrl(publicBaseUrl, callId)`. */
  voiceUrl?: string;
}

/** A call the provider accepted. */
export interface PlaceCallResult {
  /** The provider's call id (Twilio's `CallSid`, `CA` followed by 32 hex digits). */
  providerCallId: string;
}

/**
 * Places phone calls; callbacks report what happened to them.
 *
 * @example
 * ```ts
 * const { providerCallId } = await provider.placeCall({
 *   to: "+14155550123",
 *   callId: call._id,
 *   statusCallbackUrl: statusCallbackUrl(baseUrl, call._id),
 *   prompts: [{ promptId: "p1", text: "What went well today?" }],
 * });
 * ```
 */
export interface TelephonyProvider {
  /** Which provider this is, for logs and health output. */
  readonly name: "simulated" | "twilio";
  /**
   * Asks the provider to place a call. Resolves once the provider accepted it, long before it is answered.
   *
   * @throws {PlacementError} when the provider did not accept the call.
   */
  placeCall(request: PlaceCallRequest): Promise<PlaceCallResult>;
  /**
   * The status of a call this provider placed, asked when its lease ran out, before any thought of placing
   * it again. `unknown` when the provider does not know the call (the simulated provider of another process)
   * or cannot be reached now; never throws.
   */
  callStatus(providerCallId: string): Promise<ProviderCallState>;
  /**
   * The longest a placed call may ring unanswered, counted from the placement request: until then an attempt
   * whose state is unknown may still be ringing, so no other attempt of the call is placed.
   */
  readonly ringTimeoutMs: number;
  /** Stops: pending simulated calls are cancelled, requests in flight are awaited. Idempotent. */
  close(): Promise<void>;
}

/** Why a placement failed, so callers can decide without parsing messages. */
export type PlacementFailure =
  /** The provider answered with an error status. */
  | "rejected"
  /** The provider could not be reached, or did not answer in time. */
  | "unreachable"
  /** The provider answered 2xx with something we cannot read. */
  | "bad-response"
  /** The provider was closed before the call. */
  | "closed";

/**
 * A call the provider did not accept. The message never contains credentials.
 *
 * `retryable` is true when the same request may succeed later (network errors, 5xx, 429, a closed
 * provider); false when repeating it cannot help (a 4xx such as an invalid number), or could dial twice.
 */
export class PlacementError extends Error {
  /** True when the call may be placed again later. */
  readonly retryable: boolean;
  /** What went wrong, in one word. */
  readonly failure: PlacementFailure;
  /** The provider's HTTP status, when it answered. */
  readonly status?: number;
  /** The provider's own error code (Twilio's `code`), when it gave one. */
  readonly providerCode?: number;
  /** How long the provider asked us to wait (a 429's `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /**
   * True when the request may have reached the provider and its answer was lost (a timeout, a dropped
   * connection): the call may ring anyway, so the next attempt waits out its ring timeout.
   */
  readonly mayHavePlaced: boolean;

  constructor(
    message: string,
    options: {
      retryable: boolean;
      failure: PlacementFailure;
      status?: number;
      providerCode?: number;
      retryAfterMs?: number;
      mayHavePlaced?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PlacementError";
    this.retryable = options.retryable;
    this.failure = options.failure;
    this.mayHavePlaced = options.mayHavePlaced ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.providerCode !== undefined) this.providerCode = options.providerCode;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
