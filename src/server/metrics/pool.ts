/**
 * Database metrics: the pool's figures, command durations and the server's view of connections, named after
 * OpenTelemetry's database-client conventions where one exists (`db_client_*`) and `zien_db_*` otherwise.
 *
 * Gauges and event counters read the pool monitor's derived state at scrape time; the histograms are fed
 * from the monitor's per-event observer.
 *
 * @module
 */
import { Counter, type Registry } from "prom-client";
import {
  type PoolMonitor,
  type PoolSnapshot,
  type PoolWarningKind,
  type ServerView,
  WAIT_BUCKETS_MS,
} from "../../db/mod.ts";
import { scrapedCounter, scrapedGauge } from "./collect.ts";
import { FastHistogram, type HistogramSeries } from "./histogram.ts";

/** OpenTelemetry's advised boundaries for `db.client.operation.duration`, in seconds. */
const OPERATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
const USE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Command names are the driver's and bounded, but a stray `db.command()` could invent new ones. */
const MAX_OPERATION_NAMES = 50;
const WARNING_KINDS: PoolWarningKind[] = [
  "utilization",
  "leak",
  "churn",
  "checkoutTimeout",
  "heartbeat",
  "refusing",
];

/**
 * Registers the pool metrics and subscribes the histograms to the monitor's events.
 *
 * @returns the function that unsubscribes them
 */
export function registerPoolMetrics(registry: Registry, pool: PoolMonitor): () => void {
  scrapedGauge(registry, {
    // OTel's `db.client.connection.count` would be `db_client_connection_count`, which promtool rejects
    // ("non-histogram metrics should not have a _count suffix"); this is the same figure under OTel's earlier
    // name for it, `db.client.connections.usage`. Connections being established are in neither state.
    name: "db_client_connections_usage",
    help: "Connections in the pool by state: idle (open, not checked out) or used (checked out).",
    labelNames: ["state"],
  }, (g) => {
    const s = pool.snapshot();
    g.set({ state: "idle" }, s.idle);
    g.set({ state: "used" }, s.inUse);
  });
  scrapedGauge(registry, {
    name: "db_client_connection_max",
    help: "The most connections the pool may hold (maxPoolSize, per server).",
  }, (g) => g.set(pool.snapshot().maxPoolSize));
  scrapedGauge(registry, {
    name: "db_client_connection_pending_requests",
    help: "Checkouts waiting for a connection.",
  }, (g) => g.set(pool.snapshot().waiting));
  scrapedGauge(registry, {
    name: "zien_db_pool_utilization_ratio",
    help: "In-use connections over maxPoolSize for the busiest pool, 0 to 1.",
  }, (g) => g.set(pool.snapshot().utilization));
  scrapedCounter(registry, {
    name: "db_client_connection_timeouts_total",
    help: "Checkouts that timed out waiting for a connection (waitQueueTimeoutMS).",
  }, (c) => c.inc(pool.snapshot().checkoutFailures.timeout));
  scrapedCounter(registry, {
    name: "zien_db_pool_checkout_failures_total",
    help: "Failed checkouts by reason: timeout, pool_closed, connection_error.",
    labelNames: ["reason"],
  }, (c) => {
    const f = pool.snapshot().checkoutFailures;
    c.inc({ reason: "timeout" }, f.timeout);
    c.inc({ reason: "pool_closed" }, f.poolClosed);
    c.inc({ reason: "connection_error" }, f.connectionError);
  });
  const counters: [string, string, (s: PoolSnapshot) => number][] = [
    ["zien_db_pool_connections_created_total", "Connections the pool opened.", (s) => s.connectionsCreated],
    ["zien_db_pool_connections_closed_total", "Connections the pool closed.", (s) => s.connectionsClosed],
    [
      "zien_db_pool_connections_refused_total",
      "Connections closed during the handshake or refused by the server (at its connection limit?).",
      (s) => s.connectionsRefused,
    ],
    ["zien_db_pool_clears_total", "Times a pool was cleared after an error.", (s) => s.poolClears],
    ["zien_db_heartbeat_failures_total", "Failed server heartbeats.", (s) => s.heartbeatFailures],
  ];
  for (const [name, help, read] of counters) {
    scrapedCounter(registry, { name, help }, (c) => c.inc(read(pool.snapshot())));
  }
  scrapedGauge(registry, {
    name: "zien_db_pool_warnings",
    help: "Active pool warnings by kind and level.",
    labelNames: ["kind", "level"],
  }, (g) => {
    for (const kind of WARNING_KINDS) {
      for (const level of ["warning", "critical"]) g.set({ kind, level }, 0);
    }
    for (const warning of pool.warnings()) g.inc({ kind: warning.kind, level: warning.level });
  });
  return observeEvents(registry, pool);
}

