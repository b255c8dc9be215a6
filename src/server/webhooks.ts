/**
 * The telephony webhooks: `POST /webhooks/telephony/status` (a call's status), `POST
 * /webhooks/telephony/transcript` (the speech for one prompt) and `POST /webhooks/telephony/voice` (the TwiML
 * Twilio runs when the person picks up). Form-encoded, as Twilio sends them and the simulated provider
 * imitates.
 *
 * With an auth token configured (always with `TELEPHONY_PROVIDER=twilio`), every request must carry a valid
 * `X-Twilio-Signature` over the public URL (`PUBLIC_BASE_URL` + path + query) and the form parameters; an
 * unsigned or forged request gets 403 before anything is read from the database.
 *
 * @example
 * ```ts
 * const routes = webhookRoutes({ ...callFlowDeps, authToken, publicBaseUrl, callbackBaseUrl: () => base });
 * startServer({ ..., routes: [routes] });
 * ```
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "../log.ts";
import { isTransientDbError } from "./request_context.ts";
import {
  hangupTwiml,
  parseStatusCallback,
  parseTranscriptCallback,
  promptTwiml,
  publicRequestUrl,
  TWILIO_SIGNATURE_HEADER,
  TWIML_CONTENT_TYPE,
  verifyTwilioSignature,
  WEBHOOK_PATHS,
} from "../telephony/mod.ts";
import { firstPrompt, handleStatusCallback, handleTranscriptCallback } from "../workers/call_callbacks.ts";
import type { CallFlowDeps } from "../workers/call_outcomes.ts";
import { attemptOf, attemptTranscriptUrl } from "../workers/call_urls.ts";

const log = getLogger(["http", "webhooks"]);

/** How long a callback keeps retrying a database that is away (an election), well inside Twilio's 15 s. */
export const CALLBACK_DB_RETRY_MS = 8_000;

/**
 * Runs a callback's database work again while the database is away. Twilio never retries a status callback:
 * a 503 would leave the call in progress until its lease expires, and then it is placed a second time. The
 * handlers are idempotent (an advance is a conditional update, a response is set by its prompt id).
 */
async function riding<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + CALLBACK_DB_RETRY_MS;
  for (let delayMs = 100;; delayMs = Math.min(delayMs * 2, 1_000)) {
    try {
      return await work();
    } catch (err) {
      if (!isTransientDbError(err) || Date.now() + delayMs > deadline) throw err;
      log.info("callback: database unavailable ({error}); again in {delayMs} ms", {
        error: err instanceof Error ? err.name : String(err),
        delayMs,
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The largest callback body accepted; Twilio's are a few hundred bytes. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

/** What the webhook routes need besides the call flows. */
export interface WebhookDeps extends CallFlowDeps {
  /** When set, every request must be signed with it (`TWILIO_AUTH_TOKEN`). */
  authToken?: string;
  /** The base URL Twilio signed (`PUBLIC_BASE_URL`); unset, the URL the request arrived at. */
  publicBaseUrl?: string;
  /** Where the TwiML sends the next transcript: the base the calls were placed with. */
  callbackBaseUrl: () => string;
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;

// Hono keeps the body it read, so the handlers read the form the signature check read.
async function formOf(c: Context): Promise<URLSearchParams> {
  return new URLSearchParams(await c.req.text());
}

function twiml(c: Context, body: string): Response {
  return c.body(body, 200, { "content-type": TWIML_CONTENT_TYPE });
}

/**
 * The webhook routes, mounted at the root.
 *
 * @example
 * ```ts
 * app.route("/", webhookRoutes(deps));
 * ```
 */
export function webhookRoutes(deps: WebhookDeps): Hono {
  const app = new Hono();
  app.use(
    "/webhooks/telephony/*",
    bodyLimit({
      maxSize: MAX_WEBHOOK_BODY_BYTES,
      onError: (c) => c.text("Payload Too Large", 413),
    }),
  );
  app.use("/webhooks/telephony/*", async (c, next) => {
    if (!FORM_TYPE.test(c.req.header("content-type") ?? "")) {
      return c.text("Expected application/x-www-form-urlencoded", 415);
    }
    const form = await formOf(c);
    if (deps.authToken !== undefined) {
      const url = deps.publicBaseUrl === undefined
        ? c.req.url
        : publicRequestUrl(deps.publicBaseUrl, c.req.url);
      const signature = c.req.header(TWILIO_SIGNATURE_HEADER);
      if (!await verifyTwilioSignature({ authToken: deps.authToken, url, params: form, signature })) {
        log.warn("refused a {path} callback: {problem} X-Twilio-Signature", {
          path: c.req.path,
          problem: signature ? "forged" : "no",
        });
        return c.text("Forbidden", 403);
      }
    }
    await next();
  });

  app.post(WEBHOOK_PATHS.status, async (c) => {
    const url = new URL(c.req.url);
    const callback = parseStatusCallback(url, await formOf(c));
    if (callback === undefined) return c.text("Expected callId, CallSid and a known CallStatus", 400);
    await riding(() => handleStatusCallback(deps, callback, attemptOf(url)));
    return c.body(null, 204);
  });

  app.post(WEBHOOK_PATHS.transcript, async (c) => {
    const url = new URL(c.req.url);
    const callback = parseTranscriptCallback(url, await formOf(c));
    if (callback === undefined) return c.text("Expected callId, promptId and CallSid", 400);
    const attempt = attemptOf(url);
    const { next } = await riding(() => handleTranscriptCallback(deps, callback, attempt));
    if (next === undefined || attempt === undefined) return twiml(c, hangupTwiml("Thank you. Goodbye."));
    const action = attemptTranscriptUrl(deps.callbackBaseUrl(), callback.callId, next.promptId, attempt);
    return twiml(c, promptTwiml(next.text, action));
  });

  app.post(WEBHOOK_PATHS.voice, async (c) => {
    const url = new URL(c.req.url);
    const callId = url.searchParams.get("callId");
    const callSid = (await formOf(c)).get("CallSid");
    const attempt = attemptOf(url);
    if (callId === null || callSid === null) return c.text("Expected callId and CallSid", 400);
    const first = await riding(() => firstPrompt(deps, callId, attempt, callSid));
    if (first === undefined || attempt === undefined) return twiml(c, hangupTwiml());
    const action = attemptTranscriptUrl(deps.callbackBaseUrl(), callId, first.promptId, attempt);
    return twiml(c, promptTwiml(first.text, action));
  });

  return app;
}
