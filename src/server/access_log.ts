/**
 * The access log: one line per request with the method, the matched route pattern, the status, the
 * duration in milliseconds, the request id and the person's id when a token named one. Never a header, a
 * query string or a body, so no token or password can reach it.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { getLogger } from "../log.ts";
import type { UserVariables } from "./auth.ts";
import type { RequestVariables } from "./request_context.ts";
import { matchedRoute } from "./usage.ts";

const log = getLogger(["http", "access"]);
const ANONYMOUS = "{method} {route} {status} {durationMs} ms, request {requestId}";
const PERSON = "{method} {route} {status} {durationMs} ms, request {requestId}, user {user}";

/** What one access line carries, as the properties of its log record. */
export interface AccessLine {
  method: string;
  /** The matched route pattern (`/api/JournalEntry/_getEntries`), never the raw path. */
  route: string;
  status: number;
  durationMs: number;
  requestId?: string;
  /** The person's id, when `requireUser` or `optionalUser` authenticated the request. */
  user?: string;
}

/**
 * Middleware that logs one {@linkcode AccessLine} at info level (category `zien.http.access`) after each
 * request. Mount it right after `requestId()`, so it sees the final status of every answer, errors
 * included.
 *
 * @example
 * ```ts
 * app.use(requestId());
 * app.use(accessLog());
 * ```
 */
export function accessLog(): MiddlewareHandler<{ Variables: RequestVariables & Partial<UserVariables> }> {
  return async (c, next) => {
    const started = performance.now();
    let threw = false;
    try {
      await next();
    } catch (err) {
      threw = true;
      throw err;
    } finally {
      // One object per request, handed to logtape as the record's properties (logtape does not copy it).
      const line: AccessLine = {
        method: c.req.method,
        route: matchedRoute(c),
        status: threw ? 500 : c.res.status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        requestId: c.var.requestId,
      };
      const user = c.var.user;
      // The pretty format prints only the message, so everything the line carries is in it.
      if (user === undefined) {
        log.info(ANONYMOUS, line as unknown as Record<string, unknown>);
      } else {
        line.user = user;
        log.info(PERSON, line as unknown as Record<string, unknown>);
      }
    }
  };
}
