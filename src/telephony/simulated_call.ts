/**
 * One simulated call: the callbacks Twilio would post for it, posted over HTTP in Twilio's order and format,
 * signed as Twilio signs them when an auth token is given.
 *
 * @module
 */
import { getLogger } from "../log.ts";
import { redactText } from "../redact.ts";
import type { ProviderCallStatus } from "./callbacks.ts";
import { transcriptUrlBeside } from "./callback_url.ts";
import type { CallPrompt, PlaceCallRequest } from "./provider.ts";
import { signTwilioRequest, TWILIO_SIGNATURE_HEADER } from "./signature.ts";

const log = getLogger(["telephony", "simulated"]);

/** What happens to a simulated call once it is placed. */
export type SimulatedCallOutcome = "answer" | "no-answer" | "busy" | "failed";

/** What a simulated call needs besides the request. */
export interface SimulatedCallSettings {
  providerCallId: string;
  outcome: SimulatedCallOutcome;
  ringMs: number;
  accountSid: string;
  fromNumber: string;
  authToken: string | undefined;
  postTimeoutMs: number;
  speech: (prompt: CallPrompt, request: PlaceCallRequest) => string;
  fetch: typeof fetch;
}

/** A simulated call in progress; `cancel()` stops it before its next callback. */
export class SimulatedCall {
  /** Settles when the call's last callback was posted, or it was cancelled; never rejects. */
  readonly done: Promise<void>;
  #cancelled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #sequence = 0;
  #answeredAt = 0;
  #current: ProviderCallStatus = "queued";

  constructor(readonly request: PlaceCallRequest, readonly settings: SimulatedCallSettings) {
    this.done = this.#run().catch((error) => {
      log.error("simulated call {callId} stopped: {error}", {
        callId: request.callId,
        error: redactText(String(error)),
      });
    });
  }

  /** Where the call is now, as Twilio's `GET Calls/{sid}` would say; `canceled` once cancelled. */
  get status(): ProviderCallStatus {
    return this.#cancelled && this.#current !== "completed" ? "canceled" : this.#current;
  }

  /** Stops before the next callback; a post in flight still finishes (await `done`). */
  cancel(): void {
    this.#cancelled = true;
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const { outcome, ringMs } = this.settings;
    // Yield first, so the caller of placeCall can record the provider's call id before any callback.
    if (!await this.#sleep(0)) return;
    if (!await this.#status("initiated")) return;
    if (outcome === "answer" || outcome === "no-answer") {
      if (!await this.#status("ringing")) return;
    }
    if (!await this.#sleep(ringMs)) return;
    if (outcome !== "answer") {
      await this.#status(outcome, { CallDuration: "0" });
      return;
    }
    this.#answeredAt = Date.now();
    if (!await this.#status("in-progress")) return;
    for (const prompt of this.request.prompts ?? []) {
      if (!await this.#transcript(prompt)) return;
    }
    const seconds = Math.max(1, Math.ceil((Date.now() - this.#answeredAt) / 1000));
    await this.#status("completed", { CallDuration: String(seconds) });
  }

  // Resolves false when cancelled instead of after `ms`.
  #sleep(ms: number): Promise<boolean> {
    if (this.#cancelled) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#wake = () => resolve(false);
      this.#timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(!this.#cancelled);
      }, ms);
    });
  }

  #common(status: ProviderCallStatus): Record<string, string> {
    const { request, settings } = this;
    return {
      AccountSid: settings.accountSid,
      ApiVersion: "2010-04-01",
      CallSid: settings.providerCallId,
      CallStatus: status,
      Called: request.to,
      Caller: settings.fromNumber,
      Direction: "outbound-api",
      From: settings.fromNumber,
      To: request.to,
    };
  }

  #status(status: ProviderCallStatus, extra: Record<string, string> = {}): Promise<boolean> {
    if (!this.#cancelled) this.#current = status;
    const params = {
      ...this.#common(status),
      CallbackSource: "call-progress-events",
      SequenceNumber: String(this.#sequence++),
      Timestamp: new Date().toUTCString(),
      ...extra,
    };
    return this.#post(this.request.statusCallbackUrl, params, `status ${status}`);
  }

  #transcript(prompt: CallPrompt): Promise<boolean> {
    const params = {
      ...this.#common("in-progress"),
      SpeechResult: this.settings.speech(prompt, this.request),
      Confidence: "0.92",
    };
    const url = transcriptUrlBeside(this.request.statusCallbackUrl, prompt.promptId);
    return this.#post(url, params, `transcript ${prompt.promptId}`);
  }

  // Resolves false when cancelled; a failed post is logged and the call goes on, as Twilio's does.
  async #post(url: string, params: Record<string, string>, what: string): Promise<boolean> {
    if (this.#cancelled) return false;
    const body = new URLSearchParams(params);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "TwilioProxy/1.1 (zien simulated)",
    };
    const { authToken } = this.settings;
    if (authToken !== undefined) {
      headers[TWILIO_SIGNATURE_HEADER] = await signTwilioRequest({ authToken, url, params: body });
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.settings.postTimeoutMs);
    try {
      const response = await this.settings.fetch(url, {
        method: "POST",
        headers,
        body,
        signal: controller.signal,
      });
      await response.body?.cancel();
      if (!response.ok) {
        log.warn("simulated call {callId}: {what} answered HTTP {status}", {
          callId: this.request.callId,
          what,
          status: response.status,
        });
      } else {
        log.debug("simulated call {callId}: posted {what}", { callId: this.request.callId, what });
      }
    } catch (error) {
      log.warn("simulated call {callId}: {what} not delivered: {error}", {
        callId: this.request.callId,
        what,
        error: controller.signal.aborted ? "timed out" : redactText(String(error)),
      });
    } finally {
      clearTimeout(timer);
    }
    return !this.#cancelled;
  }
}
