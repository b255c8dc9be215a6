/**
 * The callback vocabulary shared by the providers and the webhook routes: Twilio's call statuses and their
 * order, and the parsing of status and transcript callbacks.
 *
 * A callback is a form-encoded POST as Twilio sends it. Our own call id, attempt and prompt travel in the
 * callback URL's query string (see `callback_url.ts`, the codec).
 *
 * @example
 * ```ts
 * const callback = parseStatusCallback(new URL(request.url), await request.formData());
 * if (callback && isStatusAdvance(current, callback.status)) { ... }
 * ```
 * @module
 */
import { CALL_ID_PARAM, parseCallbackAddress, PROMPT_ID_PARAM } from "./callback_url.ts";

/**
 * Twilio's `CallStatus` values. Twilio's own list includes `initiated`, sent for the `initiated` status
 * callback event, so it is accepted here too.
 */
export const CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "no-answer",
  "failed",
  "canceled",
] as const;

/** One of Twilio's `CallStatus` values. */
export type ProviderCallStatus = typeof CALL_STATUSES[number];

/** The statuses after which nothing more happens to a call. */
export const TERMINAL_STATUSES: readonly ProviderCallStatus[] = [
  "completed",
  "busy",
  "no-answer",
  "failed",
  "canceled",
];

const ranks: Record<ProviderCallStatus, number> = {
  "queued": 0,
  "initiated": 1,
  "ringing": 2,
  "in-progress": 3,
  "completed": 4,
  "busy": 4,
  "no-answer": 4,
  "failed": 4,
  "canceled": 4,
};

/** True for a `CallStatus` value we know. */
export function isProviderCallStatus(value: unknown): value is ProviderCallStatus {
  return typeof value === "string" && Object.hasOwn(ranks, value);
}

/**
 * The position of a status in a call's life: queued < initiated < ringing < in-progress < every
 * terminal status (which all share the last rank).
 */
export function statusRank(status: ProviderCallStatus): number {
  return ranks[status];
}

/** True when a call in this status will not change any more. */
export function isTerminalStatus(status: ProviderCallStatus): boolean {
  return ranks[status] === ranks.completed;
}

/**
 * Whether a callback reporting `next` moves a call that is in `current` forward. Callbacks may come twice
 * or out of order: a repeat, an older status, or anything after a terminal status is not an advance, so a
 * status never goes backwards and a terminal status is final.
 *
 * @example
 * ```ts
 * isStatusAdvance("ringing", "in-progress"); // true
 * isStatusAdvance("in-progress", "ringing"); // false: a late ringing callback
 * isStatusAdvance("completed", "failed"); // false: terminal is final
 * isStatusAdvance(undefined, "ringing"); // true: the first callback
 * ```
 */
export function isStatusAdvance(current: ProviderCallStatus | undefined, next: ProviderCallStatus): boolean {
  return current === undefined || ranks[next] > ranks[current];
}

/** The form fields of a callback, as `request.formData()` or `new URLSearchParams(body)` give them. */
export type CallbackForm = Pick<URLSearchParams, "get"> | Pick<FormData, "get">;

/** A status callback: what Twilio (or the simulator) reports about a call. */
export interface StatusCallback {
  /** Our call id, from the URL's `callId` (or a `callId` form field). */
  callId: string;
  /** The attempt named in the URL; absent on a URL not made by us. */
  attempt?: number;
  /** The provider's call id. */
  providerCallId: string;
  status: ProviderCallStatus;
  to?: string;
  from?: string;
  accountSid?: string;
  /** Seconds, on the terminal callback of an answered call. */
  durationSeconds?: number;
}

/** A transcript callback: the speech for one prompt (`<Gather input="speech">`'s action). */
export interface TranscriptCallback {
  callId: string;
  /** The attempt named in the URL; absent on a URL not made by us. */
  attempt?: number;
  providerCallId: string;
  promptId: string;
  /** What the person said; empty when nothing was recognised. */
  speech: string;
  /** Recognition confidence from 0 to 1, when given. */
  confidence?: number;
}

// The URL wins; a form field of the same name stands in for a URL not made by us.
function field(fromUrl: string | undefined, form: CallbackForm, name: string): string | undefined {
  if (fromUrl !== undefined) return fromUrl;
  const fromForm = form.get(name);
  return typeof fromForm === "string" && fromForm !== "" ? fromForm : undefined;
}

function text(form: CallbackForm, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" && value !== "" ? value : undefined;
}

function number(form: CallbackForm, name: string): number | undefined {
  const value = text(form, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * Reads a status callback; undefined when a required field (call id, `CallSid`, a known `CallStatus`) is
 * missing, which the route answers with 400.
 */
export function parseStatusCallback(url: URL, form: CallbackForm): StatusCallback | undefined {
  const address = parseCallbackAddress(url);
  const callId = field(address.callId, form, CALL_ID_PARAM);
  const providerCallId = text(form, "CallSid");
  const status = text(form, "CallStatus");
  if (callId === undefined || providerCallId === undefined || !isProviderCallStatus(status)) return undefined;
  const callback: StatusCallback = { callId, providerCallId, status };
  if (address.attempt !== undefined) callback.attempt = address.attempt;
  const to = text(form, "To");
  const from = text(form, "From");
  const accountSid = text(form, "AccountSid");
  const durationSeconds = number(form, "CallDuration");
  if (to !== undefined) callback.to = to;
  if (from !== undefined) callback.from = from;
  if (accountSid !== undefined) callback.accountSid = accountSid;
  if (durationSeconds !== undefined) callback.durationSeconds = durationSeconds;
  return callback;
}

/**
 * Reads a transcript callback; undefined when the call id, prompt id or `CallSid` is missing. A missing
 * `SpeechResult` is an empty answer, not an error: Twilio leaves it out when it recognised nothing.
 */
export function parseTranscriptCallback(url: URL, form: CallbackForm): TranscriptCallback | undefined {
  const address = parseCallbackAddress(url);
  const callId = field(address.callId, form, CALL_ID_PARAM);
  const promptId = field(address.promptId, form, PROMPT_ID_PARAM);
  const providerCallId = text(form, "CallSid");
  if (callId === undefined || promptId === undefined || providerCallId === undefined) return undefined;
  const callback: TranscriptCallback = {
    callId,
    providerCallId,
    promptId,
    speech: text(form, "SpeechResult") ?? "",
  };
  if (address.attempt !== undefined) callback.attempt = address.attempt;
  const confidence = number(form, "Confidence");
  if (confidence !== undefined) callback.confidence = confidence;
  return callback;
}
