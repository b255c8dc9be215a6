/**
 * The HTTP app: Hono's small core, with behaviour added as middleware and routes mounted from modules.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { errorHandler, requestId } from "./request_context.ts";
import { errorJson } from "./errors.ts";
import { accessLog } from "./access_log.ts";
import { healthRoutes, type HealthSources } from "./health.ts";

/** A module of routes mounted at the root; each declares its own context variables. */
// deno-lint-ignore no-explicit-any -- any Env: the app only mounts it
export type RouteModule = Hono<any, any, any>;

/** What the app is made of. */
export interface AppParts {
  health: HealthSources;
  /** Whether each request gets an access log line (LOG_ACCESS). @default true */
  accessLog?: boolean;
  /** Origins allowed by CORS; empty allows none. */
  corsOrigins: string[];
  /** Middleware that sees every request after the request id is set (metrics, usage tracking). */
  middleware?: MiddlewareHandler[];
  /** Route modules mounted at the root (concepts, webhooks, analytics, metrics). */
  routes?: RouteModule[];
}

/**
 * Builds the app: request ids, the access log, CORS, the given middleware and routes, health, and one error handler that
 * turns pool timeouts into 503 + Retry-After and anything unexpected into a 500 with the request id.
 *
 * @example
 * ```ts
 * const app = createApp({ health, corsOrigins: [], routes: [conceptRoutes({ concepts })] });
 * Deno.serve({ port: 8000 }, app.fetch);
 * ```
 */
export function createApp(parts: AppParts): Hono {
  // deno-lint-ignore no-explicit-any -- route modules declare their own variables
  const app = new Hono<any>();
  app.use(requestId());
  if (parts.accessLog ?? true) app.use(accessLog());
  if (parts.corsOrigins.length > 0) app.use("/api/*", cors({ origin: parts.corsOrigins }));
  for (const middleware of parts.middleware ?? []) app.use(middleware);
  app.route("/", healthRoutes(parts.health));
  for (const routes of parts.routes ?? []) app.route("/", routes);
  app.notFound((c) => errorJson(c, 404, `No route for ${c.req.method} ${c.req.path}`));
  app.onError(errorHandler());
  return app;
}
