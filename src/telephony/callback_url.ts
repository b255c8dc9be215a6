/**
 * The callback URLs of one attempt of a call. Each carries the attempt number beside the call id, so a
 * callback that arrives late from an earlier attempt (or twice) is recognised and changes nothing; Twilio keeps
 * the query string as it is and signs it with the rest of the URL.
 *
 * @module
 */
import { statusCallbackUrl, transcriptCallbackUrl, voiceUrl } from "./callbacks.ts";

/** The query parameter carrying the attempt number on every callback URL. */
export const ATTEMPT_PARAM = "attempt";

function withAttempt(url: string, attempt: number): string {
  const parsed = new URL(url);
  parsed.searchParams.set(ATTEMPT_PARAM, String(attempt));
  return parsed.href;
}

/** The URLs the provider is given for one attempt. */
export function attemptUrls(
  baseUrl: string,
  callId: string,
  attempt: number,
): { statusCallbackUrl: string; voiceUrl: string } {
  return {
    statusCallbackUrl: withAttempt(statusCallbackUrl(baseUrl, callId), attempt),
    voiceUrl: withAttempt(voiceUrl(baseUrl, callId), attempt),
  };
}

/** Where the speech for one prompt of one attempt is posted (a `<Gather>` action). */
export function attemptTranscriptUrl(
  baseUrl: string,
  callId: string,
  promptId: string,
  attempt: number,
): string {
  return withAttempt(transcriptCallbackUrl(baseUrl, callId, promptId), attempt);
}

/** The attempt number in a callback URL, or undefined when it has none (or not a positive integer). */
export function attemptOf(url: URL): number | undefined {
  const raw = url.searchParams.get(ATTEMPT_PARAM);
  if (raw === null || !/^[1-9]\d{0,5}$/.test(raw)) return undefined;
  return Number(raw);
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
