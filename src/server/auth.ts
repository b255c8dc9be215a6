/**
 * Who is calling: one middleware that authenticates a person's bearer token and sets `c.var.user`, and one
 * admin guard for the operator's routes. Both refuse with 401 in the one error shape.
 *
 * @example
 * ```ts
 * app.get("/api/stats", requireUser(concepts.userAuth), (c) => c.json({ user: c.var.user }));
 * app.get("/api/health/connections", requireAdmin(config.http.adminToken), handler);
 * ```
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import { ConceptError } from "../concepts/mod.ts";
import { BEARER_CHALLENGE, refusal } from "./errors.ts";

/** What the person middleware sets on the context. */
export interface UserVariables {
  /** The person's id. */
  user: string;
  /** The bearer token itself, for `logout`; never logged. */
  sessionToken: string;
}

/** The Hono env of a route behind `requireUser`. */
export type UserEnv = { Variables: UserVariables };

/** The Hono env of a route behind `optionalUser`: the person is known when a token came. */
export type OptionalUserEnv = { Variables: Partial<UserVariables> };

/** What the middleware needs to resolve a token (`UserAuth` fits). */
export interface TokenAuthenticator {
  authenticate(input: { token: string }): Promise<{ user: string }>;
}

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerToken(c: Context): string | undefined {
  return BEARER.exec(c.req.header("authorization") ?? "")?.[1];
}

function unauthorized(message: string) {
  return refusal(401, message, { headers: { "WWW-Authenticate": BEARER_CHALLENGE } });
}

function authenticateUser(auth: TokenAuthenticator, required: boolean): MiddlewareHandler<UserEnv> {
  return async (c: Context<UserEnv>, next) => {
    const token = bearerToken(c);
    if (token === undefined) {
      if (required || c.req.header("authorization") !== undefined) {
        throw unauthorized("Log in and send the token as Authorization: Bearer <token>.");
      }
      return await next();
    }
    try {
      const { user } = await auth.authenticate({ token });
      c.set("user", user);
      c.set("sessionToken", token);
    } catch (err) {
      if (err instanceof ConceptError && err.kind === "unauthorized") throw unauthorized(err.message);
      throw err;
    }
    await next();
  };
}

/**
 * Refuses (401) a request without a valid person's bearer token; otherwise sets `c.var.user` (and
 * `c.var.sessionToken`) for the route and for the middleware around it (usage events, the access log).
 */
export function requireUser<E extends UserEnv = UserEnv>(auth: TokenAuthenticator): MiddlewareHandler<E> {
  // Any env that declares the person's variables can take it; Hono's handler types are invariant in E.
  return authenticateUser(auth, true) as unknown as MiddlewareHandler<E>;
}

/**
 * Like `requireUser`, but a request without an `Authorization` header passes anonymously. A header that is
 * there must hold a valid token: a stale one is refused rather than silently ignored.
 */
export function optionalUser(auth: TokenAuthenticator): MiddlewareHandler<OptionalUserEnv> {
  return authenticateUser(auth, false) as MiddlewareHandler<OptionalUserEnv>;
}

/**
 * The operator's guard: refuses (401) unless the bearer token is one of `tokens`, compared in constant
 * time (Hono's `timingSafeEqual` compares SHA-256 digests). Undefined entries are ignored, so
 * `requireAdmin(config.http.metricsToken)` with no token set refuses everyone.
 */
export function requireAdmin(...tokens: (string | undefined)[]): MiddlewareHandler {
  const accepted = tokens.filter((t): t is string => t !== undefined && t !== "");
  return async (c, next) => {
    const given = bearerToken(c);
    let matched = false;
    // Every accepted token is compared, so the time does not tell which one (or whether any) matched.
    for (const token of accepted) {
      if (await timingSafeEqual(token, given ?? "")) matched = true;
    }
    if (!matched || given === undefined) {
      throw unauthorized("This route needs the operator's token as Authorization: Bearer <token>.");
    }
    await next();
  };
}
