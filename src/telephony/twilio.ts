/**
 * Places calls through Twilio's REST Calls resource.
 *
 * `POST {apiBase}/2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded, HTTP basic auth with the
 * account sid and auth token; a call's state from `GET .../Calls/{CallSid}.json`. The auth token never reaches a log line or an error message.
 *
 * @example
 * ```ts
 * const twilio = new TwilioProvider({ accountSid, authToken, fromNumber, publicBaseUrl });
 * const { providerCallId } = await twilio.placeCall({ to, callId, statusCallbackUrl: statusCallbackUrl(base, callId) });
 * ```
 * @module
 */
import { getLogger } from "../log.ts";
import { redactText } from "../redact.ts";
import { isProviderCallStatus } from "./callbacks.ts";
import { voiceUrl } from "./callback_url.ts";
import {
  type PlaceCallRequest,
  type PlaceCallResult,
  PlacementError,
  type ProviderCallState,
  type TelephonyProvider,
} from "./provider.ts";

const log = getLogger(["telephony", "twilio"]);

/** How long Twilio lets a call ring before `no-answer`: its `Timeout` default, which we do not change. */
export const TWILIO_RING_TIMEOUT_MS = 60_000;

/** The status callback events we ask Twilio for; each is its own `StatusCallbackEvent` form field. */
export const STATUS_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"] as const;

/** How the Twilio provider reaches Twilio. */
export interface TwilioProviderOptions {
  accountSid: string;
  authToken: string;
  /** The caller id, a Twilio number in E.164. */
  fromNumber: string;
  /** Where Twilio reaches us; the voice URL is built under it. */
  publicBaseUrl: string;
  /** Twilio's API; a local fake server in tests. Default `https://api.twilio.com`. */
  apiBase?: string;
  /** How long one request may take. Default 15 s. */
  timeoutMs?: number;
  /** For tests; default the global `fetch`. */
  fetch?: typeof fetch;
}

interface TwilioErrorBody {
  code?: unknown;
  message?: unknown;
}

