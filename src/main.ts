/**
 * The composition root: configuration, the one MongoClient, the HTTP server, the workers, and the
 * shutdown that stops them in order. Nothing imports this module.
 *
 * Run it with `deno task start`; stop it with Ctrl-C or `kill -TERM <pid>`.
 *
 * @module
 */
import type { Db } from "mongodb";
import { ConnectionString } from "mongodb-connection-string-url";
import { type Config, ConfigError, EXIT_CONFIG, loadConfig } from "./config.ts";
import { getLogger, setupLogging, shutdownLogging } from "./log.ts";
import { redactUrl } from "./redact.ts";
import { Lifecycle } from "./lifecycle.ts";
import {
  ConnectFailedError,
  connectionBudget,
  ConnectNotPermittedError,
  connectWithRetry,
  createEventWriters,
  createMongoClient,
  EmbeddedDevDbError,
  type EventWriters,
  hostCount,
  instanceAppName,
  startEmbeddedDevDb,
  TenantDbs,
} from "./db/mod.ts";
import {
  analyticsRoutes,
  conceptRoutes,
  createObservability,
  type Observability,
  registerBatchMetrics,
  startServer,
  StatsCache,
  statsRoutes,
  usageTracking,
  webhookRoutes,
} from "./server/mod.ts";
import { createConcepts, ensureConceptIndexes, platformStats, userStats } from "./concepts/mod.ts";
import { createCallRuntime } from "./calls/mod.ts";
import { loopbackBaseUrl } from "./telephony/mod.ts";
import { createWorkers } from "./workers/mod.ts";

const log = getLogger(["main"]);

/** A read-only view of the environment that asks Deno for each variable as it is read (scoped --allow-env). */
const env: Record<string, string | undefined> = new Proxy({}, {
  get: (_, name) => typeof name === "string" ? Deno.env.get(name) : undefined,
});

function readConfig(): Config {
  try {
    return loadConfig(env, { isTerminal: Deno.stdout.isTerminal() });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`zien: ${err.message}`);
    Deno.exit(EXIT_CONFIG);
  }
}

/** The database to use: MONGODB_URL, or the embedded devdb started now; null if it could not start. */
async function databaseUrl(config: Config, lifecycle: Lifecycle): Promise<string | null> {
  if (config.mongodbUrl !== undefined) return config.mongodbUrl;
  const dataDir = `${config.dev.dataDir}/devdb`;
  let devdb;
  try {
    devdb = await startEmbeddedDevDb({ dataDir });
  } catch (err) {
    if (!(err instanceof EmbeddedDevDbError)) throw err;
    log.fatal("the embedded devdb cannot start: {message}", { message: err.message });
    // Another `deno task start` (or `deno task devdb`) owns the data: a setup to change, not a crash.
    await lifecycle.shutdown(err.reason === "DataDirInUseError" ? EXIT_CONFIG : 1);
    return null;
  }
  lifecycle.add("devdb", "embedded devdb", () => devdb.stop());
  log.info("development mode: MONGODB_URL is not set, so the embedded devdb serves {url} (data in {dir})", {
    url: devdb.url,
    dir: dataDir,
  });
  return devdb.url;
}

/** The hosts in `url` that this process's permission set does not let it reach (`server` is loopback only). */
function unreachableHosts(url: string): string[] {
  const parsed = new ConnectionString(url);
  return parsed.hosts.filter((host) => {
    const withPort = parsed.isSRV || /:\d+$/.test(host) ? host : `${host}:27017`;
    return Deno.permissions.querySync({ name: "net", host: withPort }).state !== "granted";
  });
}

const START_PROD_HINT =
  "`deno task start` may reach loopback only (the `server` permission set); for a database " +
  "on another machine, such as Atlas, run `deno task start:prod`";

/** The three event writers: started, spills from an earlier run written, flushed at shutdown. */
async function startEventWriters(
  db: Db,
  config: Config,
  lifecycle: Lifecycle,
  observability: Observability,
): Promise<EventWriters> {
  const onFlush = registerBatchMetrics(observability.metrics.registry, () => writers.stats());
  const writers = createEventWriters(db, config.batch, { retry: config.retry, onFlush });
  observability.addReportSection("batchWriters", () => writers.stats());
  for (const writer of writers.all) {
    writer.start();
    // Leave a second of the deadline for spilling and for closing the client.
    lifecycle.add("flushers", writer.name, (deadline) => writer.close({ deadline: deadline - 1_000 }));
    // An earlier phase may eat the whole deadline; what is still buffered then goes to the spill file.
    lifecycle.onDeadline(`spill ${writer.name}`, () => writer.close({ deadline: Date.now() }));
  }
  await Promise.all(writers.all.map((writer) => writer.recoverSpill()));
  return writers;
}

