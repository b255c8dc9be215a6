/**
 * The one codec for callback URLs, both ways: which call (`callId`), which attempt of it (`attempt`) and, on a
 * transcript, which prompt (`promptId`) travel in the query string, which Twilio keeps as it is and signs with
 * the rest of the URL. The attempt lets a callback that arrives late from an earlier attempt (or twice) be
 * recognised, so it changes nothing.
 *
 * @example
 * ```ts
 * const url = statusCallbackUrl("https://zien.example", callId, 2);
 * // https://zien.example/webhooks/telephony/status?callId=...&attempt=2
 * parseCallbackAddress(new URL(url)); // { callId, attempt: 2 }
 * ```
 * @module
 */

/** The webhook paths, under the public base URL. */
export const WEBHOOK_PATHS = {
  status: "/webhooks/telephony/status",
  transcript: "/webhooks/telephony/transcript",
  voice: "/webhooks/telephony/voice",
} as const;

/** The query parameter carrying our call id on every callback URL. */
export const CALL_ID_PARAM = "callId";
/** The query parameter carrying our prompt id on a transcript callback URL. */
export const PROMPT_ID_PARAM = "promptId";
/** The query parameter carrying the attempt number on every callback URL we build. */
export const ATTEMPT_PARAM = "attempt";

/** What a callback URL names. */
export interface CallbackAddress {
  callId: string;
  /** Absent on a URL not made by us (or made before attempts were numbered). */
  attempt?: number;
  /** Transcript URLs only. */
  promptId?: string;
}

/** The URL of the webhook `kind` for `address`, under `baseUrl` (a trailing slash is ignored). */
export function callbackUrl(
  baseUrl: string,
  kind: keyof typeof WEBHOOK_PATHS,
  address: CallbackAddress,
): string {
  const url = new URL(baseUrl.replace(/\/+$/, "") + WEBHOOK_PATHS[kind]);
  url.searchParams.set(CALL_ID_PARAM, address.callId);
  if (address.promptId !== undefined) url.searchParams.set(PROMPT_ID_PARAM, address.promptId);
  if (address.attempt !== undefined) url.searchParams.set(ATTEMPT_PARAM, String(address.attempt));
  return url.href;
}

/**
 * What a callback URL names; fields it lacks are undefined. An attempt that is not a positive integer counts
 * as none.
 */
export function parseCallbackAddress(url: URL): Partial<CallbackAddress> {
  const address: Partial<CallbackAddress> = {};
  const callId = url.searchParams.get(CALL_ID_PARAM);
  const promptId = url.searchParams.get(PROMPT_ID_PARAM);
  const attempt = url.searchParams.get(ATTEMPT_PARAM);
  if (callId) address.callId = callId;
  if (promptId) address.promptId = promptId;
  if (attempt !== null && /^[1-9]\d{0,5}$/.test(attempt)) address.attempt = Number(attempt);
  return address;
}

/** The status callback URL of a call (of one attempt). */
export function statusCallbackUrl(baseUrl: string, callId: string, attempt?: number): string {
  return callbackUrl(baseUrl, "status", { callId, attempt });
}

/** The TwiML voice URL of a call (of one attempt). */
export function voiceUrl(baseUrl: string, callId: string, attempt?: number): string {
  return callbackUrl(baseUrl, "voice", { callId, attempt });
}

/** Where the speech for one prompt is posted (a `<Gather>` action). */
export function transcriptCallbackUrl(
  baseUrl: string,
  callId: string,
  promptId: string,
  attempt?: number,
): string {
  return callbackUrl(baseUrl, "transcript", { callId, promptId, attempt });
}

/**
 * The transcript URL beside a status callback URL: the same base, call and attempt, the last path segment
 * `status` replaced by `transcript`, plus the prompt id. Lets a provider find the transcript route from the
 * one URL it was given.
 */
export function transcriptUrlBeside(statusUrl: string, promptId: string): string {
  const url = new URL(statusUrl);
  url.pathname = url.pathname.replace(/\/status\/?$/, "/transcript");
  url.searchParams.set(PROMPT_ID_PARAM, promptId);
  return url.href;
}

/**
 * The URL Twilio signed for a request we received: the public base URL joined with the request's path and
 * query. Behind a proxy, `request.url` has the internal host and scheme, which Twilio never saw.
 */
export function publicRequestUrl(publicBaseUrl: string, requestUrl: string | URL): string {
  const received = new URL(requestUrl);
  return publicBaseUrl.replace(/\/+$/, "") + received.pathname + received.search;
}

/**
 * The base URL this instance is reached at on loopback, from the address it listens on: callbacks of the
 * simulated provider go there when `PUBLIC_BASE_URL` is unset.
 */
export function loopbackBaseUrl(addr: Deno.NetAddr): string {
  const host = addr.hostname === "0.0.0.0" || addr.hostname === "" ? "127.0.0.1" : addr.hostname;
  if (host === "::") return `http://[::1]:${addr.port}`;
  return host.includes(":") ? `http://[${host}]:${addr.port}` : `http://${host}:${addr.port}`;
}
