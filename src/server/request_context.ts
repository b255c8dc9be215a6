/**
 * Per-request context: an `X-Request-Id` on every request and response, carried into every log line the
 * request produces, and one error handler that never leaks internals.
 *
 * @module
 */
import type { Context, ErrorHandler, MiddlewareHandler } from "hono";
import { getLogger, withContext } from "../log.ts";
import { asRefusal, renderRefusal } from "./errors.ts";

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
 * The client's address: the socket's peer (`Deno.serve` hands it to Hono as `c.env`), or `unknown` when there
 * is no socket (`app.request` in tests). When the peer is one of `trustedProxies`, `X-Forwarded-For` is read
 * from the right, past every trusted hop, to the first address a trusted proxy saw; from anyone else the
 * header is ignored, since a client can send whatever it likes there.
 */
export function clientAddress(c: Context, trustedProxies: ReadonlySet<string> = NO_PROXIES): string {
  const info = c.env as Partial<Deno.ServeHandlerInfo<Deno.NetAddr>> | undefined;
  const peer = info?.remoteAddr?.hostname ?? "unknown";
  if (!trustedProxies.has(peer)) return peer;
  const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((hop) => hop.trim()).filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i].slice(0, 64);
    if (!trustedProxies.has(client)) break;
  }
  return client;
}

const NO_PROXIES: ReadonlySet<string> = new Set();

const transientDbErrors = new Set([
  "MongoWaitQueueTimeoutError",
  "MongoServerSelectionError",
  "MongoPoolClearedError",
  "PoolClearedOnNetworkError",
  "MongoPoolClosedError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
]);

/** Errors that mean "the database is saturated or away right now": the caller should retry. */
function isTransientDbError(err: unknown): boolean {
  return transientDbErrors.has((err as { name?: string } | null)?.name ?? "");
}

/**
 * The app-wide error handler, the one place error answers are rendered, all in the shape
 * `{ error, requestId, issues? }`: a refusal (`HTTPException`, or a concept's `ConceptError`) answers with its
 * status, sentence and headers; a pool checkout timeout or an unreachable database answers 503 with
 * `Retry-After`; anything else is a 500 carrying only the request id, while the log gets the stack under
 * the same id.
 */
export function errorHandler(retryAfterSeconds = 1): ErrorHandler {
  return (err, c: Context) => {
    const refused = asRefusal(err);
    if (refused) {
      log.debug("refused {method} {path} with {status}: {reason}", {
        method: c.req.method,
        path: c.req.path,
        status: refused.status,
        reason: refused.message,
      });
      return renderRefusal(c, refused);
    }
    const id = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
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