function observeEvents(registry: Registry, pool: PoolMonitor): () => void {
  // The monitor's own series (ms), exported in seconds: the percentiles it reports come from the same counts.
  const wait = new FastHistogram(registry, {
    name: "db_client_connection_wait_time_seconds",
    help: "Time to obtain a connection from the pool.",
    buckets: WAIT_BUCKETS_MS,
    scale: 0.001,
  });
  wait.adopt(pool.checkoutWaits());
  const use = new FastHistogram(registry, {
    name: "db_client_connection_use_time_seconds",
    help: "Time between checking a connection out and returning it.",
    buckets: USE_BUCKETS,
  });
  const operations = new FastHistogram(registry, {
    name: "db_client_operation_duration_seconds",
    help: "Duration of database commands, by command name.",
    labelName: "db_operation_name",
    buckets: OPERATION_BUCKETS,
  });
  const operationFailures = new Counter({
    name: "zien_db_operation_failures_total",
    help: "Database commands that failed, by command name.",
    labelNames: ["db_operation_name"],
    registers: [registry],
  });
  // Series resolved once per command name; names past the cap share one series.
  const byName = new Map<string, HistogramSeries>();
  const seriesFor = (name: string): HistogramSeries => {
    let series = byName.get(name);
    if (series) return series;
    if (byName.size >= MAX_OPERATION_NAMES) return operations.series("other");
    series = operations.series(name);
    byName.set(name, series);
    return series;
  };
  return pool.observe({
    connectionUse: (ms) => use.observe(ms / 1000),
    command(name, durationMs, failed) {
      const series = seriesFor(name);
      series.observe(durationMs / 1000);
      if (failed) operationFailures.inc({ db_operation_name: series.labels.db_operation_name });
    },
  });
}

/** Registers the server-side connection gauges, read from the latest cached server view. */
export function registerServerViewMetrics(
  registry: Registry,
  latest: () => ServerView | null | undefined,
): void {
  scrapedGauge(registry, {
    name: "zien_db_server_view_available",
    help: "Whether the server answered serverStatus (part=server_status) and currentOp (part=current_op).",
    labelNames: ["part"],
  }, (g) => {
    const view = latest();
    g.set({ part: "server_status" }, view?.connections.available ? 1 : 0);
    g.set({ part: "current_op" }, view?.byApp.available ? 1 : 0);
  });
  scrapedGauge(registry, {
    name: "zien_db_server_view_source",
    help:
      "Which source answered (1): server_status from the server or from our own pool events; current_op " +
      "for all users or for our own user only (a user without inprog).",
    labelNames: ["part", "source"],
  }, (g) => {
    const view = latest();
    const counts = view?.connections.available ? view.connections.source : undefined;
    const list = view?.byApp.available ? view.byApp.source : undefined;
    g.set({ part: "server_status", source: "server" }, counts === "server" ? 1 : 0);
    g.set({ part: "server_status", source: "own_pool_events" }, counts === "own pool events" ? 1 : 0);
    g.set({ part: "current_op", source: "all_users" }, list === "all users" ? 1 : 0);
    g.set({ part: "current_op", source: "own_user_only" }, list === "own user only" ? 1 : 0);
  });
  scrapedGauge(registry, {
    name: "zien_db_server_connections",
    help: "Connections the server sees (currentOp), by who holds them: this instance, other instances of " +
      "this app, other clients.",
    labelNames: ["scope"],
  }, (g) => {
    const byApp = latest()?.byApp;
    if (!byApp?.available) return;
    g.set({ scope: "this_instance" }, byApp.thisInstance.connections);
    g.set({ scope: "other_instances" }, byApp.otherInstances.connections);
    g.set({ scope: "other_clients" }, byApp.otherClients.connections);
  });
  scrapedGauge(registry, {
    name: "zien_db_server_status_connections",
    help:
      "serverStatus connections for all clients: current (open), available (more it can accept), active; " +
      "our own pool's when the server refuses serverStatus (see zien_db_server_view_source).",
    labelNames: ["state"],
  }, (g) => {
    const connections = latest()?.connections;
    if (!connections?.available) return;
    g.set({ state: "current" }, connections.counts.current);
    if (connections.counts.available !== null) g.set({ state: "available" }, connections.counts.available);
    if (connections.counts.active !== null) g.set({ state: "active" }, connections.counts.active);
  });
}
