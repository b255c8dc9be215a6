/**
 * The concept routes: `POST /api/{Concept}/{action}` for every registered action, and
 * `GET /api/openapi.json`.
 *
 * @module
 */
import { type Context, type Handler, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Concepts } from "../../concepts/mod.ts";
import { retryRead } from "../../db/mod.ts";
import { requireUser, type UserVariables } from "../auth.ts";
import { refusal } from "../errors.ts";
import { clientAddress, type RequestVariables } from "../request_context.ts";
import { accountThrottles, addressKey, type AddressLimits } from "../throttle.ts";
import { checkContentType, MAX_BODY_BYTES, readJson, refuseOperatorKeys, validate } from "./body.ts";
import { buildOpenApi } from "./openapi.ts";
import { docsRoutes } from "./docs.ts";
import { responseSchema } from "./responses.ts";
import { type ActionDone, ACTIONS, type ActionSpec, type Caller, lookupAction } from "./registry.ts";

// `user` and `sessionToken` are set only on the actions behind `requireUser` (those with `spec.auth`).
type Env = { Variables: RequestVariables & UserVariables };

/** What the concept routes need. */
export interface ConceptRoutesOptions {
  concepts: Concepts;
  /** Called after each action that succeeded. */
  onAction?: (done: ActionDone) => void;
  /** The per-address allowances of register and login; the defaults are the exported constants. */
  throttle?: AddressLimits;
  /** Proxies whose `X-Forwarded-For` names the client (APP_TRUSTED_PROXIES). */
  trustedProxies?: readonly string[];
}

// Cheap refusals first, before the token is looked up or the body read: wrong method, then a declared
// type that is not JSON.
function preflight(spec: ActionSpec): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (c.req.method !== "POST") {
      throw refusal(405, `Use POST for ${spec.concept}/${spec.action}.`, { headers: { Allow: "POST" } });
    }
    checkContentType(c);
    await next();
  };
}

const tooLarge = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw refusal(413, `The body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
  },
});

function runAction(
  spec: ActionSpec,
  options: ConceptRoutesOptions,
  address: (c: Context) => string,
): Handler<Env> {
  const { concepts, onAction } = options;
  const answer = responseSchema(spec.concept, spec.action);
  return async (c) => {
    const body = await readJson(c);
    refuseOperatorKeys(body);
    const input = validate(spec.input, body);
    const caller: Caller | undefined = spec.auth
      ? { user: c.var.user, token: c.var.sessionToken }
      : undefined;
    // A query changes nothing, so a network failure is retried once (writes are the driver's to retry).
    const run = () => spec.run(concepts, input, caller, address(c));
    const result = spec.action.startsWith("_") ? await retryRead(run) : await run();
    onAction?.({ concept: spec.concept, action: spec.action, user: caller?.user });
    // Shaped by the schema the API document shows: nothing unpromised leaves, dates become ISO strings.
    return c.json(answer.parse(result) as object);
  };
}

/**
 * The concept API as a Hono app, to be mounted at the root after `requestId()` and with `errorHandler()`
 * as the app's error handler, which renders every refusal. Each registered action gets its own route, so
 * route-labelled metrics tell the actions apart; the actions that belong to a person sit behind
 * `requireUser`. A PascalCase catch-all answers 404 for the rest. Lower-case paths under `/api/` (health,
 * `openapi.json`) never reach it.
 *
 * @example
 * ```ts
 * app.route("/", conceptRoutes({ concepts }));
 * ```
 */
export function conceptRoutes(options: ConceptRoutesOptions): Hono<Env> {
  const app = new Hono<Env>();
  const document = buildOpenApi(ACTIONS);
  const person = requireUser<Env>(options.concepts.userAuth);
  const open: MiddlewareHandler<Env> = (_c, next) => next();
  const proxies = new Set(options.trustedProxies ?? []);
  // One key per client for both the in-memory throttles and the login counters in the database.
  const address = (c: Context) => addressKey(clientAddress(c, proxies));
  const throttles = accountThrottles(address, options.throttle);
  const guards: Record<string, MiddlewareHandler<Env>> = {
    "UserAuth/register": throttles.register,
    "UserAuth/login": throttles.login,
  };
  app.get("/api/openapi.json", (c) => c.json(document));
  app.route("/", docsRoutes());
  for (const spec of ACTIONS) {
    const path = `${spec.concept}/${spec.action}`;
    const guard = spec.auth ? person : guards[path] ?? open;
    app.all(`/api/${path}`, preflight(spec), guard, tooLarge, runAction(spec, options, address));
  }
  app.all("/api/:concept{[A-Z][A-Za-z]*}/:action", (c) => {
    const { concept, action } = c.req.param();
    const conceptKnown = lookupAction(concept, action) === "no_action";
    throw refusal(
      404,
      conceptKnown
        ? `${concept} has no action or query named ${action}.`
        : `There is no concept named ${concept}.`,
    );
  });
  return app;
}