/** The one client, watched from before its first connection, connected with backoff; null if start-up ended. */
async function connectDatabase(config: Config, lifecycle: Lifecycle) {
  const url = await databaseUrl(config, lifecycle);
  if (url === null) return null;
  const unreachable = unreachableHosts(url);
  if (unreachable.length > 0) {
    // Retrying cannot help: Deno refuses the socket before the network is asked.
    log.fatal("MONGODB_URL names {hosts}, which this process is not permitted to reach: {hint}", {
      hosts: unreachable.join(", "),
      hint: START_PROD_HINT,
    });
    await lifecycle.shutdown(EXIT_CONFIG);
    return null;
  }
  const budget = connectionBudget({
    appInstances: config.budget.appInstances,
    hosts: hostCount(url),
    maxPoolSize: config.pool.maxPoolSize,
    minPoolSize: config.pool.minPoolSize,
    readPreference: config.readPreference,
    writeConcern: config.writeConcern,
    connectionLimit: config.budget.connectionLimit,
  });
  if (budget.status === "over" && config.budget.enforce) {
    log.fatal(
      "connection budget exceeded: {message}. Lower DB_MAX_POOL_SIZE or APP_INSTANCES, raise " +
        "DB_CONNECTION_LIMIT if the cluster allows more, or set DB_BUDGET_ENFORCE=false to start anyway.",
      { message: budget.message },
    );
    await lifecycle.shutdown(EXIT_CONFIG);
    return null;
  }
  const level = budget.status === "ok" || budget.status === "unknown" ? "info" : "warn";
  log[level]("connection budget: {message}", { message: budget.message });

  const appName = instanceAppName();
  const mongo = createMongoClient(url, config.pool, appName, {
    monitorCommands: config.monitor.commands,
    writeConcern: config.writeConcern,
    readPreference: config.readPreference,
  });
  lifecycle.onDeadline("force-close the client", () => mongo.close(true));
  const tenants = new TenantDbs(mongo, { prefix: `${config.dbName}_org_` });
  const observability = createObservability({ client: mongo, appName, config, budget, tenants });
  lifecycle.add("client", "mongo client", async () => {
    await observability.stop();
    await mongo.close();
    log.info("closed the MongoClient: {created} connection(s) opened and all closed", {
      created: observability.pool.snapshot().connectionsCreated,
    });
  });
  try {
    await connectWithRetry(mongo, url, config.retry, lifecycle.signal);
  } catch (err) {
    if (err instanceof ConnectNotPermittedError) {
      log.fatal("{message}; {hint}", { message: err.message, hint: START_PROD_HINT });
      await lifecycle.shutdown(EXIT_CONFIG);
    } else if (!lifecycle.shuttingDown) {
      log.fatal("{message}", { message: err instanceof ConnectFailedError ? err.message : String(err) });
      await lifecycle.shutdown(1);
    }
    return null;
  }
  observability.connected();
  return { url, appName, db: mongo.db(config.dbName), observability };
}

type Connected = NonNullable<Awaited<ReturnType<typeof connectDatabase>>>;

/** The concepts, event writers, stats, workers and HTTP server on the connected `Db`; false if start-up ended. */
async function startApp(config: Config, lifecycle: Lifecycle, connected: Connected): Promise<boolean> {
  const { db, appName, observability } = connected;
  const concepts = createConcepts(db);
  await ensureConceptIndexes(concepts);
  const writers = await startEventWriters(db, config, lifecycle, observability);
  // A signal during start-up has closed the client already: nothing more may touch it.
  if (lifecycle.shuttingDown) return false;
  const stats = new StatsCache({
    userStats: (user) => userStats(concepts, user),
    platformStats: () => platformStats(concepts),
  }, { registry: observability.metrics.registry });
  observability.addReportSection("stats", () => stats.stats());
  let listeningAt = "";
  const calls = createCallRuntime({
    db,
    concepts,
    config,
    instance: appName,
    callbackBaseUrl: () => config.telephony.publicBaseUrl ?? listeningAt,
    onCallEvent: (event) => {
      stats.invalidate(event.user);
      writers.callEvents.add(event).catch((err) =>
        log.warn("call event {type} for call {call} not recorded: {error}", {
          type: event.type,
          call: event.call,
          error: err instanceof Error ? err.message : String(err),
        })
      );
    },
  });
  const workers = createWorkers(config, calls);
  observability.addWorkers(() => workers.map((w) => w.status()));
  const server = await startServer({
    db,
    config,
    observability,
    isShuttingDown: () => lifecycle.shuttingDown,
    middleware: [usageTracking(writers.usage)],
    routes: [
      conceptRoutes({
        concepts,
        onAction: stats.afterAction,
        trustedProxies: config.http.trustedProxies,
      }),
      analyticsRoutes(writers.analytics, concepts.userAuth),
      statsRoutes(stats, concepts),
      webhookRoutes(calls.webhooks),
    ],
  });
  listeningAt = loopbackBaseUrl(server.addr);
  // Requests in flight get at most half of what is left, so the workers, flushers and client get the rest.
  lifecycle.add(
    "http",
    "http server",
    (deadline) => server.shutdown(Date.now() + (deadline - Date.now()) / 2),
  );
  // The ticks in flight finish first; then the leases still held go back and the provider closes, before
  // the flushers write the call events that produced.
  lifecycle.add("workers", "call workers", async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await calls.close();
  });
  for (const worker of workers) worker.start();
  log.info("zien-backend ready on http://{address} as {appName}, database {db} at {url}", {
    address: `${server.addr.hostname}:${server.addr.port}`,
    appName,
    db: config.dbName,
    url: redactUrl(connected.url),
  });
  return true;
}

async function main(): Promise<void> {
  const config = readConfig();
  await setupLogging(config.log);
  const lifecycle = new Lifecycle({
    timeoutMs: config.shutdown.timeoutMs,
    drainDelayMs: config.shutdown.drainDelayMs,
    exit: (code) => void shutdownLogging().finally(() => Deno.exit(code)),
  });
  lifecycle.listenForSignals();
  const connected = await connectDatabase(config, lifecycle);
  if (connected) await startApp(config, lifecycle, connected);
}

await main();
