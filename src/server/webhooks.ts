/**
 * The telephony webhooks, an HTTP adapter over `calls/`'s callbacks: `POST /webhooks/telephony/status` (a call's status), `POST
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
 * const routes = webhookRoutes(calls.webhooks); // calls = createCallRuntime(...)
 * startServer({ ..., routes: [routes] });
 * ```
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "../log.ts";
import { backoffDelayMs } from "../backoff.ts";
import { isTransientDbError } from "../db/mod.ts";
import {
  type CallWebhooks,
  firstPrompt,
  handleStatusCallback,
  handleTranscriptCallback,
} from "../calls/mod.ts";
import {
  hangupTwiml,
  parseCallbackAddress,
  parseStatusCallback,
  parseTranscriptCallback,
  promptTwiml,
  publicRequestUrl,
  transcriptCallbackUrl,
  TWILIO_SIGNATURE_HEADER,
  TWIML_CONTENT_TYPE,
  verifyTwilioSignature,
  WEBHOOK_PATHS,
} from "../telephony/mod.ts";

const log = getLogger(["http", "webhooks"]);

/** How long a callback keeps retrying a database that is away (an election), well inside Twilio's 15 s. */
export const CALLBACK_DB_RETRY_MS = 8_000;

const CALLBACK_RETRY = { baseMs: 100, maxMs: 1_000 };

/**
 * Runs a callback's database work again while the database is away. Twilio never retries a status callback:
 * a 503 would leave the call in progress until its lease expires, and then it is placed a second time. The
 * handlers are idempotent (an advance is a conditional update, a response is set by its prompt id).
 */
async function riding<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + CALLBACK_DB_RETRY_MS;
  for (let attempt = 1;; attempt++) {
    const delayMs = backoffDelayMs(CALLBACK_RETRY, attempt);
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
export function webhookRoutes(deps: CallWebhooks): Hono {
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
    const callback = parseStatusCallback(new URL(c.req.url), await formOf(c));
    if (callback === undefined) return c.text("Expected callId, CallSid and a known CallStatus", 400);
    await riding(() => handleStatusCallback(deps.flow, callback));
    return c.body(null, 204);
  });

  app.post(WEBHOOK_PATHS.transcript, async (c) => {
    const callback = parseTranscriptCallback(new URL(c.req.url), await formOf(c));
    if (callback === undefined) return c.text("Expected callId, promptId and CallSid", 400);
    const { next } = await riding(() => handleTranscriptCallback(deps.flow, callback));
    const { attempt, callId } = callback;
    if (next === undefined || attempt === undefined) return twiml(c, hangupTwiml("Thank you. Goodbye."));
    const action = transcriptCallbackUrl(deps.callbackBaseUrl(), callId, next.promptId, attempt);
    return twiml(c, promptTwiml(next.text, action));
  });

  app.post(WEBHOOK_PATHS.voice, async (c) => {
    const { callId, attempt } = parseCallbackAddress(new URL(c.req.url));
    const providerCallId = (await formOf(c)).get("CallSid");
    if (callId === undefined || providerCallId === null) return c.text("Expected callId and CallSid", 400);
    const first = await riding(() => firstPrompt(deps.flow, { callId, attempt, providerCallId }));
    if (first === undefined || attempt === undefined) return twiml(c, hangupTwiml());
    const action = transcriptCallbackUrl(deps.callbackBaseUrl(), callId, first.promptId, attempt);
    return twiml(c, promptTwiml(first.text, action));
  });

  return app;
}
