/**
 * Starts the HTTP server: the app built from its parts, served by `Deno.serve`, stopped gracefully.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Db } from "mongodb";
import { Counter, Gauge } from "prom-client";
import type { Config } from "../config.ts";
import { getLogger } from "../log.ts";
import { Admission } from "./admission.ts";
import { createApp, type RouteModule } from "./app.ts";
import { createDashboard } from "./dashboard/mod.ts";
import { refusal } from "./errors.ts";
import { httpMetrics, metricsRoute } from "./metrics/mod.ts";
import { clientAddress } from "./request_context.ts";
import { addressKey } from "./throttle.ts";
import type { Observability } from "./observability.ts";

const log = getLogger(["http"]);

/** A running HTTP server. */
export interface RunningServer {
  addr: Deno.NetAddr;
  /**
   * Answers new requests 503 with Retry-After, waits (until `waitUntil`, epoch ms) for the requests in
   * flight to be answered, bodies still uploading included, then stops accepting and closes the connections.
   */
  shutdown(waitUntil?: number): Promise<void>;
}

/** The file, in the development data folder, that holds a generated admin token. */
const ADMIN_TOKEN_FILE = "admin-token";

/** The seconds a client is asked to wait when the server is stopping: another instance, or this one restarted. */
const CLOSING_RETRY_AFTER_S = 1;

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
 * Builds the app and serves it on `HOST:PORT`. The admin routes are never open: without `ADMIN_TOKEN` they
 * are off in production, and in development a random token is written to a file only this user can read.
 */
export async function startServer(parts: ServerParts): Promise<RunningServer> {
  const { config, observability, db } = parts;
  const adminToken = await adminTokenFor(config);
  let closing = false;
  const proxies = new Set(config.http.trustedProxies);
  // The dashboard is behind the admin token: with the admin routes off, it is off too.
  const dashboard = adminToken === undefined ? undefined : createDashboard({
    adminToken,
    report: () => observability.liveReport(),
    history: () => observability.pool.history(),
    onWarning: (listener) => observability.pool.onWarning(listener),
    clientKey: (c) => addressKey(clientAddress(c, proxies)),
  });
  if (dashboard) {
    observability.addReportSection("dashboard", () => ({ openStreams: dashboard.openStreams() }));
  }
  const app = createApp({
    corsOrigins: config.http.corsOrigins,
    accessLog: config.log.access,
    // After the metrics, so the refusals while stopping are counted.
    middleware: [
      httpMetrics(observability.metrics),
      refuseWhileClosing(() => closing),
      ...parts.middleware ?? [],
    ],
    health: {
      adminToken,
      isShuttingDown: parts.isShuttingDown,
      pingDb: (timeoutMs) => pingWithin(db, timeoutMs),
      connectionsReport: () => observability.connectionsReport(),
    },
    routes: [
      metricsRoute(observability.metrics, { token: config.http.metricsToken }),
      ...(dashboard ? [dashboard.routes] : []),
      ...parts.routes,
    ],
  });
  // Deno's server.shutdown() ends the body stream of a request still uploading (the handler then reads a
  // truncated body, 400, or a closed resource, 500), so the requests in flight finish before it is called.
  const inFlight = new Set<Promise<void>>();
  const admission = new Admission({
    limit: config.http.maxConcurrentRequests,
    timeoutMs: config.pool.waitQueueTimeoutMS,
  });
  const handler = async (request: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    // A request waiting for admission is in flight too: the shutdown waits for it as for the others.
    const done = Promise.withResolvers<void>();
    inFlight.add(done.promise);
    try {
      if (!(await admission.enter(request))) return admission.refusal();
      try {
        return await app.fetch(request, info);
      } finally {
        admission.leave(request);
      }
    } finally {
      inFlight.delete(done.promise);
      done.resolve();
    }
  };
  // Admission answers outside the app, so neither the HTTP histogram nor the access log sees its refusals.
  new Gauge({
    name: "zien_http_admission_waiting",
    help: "Requests waiting to enter the app (APP_MAX_CONCURRENT_REQUESTS).",
    registers: [observability.metrics.registry],
    collect() {
      this.set(admission.waiting);
    },
  });
  new Counter({
    name: "zien_http_admission_refused_total",
    help: "Requests answered 503 after waiting past DB_WAIT_QUEUE_TIMEOUT_MS to enter the app.",
    registers: [observability.metrics.registry],
    collect() {
      this.reset();
      this.inc(admission.refused);
    },
  });
  new Gauge({
    name: "http_server_active_requests",
    help: "HTTP requests being handled, this scrape included (a shutdown waits for them).",
    registers: [observability.metrics.registry],
    collect() {
      this.set(inFlight.size);
    },
  });
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: config.http.host,
    port: config.http.port,
    reusePort: config.http.reusePort,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, handler);
  const shutdown = async (waitUntil = Number.POSITIVE_INFINITY) => {
    closing = true;
    // Open dashboard streams never end by themselves: they are ended first, so the shutdown never waits on them.
    dashboard?.closeStreams();
    await settledBy([...inFlight], waitUntil);
    if (inFlight.size > 0) {
      log.warn("{count} request(s) still in flight at the deadline", { count: inFlight.size });
    }
    await server.shutdown();
  };
  return listening.promise.then((addr) => ({ addr, shutdown }));
}

/** The admin token to require: ADMIN_TOKEN, one written to a 0600 file in development, or none (routes off). */
async function adminTokenFor(config: Config): Promise<string | undefined> {
  if (config.http.adminToken !== undefined) return config.http.adminToken;
  if (config.mongodbUrl !== undefined) {
    log.warn(
      "ADMIN_TOKEN is not set, so the admin routes (/api/health/connections) are off; set it to turn them on",
    );
    return undefined;
  }
  const token = crypto.randomUUID().replaceAll("-", "");
  const path = `${config.dev.dataDir}/${ADMIN_TOKEN_FILE}`;
  await Deno.mkdir(config.dev.dataDir, { recursive: true });
  // Removed first: `mode` applies only to a file being created, and an older copy may be readable by others.
  await Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  await Deno.writeTextFile(path, `${token}\n`, { createNew: true, mode: 0o600 });
  log.warn("ADMIN_TOKEN is not set; this run's admin token is in {path} (readable by this user only)", {
    path,
  });
  return token;
}

/** New requests while stopping: 503 with Retry-After, and the connection closed so the client reconnects. */
function refuseWhileClosing(isClosing: () => boolean): MiddlewareHandler {
  return async (_c, next) => {
    if (!isClosing()) return await next();
    throw refusal(503, "The server is shutting down; retry shortly.", {
      headers: { "Retry-After": String(CLOSING_RETRY_AFTER_S), Connection: "close" },
    });
  };
}

/** Resolves once every promise has settled, or at `deadline` (epoch ms), whichever is first. */
async function settledBy(promises: Promise<unknown>[], deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    if (Number.isFinite(deadline)) timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([Promise.allSettled(promises), timeout]);
  } finally {
    clearTimeout(timer);
  }
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
