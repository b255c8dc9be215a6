/**
 * Prometheus metrics on one app-owned `prom-client` registry (never the global one): the pool, command
 * durations, the server's view of connections, HTTP requests by route and status, and the workers. Served
 * by `metricsRoute()` at `GET /metrics`, behind a bearer token when one is set.
 *
 * Later code (batch writers, caches, workers) adds its own metrics to the same registry:
 *
 * ```ts
 * import { Counter } from "prom-client";
 * const flushes = new Counter({
 *   name: "zien_batch_flushes_total",
 *   help: "Batches written.",
 *   registers: [metrics.registry],
 * });
 * flushes.inc();
 * ```
 *
 * Names must pass `promtool check metrics`: counters end in `_total`, other metrics must not end in
 * `_total` or `_count`, units are base units (`_seconds`, `_bytes`).
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ pool: monitor, serverView: () => cachedView, workers: () => statuses });
 * app.use(httpMetrics(metrics));
 * app.route("/", metricsRoute(metrics, { token: config.metricsToken }));
 * ```
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import { requireAdmin } from "../auth.ts";
import { matchedRoute } from "../usage.ts";
import { Gauge, Histogram, Registry } from "prom-client";
import process from "node:process";
import type { PoolMonitor, ServerView } from "../../db/mod.ts";
import { scrapedCounter, scrapedGauge } from "./collect.ts";
import { registerPoolMetrics, registerServerViewMetrics } from "./pool.ts";
import { registerWorkerMetrics, type WorkerMetricsStatus, type WorkerStatus } from "./workers.ts";

export type { WorkerMetricsStatus, WorkerStatus };

/** Where the metrics read from; each source is optional. */
export interface MetricsSources {
  /** The pool monitor; its figures are read at scrape time and its events feed the histograms. */
  pool?: PoolMonitor;
  /** The latest cached server view (metrics never query the server themselves). */
  serverView?: () => ServerView | null | undefined;
  /** The workers' statuses. */
  workers?: () => WorkerMetricsStatus[];
}

/** The app's metrics. */
export interface Metrics {
  /** The registry every metric of this app lives on; add yours with `registers: [metrics.registry]`. */
  readonly registry: Registry;
  /** Records one finished HTTP request (`httpMetrics` calls this). */
  observeHttpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Stops feeding the histograms from the pool monitor's events. */
  close(): void;
}

/** OpenTelemetry's advised boundaries for `http.server.request.duration`, in seconds. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

/**
 * Creates the registry and registers every metric whose source is given.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ pool: monitor });
 * const text = await metrics.registry.metrics();
 * ```
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  const unsubscribe = sources.pool ? registerPoolMetrics(registry, sources.pool) : () => {};
  if (sources.serverView) registerServerViewMetrics(registry, sources.serverView);
  if (sources.workers) registerWorkerMetrics(registry, sources.workers);
  registerProcessMetrics(registry);
  const http = new Histogram({
    name: "http_server_request_duration_seconds",
    help: "Duration of HTTP requests, by method, matched route pattern and status code.",
    labelNames: ["http_request_method", "http_route", "http_response_status_code"],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    observeHttpRequest(method, route, status, seconds) {
      http.observe({
        http_request_method: KNOWN_METHODS.has(method) ? method : "_OTHER",
        http_route: route,
        http_response_status_code: String(status),
      }, seconds);
    },
    close: unsubscribe,
  };
}

// Cheap figures from the runtime itself; prom-client's default metrics read /proc, which we may not.
function registerProcessMetrics(registry: Registry): void {
  scrapedCounter(registry, {
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
  }, (c) => {
    const { user, system } = process.cpuUsage();
    c.inc((user + system) / 1e6);
  });
  scrapedGauge(registry, {
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
  }, (g) => g.set(Deno.memoryUsage().rss));
  const start = new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since the Unix epoch, in seconds.",
    registers: [registry],
  });
  // Full precision: instances started together (one port, APP_REUSE_PORT) must still tell apart.
  start.set(performance.timeOrigin / 1000);
}

/**
 * Middleware that times every request and records it under the matched route pattern (`/entries/:id`),
 * never the raw path; requests no route answered are recorded as `unmatched`. Mount it first, with `app.use`.
 *
 * @example
 * ```ts
 * app.use(httpMetrics(metrics));
 * ```
 */
export function httpMetrics(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    let threw = false;
    try {
      await next();
    } catch (error) {
      threw = true;
      throw error;
    } finally {
      const status = threw ? 500 : c.res.status;
      metrics.observeHttpRequest(
        c.req.method,
        matchedRoute(c),
        status,
        (performance.now() - started) / 1000,
      );
    }
  };
}

/** Options of `metricsRoute`. */
export interface MetricsRouteOptions {
  /** When set, requests need `Authorization: Bearer <token>`. */
  token?: string;
}

/**
 * A Hono app serving `GET /metrics` in Prometheus text format; 401 without the bearer token when one is set.
 *
 * @example
 * ```ts
 * app.route("/", metricsRoute(metrics, { token: Deno.env.get("METRICS_TOKEN") }));
 * ```
 */
export function metricsRoute(metrics: Metrics, options: MetricsRouteOptions = {}): Hono {
  const app = new Hono();
  const guard: MiddlewareHandler = options.token ? requireAdmin(options.token) : (_c, next) => next();
  app.get("/metrics", guard, async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "Content-Type": metrics.registry.contentType, "Cache-Control": "no-store" });
  });
  return app;
}
