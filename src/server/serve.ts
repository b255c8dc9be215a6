/**
 * Starts the HTTP server: the app built from its parts, served by `Deno.serve`, stopped gracefully.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Db } from "mongodb";
import type { Config } from "../config.ts";
import { getLogger } from "../log.ts";
import { createApp, type RouteModule } from "./app.ts";
import { createDashboard } from "./dashboard/mod.ts";
import { clientAddress } from "./request_context.ts";
import { addressKey } from "./throttle.ts";
import { httpMetrics, metricsRoute } from "./metrics.ts";
import type { Observability } from "./observability.ts";

const log = getLogger(["http"]);

/** A running HTTP server. */
export interface RunningServer {
  addr: Deno.NetAddr;
  /** Stops accepting, and resolves once the requests in flight have been answered. */
  shutdown(): Promise<void>;
}

/** What the server serves. */
export interface ServerParts {
  db: Db;
  config: Config;
  observability: Observability;
  isShuttingDown(): boolean;
  /** Middleware after the metrics one (usage tracking). */
  middleware?: MiddlewareHandler[];
  /** Route modules mounted at the root: concepts, webhooks, analytics. */
  routes: RouteModule[];
}

/**
 * Builds the app and serves it on `HOST:PORT`. When `ADMIN_TOKEN` is unset, a random one is made and
 * logged once, so the admin routes are never open.
 */
export function startServer(parts: ServerParts): Promise<RunningServer> {
  const { config, observability, db } = parts;
  let adminToken = config.http.adminToken;
  if (adminToken === undefined) {
    adminToken = crypto.randomUUID().replaceAll("-", "");
    log.warn("ADMIN_TOKEN is not set; this run's admin token is {adminToken}", { adminToken });
  }
  const proxies = new Set(config.http.trustedProxies);
  const dashboard = createDashboard({
    adminToken,
    report: () => observability.liveReport(),
    history: () => observability.pool.history(),
    onWarning: (listener) => observability.pool.onWarning(listener),
    clientKey: (c) => addressKey(clientAddress(c, proxies)),
  });
  observability.addReportSection("dashboard", () => ({ openStreams: dashboard.openStreams() }));
  const app = createApp({
    corsOrigins: config.http.corsOrigins,
    accessLog: config.log.access,
    middleware: [httpMetrics(observability.metrics), ...parts.middleware ?? []],
    health: {
      adminToken,
      isShuttingDown: parts.isShuttingDown,
      pingDb: (timeoutMs) => pingWithin(db, timeoutMs),
      connectionsReport: () => observability.connectionsReport(),
    },
    routes: [
      metricsRoute(observability.metrics, { token: config.http.metricsToken }),
      dashboard.routes,
      ...parts.routes,
    ],
  });
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: config.http.host,
    port: config.http.port,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, app.fetch);
  // Open dashboard streams never end by themselves: they are ended first, so the shutdown never waits on them.
  const shutdown = () => {
    dashboard.closeStreams();
    return server.shutdown();
  };
  return listening.promise.then((addr) => ({ addr, shutdown }));
}

async function pingWithin(db: Db, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.command({ ping: 1 }, { timeoutMS: timeoutMs }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
