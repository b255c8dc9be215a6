/**
 * The HTTP side of the app: the Hono app and its server, health, metrics, usage tracking, analytics, stats
 * and the concept routes.
 *
 * @example
 * ```ts
 * import { startServer } from "./server/mod.ts";
 * const server = await startServer({ db, config, observability, isShuttingDown, routes });
 * ```
 * @module
 */
export { type AppParts, createApp, type RouteModule } from "./app.ts";
export { type ConnectionsReport, healthRoutes, type HealthSources, READY_PING_TIMEOUT_MS } from "./health.ts";
export { errorHandler, requestId, type RequestVariables } from "./request_context.ts";
export * from "./auth.ts";
export { type AccessLine, accessLog } from "./access_log.ts";
export {
  CONCEPT_ERROR_STATUS,
  type ErrorBody,
  errorJson,
  type FieldIssue,
  fieldIssues,
  refusal,
  type RefusalOptions,
} from "./errors.ts";
export * from "./metrics.ts";
export { registerBatchMetrics } from "./metrics_batch.ts";
export { createObservability, type Observability, type ObservabilityParts } from "./observability.ts";
export { type RunningServer, type ServerParts, startServer } from "./serve.ts";
export { StatsCache, type StatsCacheOptions, type StatsQueries, statsRoutes } from "./stats.ts";
export * from "./usage.ts";
export * from "./analytics.ts";
export * from "./concepts/mod.ts";
