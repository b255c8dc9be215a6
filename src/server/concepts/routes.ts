/**
 * The concept routes: `POST /api/{Concept}/{action}` for every registered action, and
 * `GET /api/openapi.json`.
 *
 * @module
 */
import { type Context, type Handler, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ConceptError, type Concepts } from "../../concepts/mod.ts";
import { getLogger } from "../../log.ts";
import type { RequestVariables } from "../request_context.ts";
import { checkContentType, MAX_BODY_BYTES, readJson, refuseOperatorKeys, validate } from "./body.ts";
import { ApiError, CONCEPT_ERROR_STATUS, errorResponse } from "./http_errors.ts";
import { buildOpenApi } from "./openapi.ts";
import { docsRoutes } from "./docs.ts";
import { responseSchema } from "./responses.ts";
import { ACTIONS, type ActionSpec, type Caller, lookupAction } from "./registry.ts";

const log = getLogger(["http", "concepts"]);

type Env = { Variables: RequestVariables & { user?: string } };

/** A concept action that succeeded, for whoever keeps derived state (caches) in step. */
export interface ActionDone {
  concept: string;
  action: string;
  /** The person it was done for, when the action needs one. */
  user?: string;
}

/** What the concept routes need. */
export interface ConceptRoutesOptions {
  concepts: Concepts;
  /** Called after each action that succeeded. */
  onAction?: (done: ActionDone) => void;
}

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

async function authenticate(c: Context, concepts: Concepts): Promise<Caller> {
  const match = BEARER.exec(c.req.header("authorization") ?? "");
  const refuse = (message: string) =>
    new ApiError(401, message, { headers: { "WWW-Authenticate": 'Bearer realm="zien"' } });
  if (!match) throw refuse("Log in and send the token as Authorization: Bearer <token>.");
  try {
    const { user } = await concepts.userAuth.authenticate({ token: match[1] });
    return { user, token: match[1] };
  } catch (err) {
    if (err instanceof ConceptError && err.kind === "unauthorized") throw refuse(err.message);
    throw err;
  }
}

function fromConceptError(err: ConceptError): ApiError {
  const headers: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.retryAfterSeconds);
  if (err.kind === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="zien"';
  return new ApiError(CONCEPT_ERROR_STATUS[err.kind], err.message, { headers });
}

// Refusals are answered here; anything else propagates to the app's error handler (503 or 500).
function refusal(c: Context, err: unknown): Response {
  const refused = err instanceof ConceptError ? fromConceptError(err) : err;
  if (!(refused instanceof ApiError)) throw err;
  log.debug("refused {path} with {status}: {reason}", {
    path: c.req.path,
    status: refused.status,
    reason: refused.message,
  });
  return errorResponse(c, refused);
}

// Cheap refusals first, before the body is read: wrong method, then a declared type that is not JSON.
function preflight(spec: ActionSpec): MiddlewareHandler<Env> {
  return async (c, next) => {
    try {
      if (c.req.method !== "POST") {
        const path = `${spec.concept}/${spec.action}`;
        throw new ApiError(405, `Use POST for ${path}.`, { headers: { Allow: "POST" } });
      }
      checkContentType(c);
    } catch (err) {
      return refusal(c, err);
    }
    await next();
  };
}

const tooLarge = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => refusal(c, new ApiError(413, `The body is larger than ${MAX_BODY_BYTES / 1024} KiB.`)),
});

function runAction(spec: ActionSpec, options: ConceptRoutesOptions): Handler<Env> {
  const { concepts, onAction } = options;
  const answer = responseSchema(spec.concept, spec.action);
  return async (c) => {
    try {
      const body = await readJson(c);
      refuseOperatorKeys(body);
      const input = validate(spec.input, body);
      const caller = spec.auth ? await authenticate(c, concepts) : undefined;
      // Later middleware (usage tracking) reads the person from the context.
      if (caller) c.set("user", caller.user);
      const result = await spec.run(concepts, input, caller);
      onAction?.({ concept: spec.concept, action: spec.action, user: caller?.user });
      // Shaped by the schema the API document shows: nothing unpromised leaves, dates become ISO strings.
      return c.json(answer.parse(result) as object);
    } catch (err) {
      return refusal(c, err);
    }
  };
}

/**
 * The concept API as a Hono app, to be mounted at the root after `requestId()` and with `errorHandler()`
 * as the app's error handler. Each registered action gets its own route, so route-labelled metrics tell
 * the actions apart; a PascalCase catch-all answers 404 for the rest. Lower-case paths under `/api/`
 * (health, `openapi.json`) never reach it.
 *
 * @example
 * ```ts
 * app.route("/", conceptRoutes({ concepts }));
 * ```
 */
export function conceptRoutes(options: ConceptRoutesOptions): Hono<Env> {
  const app = new Hono<Env>();
  const document = buildOpenApi(ACTIONS);
  app.get("/api/openapi.json", (c) => c.json(document));
  app.route("/", docsRoutes());
  for (const spec of ACTIONS) {
    app.all(`/api/${spec.concept}/${spec.action}`, preflight(spec), tooLarge, runAction(spec, options));
  }
  app.all("/api/:concept{[A-Z][A-Za-z]*}/:action", (c) => {
    const { concept, action } = c.req.param();
    const conceptKnown = lookupAction(concept, action) === "no_action";
    const message = conceptKnown
      ? `${concept} has no action or query named ${action}.`
      : `There is no concept named ${concept}.`;
    return refusal(c, new ApiError(404, message));
  });
  return app;
}
