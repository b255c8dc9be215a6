/**
 * Prometheus metrics on one app-owned registry: the pool, commands, the server's view of connections, HTTP
 * requests, the workers and the batch writers, served at `GET /metrics`.
 *
 * @example
 * ```ts
 * import { createMetrics, httpMetrics, metricsRoute } from "./server/metrics/mod.ts";
 * const metrics = createMetrics({ pool: monitor });
 * app.use(httpMetrics(metrics));
 * app.route("/", metricsRoute(metrics, { token: config.http.metricsToken }));
 * ```
 * @module
 */
export * from "./registry.ts";
export { registerBatchMetrics } from "./batch.ts";