function basicAuth(user: string, password: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(`${user}:${password}`)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

// Retry-After is seconds or an HTTP date.
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Twilio as a `TelephonyProvider`. */
export class TwilioProvider implements TelephonyProvider {
  readonly name = "twilio" as const;
  readonly #options: Required<Omit<TwilioProviderOptions, "fetch">>;
  readonly #fetch: typeof fetch;
  readonly #authorization: string;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: TwilioProviderOptions) {
    for (const name of ["accountSid", "authToken", "fromNumber", "publicBaseUrl"] as const) {
      if (!options[name]) throw new TypeError(`TwilioProvider needs ${name}`);
    }
    this.#options = { apiBase: "https://api.twilio.com", timeoutMs: 15_000, ...options };
    this.#fetch = options.fetch ?? fetch;
    this.#authorization = basicAuth(options.accountSid, options.authToken);
  }

  /** The Calls resource URL. */
  get callsUrl(): string {
    const base = this.#options.apiBase.replace(/\/+$/, "");
    return `${base}/2010-04-01/Accounts/${encodeURIComponent(this.#options.accountSid)}/Calls.json`;
  }

  /** Twilio's ring timeout, plus the placement request's own timeout. */
  get ringTimeoutMs(): number {
    return TWILIO_RING_TIMEOUT_MS + this.#options.timeoutMs;
  }

  /** The call's `status` from Twilio's Calls resource; `unknown` when Twilio cannot be asked or does not say. */
  async callStatus(providerCallId: string): Promise<ProviderCallState> {
    const url = this.callsUrl.replace(/\.json$/, `/${encodeURIComponent(providerCallId)}.json`);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#options.timeoutMs);
    try {
      const response = await this.#fetch(url, {
        headers: { "authorization": this.#authorization, "accept": "application/json" },
        signal: controller.signal,
      });
      const body = await response.json().catch(() => undefined) as { status?: unknown } | undefined;
      if (response.ok && isProviderCallStatus(body?.status)) return body.status;
      log.warn("Twilio did not tell the state of call {providerCallId}: HTTP {status}", {
        providerCallId,
        status: response.status,
      });
    } catch (error) {
      log.warn("Twilio unreachable asking for call {providerCallId}: {error}", {
        providerCallId,
        error: controller.signal.aborted ? "timed out" : this.#redact(String(error)),
      });
    } finally {
      clearTimeout(timer);
    }
    return "unknown";
  }

  /** Creates the call; resolves with Twilio's `CallSid`. */
  placeCall(request: PlaceCallRequest): Promise<PlaceCallResult> {
    if (this.#closed) {
      return Promise.reject(
        new PlacementError("the Twilio provider is closed", { retryable: true, failure: "closed" }),
      );
    }
    const placement = this.#place(request);
    const settled = placement.catch(() => {});
    this.#inFlight.add(settled);
    settled.finally(() => this.#inFlight.delete(settled));
    return placement;
  }

  /**
   * Refuses new calls and waits for the requests in flight (each bounded by `timeoutMs`): aborting one
   * could leave a call Twilio created that we would then place again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#inFlight);
  }

  async #place(request: PlaceCallRequest): Promise<PlaceCallResult> {
    const form = this.#form(request);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#options.timeoutMs);
    try {
      const response = await this.#post(form, controller.signal);
      const providerCallId = await this.#sidFrom(response);
      log.info("placed call {callId} with Twilio as {providerCallId}", {
        callId: request.callId,
        providerCallId,
      });
      return { providerCallId };
    } catch (error) {
      const placement = error instanceof PlacementError ? error : this.#unexpected(error);
      log.warn("Twilio did not place call {callId}: {error} (retryable: {retryable})", {
        callId: request.callId,
        error: placement.message,
        retryable: placement.retryable,
      });
      throw placement;
    } finally {
      clearTimeout(timer);
    }
  }

  #form(request: PlaceCallRequest): URLSearchParams {
    const form = new URLSearchParams({
      To: request.to,
      From: this.#options.fromNumber,
      Url: request.voiceUrl ?? voiceUrl(this.#options.publicBaseUrl, request.callId),
      Method: "POST",
      StatusCallback: request.statusCallbackUrl,
      StatusCallbackMethod: "POST",
    });
    for (const event of STATUS_CALLBACK_EVENTS) form.append("StatusCallbackEvent", event);
    return form;
  }

  async #post(form: URLSearchParams, signal: AbortSignal): Promise<Response> {
    try {
      return await this.#fetch(this.callsUrl, {
        method: "POST",
        headers: {
          "authorization": this.#authorization,
          "content-type": "application/x-www-form-urlencoded",
          "accept": "application/json",
        },
        body: form,
        signal,
      });
    } catch (error) {
      const reason = signal.aborted
        ? `no answer within ${this.#options.timeoutMs} ms`
        : this.#redact(String(error));
      throw new PlacementError(`Twilio unreachable: ${reason}`, {
        retryable: true,
        failure: "unreachable",
        mayHavePlaced: true,
      });
    }
  }

  async #sidFrom(response: Response): Promise<string> {
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new PlacementError(`Twilio's answer (HTTP ${response.status}) was cut off`, {
        retryable: !response.ok,
        failure: response.ok ? "bad-response" : "unreachable",
        status: response.status,
        mayHavePlaced: response.ok,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) throw this.#rejected(response, body);
    const sid = (body as { sid?: unknown } | undefined)?.sid;
    if (typeof sid !== "string" || sid === "") {
      // Twilio said yes; placing again could ring the person twice.
      throw new PlacementError(`Twilio answered HTTP ${response.status} without a call sid`, {
        retryable: false,
        failure: "bad-response",
        status: response.status,
      });
    }
    return sid;
  }

  #rejected(response: Response, body: unknown): PlacementError {
    const { code, message } = (typeof body === "object" && body !== null ? body : {}) as TwilioErrorBody;
    const status = response.status;
    const retryable = status === 429 || status >= 500;
    const detail = typeof message === "string" ? `: ${this.#redact(message)}` : "";
    const providerCode = typeof code === "number" ? code : undefined;
    return new PlacementError(
      `Twilio refused the call with HTTP ${status}${
        providerCode === undefined ? "" : ` (${providerCode})`
      }${detail}`,
      {
        retryable,
        failure: "rejected",
        status,
        providerCode,
        retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
      },
    );
  }

  #unexpected(error: unknown): PlacementError {
    return new PlacementError(`Twilio placement failed: ${this.#redact(String(error))}`, {
      retryable: true,
      failure: "unreachable",
      mayHavePlaced: true,
    });
  }

  // The token is secret; the encoded header is as good as the token.
  #redact(text: string): string {
    const encoded = this.#authorization.slice("Basic ".length);
    return redactText(text).replaceAll(this.#options.authToken, "<redacted>").replaceAll(
      encoded,
      "<redacted>",
    );
  }
}
