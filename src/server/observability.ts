/**
 * Everything that watches the one client, put together: the pool monitor, the server's own count of our
 * connections, the metrics registry, and the admin connections report.
 *
 * @module
 */
import type { MongoClient } from "mongodb";
import type { Config } from "../config.ts";
import { type ConnectionBudget, PoolMonitor, ServerViewCache, type TenantDbs } from "../db/mod.ts";
import type { WorkerStatus } from "./metrics/mod.ts";
import type { ConnectionsReport } from "./health.ts";
import { createMetrics, type Metrics } from "./metrics/mod.ts";
import { CommandLatencies } from "./dashboard/commands.ts";

/** How often the server view is read for `/metrics`; the admin report reads it fresh. */
export const SERVER_VIEW_INTERVAL_MS = 10_000;
/** The admin report carries the last this many history samples (10 minutes at one per 10 s). */
export const RECENT_SAMPLES = 60;

/** The watchers of one client. */
export interface Observability {
  pool: PoolMonitor;
  metrics: Metrics;
  /** Starts reading the server's view of our connections; call once the client has connected. */
  connected(): void;
  /** Adds a source of worker statuses (health output and metrics). */
  addWorkers(statuses: () => WorkerStatus[]): void;
  /** Adds a named section to the admin report's `stats` (batch writers, caches). */
  addReportSection(name: string, read: () => unknown): void;
  /** The report with a fresh read of the server's view. */
  connectionsReport(): Promise<ConnectionsReport>;
  /**
   * The report as of now, with the server's view as last read (at most `SERVER_VIEW_INTERVAL_MS` old): cheap
   * enough for the dashboard's sample every second.
   */
  liveReport(): ConnectionsReport;
  /** Stops every timer and waits for a server-view read in flight: call before the client closes. */
  stop(): Promise<void>;
}

/** What the watchers watch. */
export interface ObservabilityParts {
  client: MongoClient;
  appName: string;
  config: Config;
  budget: ConnectionBudget;
  tenants: TenantDbs;
}

/**
 * Attaches the watchers to a client that has not connected yet, so no pool event is missed.
 *
 * @example
 * ```ts
 * const observability = createObservability({ client, appName, config, budget, tenants });
 * await connectWithRetry(client, url, config.retry);
 * ```
 */
export function createObservability(parts: ObservabilityParts): Observability {
  const pool = new PoolMonitor(parts.client, {
    maxPoolSize: parts.config.pool.maxPoolSize,
    leakThresholdMs: parts.config.monitor.leakThresholdMs,
    logIntervalMs: parts.config.monitor.intervalMs,
    sustainMs: parts.config.monitor.warnSustainMs,
  });
  const workerSources: (() => WorkerStatus[])[] = [];
  const sections = new Map<string, () => unknown>();
  const workers = () => workerSources.flatMap((read) => read());
  const commands = new CommandLatencies(parts.client);
  sections.set("commands", () => commands.report());
  // A user without serverStatus (Atlas readWrite) still gets counts: our pool's, labelled "own pool events".
  const views = new ServerViewCache(parts.client, parts.appName, {
    ownCounts: () => {
      const s = pool.snapshot();
      return { current: s.total, available: null, totalCreated: s.connectionsCreated, active: s.inUse };
    },
  });
  let stopped = false;
  const metrics = createMetrics({ pool, serverView: () => views.latest(), workers });
  pool.start();
  let viewTimer: ReturnType<typeof setInterval> | undefined;
  const report = (server: unknown): ConnectionsReport => {
    const extra = Object.fromEntries([...sections].map(([name, read]) => [name, read()]));
    return {
      stats: {
        pool: pool.snapshot(),
        server,
        tenants: parts.tenants.stats(),
        budget: parts.budget,
        workers: workers(),
        ...extra,
      },
      recentMetrics: pool.history().slice(-RECENT_SAMPLES),
      warnings: pool.warnings(),
    };
  };

  return {
    pool,
    metrics,
    connected() {
      if (stopped || viewTimer !== undefined) return;
      void views.refresh();
      viewTimer = setInterval(() => void views.refresh(), SERVER_VIEW_INTERVAL_MS);
    },
    addWorkers: (statuses) => void workerSources.push(statuses),
    addReportSection: (name, read) => void sections.set(name, read),
    async connectionsReport() {
      return report(stopped ? views.latest() : await views.refresh());
    },
    liveReport: () => report(views.latest()),
    async stop() {
      stopped = true;
      clearInterval(viewTimer);
      pool.stop();
      commands.detach();
      metrics.close();
      await views.settled();
    },
  };
}
