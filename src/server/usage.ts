/**
 * Usage tracking: one event per API request (route pattern, method, status, duration, person if known),
 * handed to a batch writer so that the request never waits for a database write.
 *
 * @example
 * ```ts
 * const usage = new BatchWriter<UsageEvent>(db.collection("usage_events"), { name: "usage_events" });
 * app.use(usageTracking(usage));
 * ```
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import { WriterFullError } from "../db/mod.ts";
import { getLogger } from "../log.ts";
import type { OptionalUserEnv } from "./auth.ts";

const log = getLogger(["http", "usage"]);

/** One API request, as stored in `usage_events`. */
export type UsageEvent = {
  /** The matched route pattern (`/api/entries/:id`), never the raw path; `(unmatched)` for a 404 no route took. */
  route: string;
  method: string;
  status: number;
  /** From the middleware's start to the response, milliseconds. */
  durationMs: number;
  /** The person's id, when `requireUser` or `optionalUser` authenticated the request (`c.var.user`). */
  user?: string;
  at: Date;
};

/** What the middleware needs of a writer: `add()` (a `BatchWriter<UsageEvent>` fits). */
export interface EventSink<T> {
  add(event: T): Promise<void>;
}

/**
 * Hands `event` to `sink`, resolving false when it was not taken. A full writer has already said so once and
 * counts what it refuses, so only other failures reach `warn` (a line per request would flood the log).
 */
export async function addEvent<T>(
  sink: EventSink<T>,
  event: T,
  warn: (error: string) => void,
): Promise<boolean> {
  try {
    await sink.add(event);
    return true;
  } catch (err) {
    if (!(err instanceof WriterFullError)) warn(err instanceof Error ? err.message : String(err));
    return false;
  }
}

/** Which requests are tracked. */
export interface UsageTrackingOptions {
  /** Tracks a request when this holds for its path. Default: paths under `/api/`. */
  include?: (path: string) => boolean;
}

/** The route label of a request that no route took. */
export const UNMATCHED_ROUTE = "(unmatched)";

/**
 * A Hono middleware that, after each tracked request, adds a {@linkcode UsageEvent} to `writer`. It does
 * not wait for the database: `add()` resolves at once, or once the event is in a spill file when the
 * writer's memory is full. A writer that refuses (closed during shutdown, or full on disk too) never turns
 * into an error response.
 *
 * Register it before the routes, so that it sees their final status (errors included).
 */
export function usageTracking(
  writer: EventSink<UsageEvent>,
  options: UsageTrackingOptions = {},
): MiddlewareHandler<OptionalUserEnv> {
  const include = options.include ?? ((path: string) => path.startsWith("/api/"));
  return async (c, next) => {
    if (!include(c.req.path)) return await next();
    const started = performance.now();
    try {
      await next();
    } finally {
      const event: UsageEvent = {
        route: matchedRoute(c),
        method: c.req.method,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        at: new Date(),
      };
      const user = c.get("user");
      if (user !== undefined) event.user = user;
      await addEvent(
        writer,
        event,
        (error) =>
          log.warn("usage event for {method} {route} not recorded: {error}", {
            method: event.method,
            route: event.route,
            error,
          }),
      );
    }
  };
}

/**
 * The pattern of the route that answered. After `next()`, Hono's current route is the deepest one that
 * ran; when that is a wildcard middleware and the answer is 404, no route took the request.
 */
export function matchedRoute(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  if (!route) return UNMATCHED_ROUTE;
  if (c.res.status === 404 && route.method === "ALL" && route.path.endsWith("*")) return UNMATCHED_ROUTE;
  return routePath(c);
}
