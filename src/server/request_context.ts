/**
 * Per-request context: an `X-Request-Id` on every request and response, carried into every log line the
 * request produces, and one error handler that never leaks internals.
 *
 * @module
 */
import type { Context, ErrorHandler, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { isTransientDbError } from "../db/mod.ts";
import { getLogger, withContext } from "../log.ts";

const log = getLogger(["http"]);

/** The variables this middleware sets on the Hono context. */
export interface RequestVariables {
  requestId: string;
}

const incomingId = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` when it is a safe token, else a fresh UUID),
 * echoes it in the response and puts it in the log context of everything the request runs.
 */
export function requestId(): MiddlewareHandler<{ Variables: RequestVariables }> {
  return async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = given && incomingId.test(given) ? given : crypto.randomUUID();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await withContext({ requestId: id }, next);
  };
}

/**
 * The app-wide error handler: `HTTPException`s answer as they say; a pool checkout timeout or an unreachable
 * database answers 503 with `Retry-After`; anything else is a 500 carrying only the request id, while the log
 * gets the stack under the same id.
 */
export function errorHandler(retryAfterSeconds = 1): ErrorHandler {
  return (err, c: Context) => {
    const id = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
    if (err instanceof HTTPException) return err.getResponse();
    if (isTransientDbError(err)) {
      log.warn("database unavailable for {method} {path}: {error}", {
        method: c.req.method,
        path: c.req.path,
        error: err.name,
        requestId: id,
      });
      c.header("Retry-After", String(retryAfterSeconds));
      return c.json({ error: "The database is busy; retry shortly.", requestId: id }, 503);
    }
    log.error("unexpected error in {method} {path} (request {requestId}): {stack}", {
      method: c.req.method,
      path: c.req.path,
      requestId: id,
      stack: err.stack ?? String(err),
    });
    return c.json({ error: "Internal server error", requestId: id }, 500);
  };
}
