/**
 * Per-request context: an `X-Request-Id` on every request and response, carried into every log line the
 * request produces, and one error handler that never leaks internals.
 *
 * @module
 */
import type { Context, ErrorHandler, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
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

const transientDbErrors = new Set([
  "MongoWaitQueueTimeoutError",
  "MongoServerSelectionError",
  "MongoPoolClearedError",
  "PoolClearedOnNetworkError",
  "MongoPoolClosedError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
]);

// An election: the server's not-primary and stepping-down codes (NotWritablePrimary, PrimarySteppedDown,
// InterruptedDueToReplStateChange, ShutdownInProgress, InterruptedAtShutdown, NotPrimaryNoSecondaryOk,
// NotPrimaryOrSecondary), when they outlast the driver's one retry.
const electionCodes = new Set([10107, 189, 11602, 91, 11600, 13435, 13436]);

// Deno's node:net raises this, unwrapped, when the driver writes to a socket the server has closed.
const SOCKET_ENDED = /This socket has been ended by the other party/;

/** Errors that mean "the database is saturated or away right now": the caller should retry. */
export function isTransientDbError(err: unknown): boolean {
  const error = err as { name?: string; code?: unknown; hasErrorLabel?: (label: string) => boolean } | null;
  if (transientDbErrors.has(error?.name ?? "")) return true;
  if (err instanceof Error && SOCKET_ENDED.test(err.message)) return true;
  if (!error?.name?.startsWith("Mongo")) return false;
  return electionCodes.has(error.code as number) || error.hasErrorLabel?.("RetryableWriteError") === true;
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
