/**
 * Bench-only server for the runtime benchmark's monitoring on-versus-off comparison: one shared MongoClient
 * at the app's pool size, answering the same `_getEntries` request. With `--monitor on` it carries what the
 * real server attaches to its client by default: a `PoolMonitor` (started, so its timers run), the
 * Prometheus metrics fed by it, each request recorded in the HTTP histogram, and `GET /metrics` to scrape;
 * `--commands on` adds the driver's command monitoring (`DB_MONITOR_COMMANDS=true`). With `--monitor off` it
 * has none of these. Everything else is the same code.
 *
 * Usage (a child of `scripts/bench/runtime.ts`):
 * `deno run -P=bench scripts/bench/lib/runtime_shared_server.ts --mongo URL --db NAME --monitor on|off`
 *
 * @module
 */
import { MongoClient } from "mongodb";
import { PoolMonitor } from "../../../src/db/pool/mod.ts";
import { createMetrics } from "../../../src/server/metrics/mod.ts";
import { argument, EntriesFinder, serveBench } from "./runtime_find.ts";

/** The real server's default DB_MAX_POOL_SIZE. */
export const SHARED_POOL_SIZE = 10;
/** The route the monitored variant records its requests under, as the concept API would. */
const ROUTE = "/api/JournalEntry/_getEntries";

if (import.meta.main) {
  const url = argument("mongo");
  const dbName = argument("db");
  const monitored = argument("monitor") === "on";
  const commands = argument("commands", "off") === "on";
  const client = new MongoClient(url, {
    maxPoolSize: SHARED_POOL_SIZE,
    appName: `bench-shared-monitor-${monitored ? "on" : "off"}`,
    monitorCommands: monitored && commands,
  });
  // Attached before connect, as the app does, so no pool event is missed.
  const monitor = monitored
    ? new PoolMonitor(client, {
      maxPoolSize: SHARED_POOL_SIZE,
      leakThresholdMs: 30_000,
      logIntervalMs: 60_000,
    })
    : undefined;
  const metrics = monitor ? createMetrics({ pool: monitor }) : undefined;
  monitor?.start();
  await client.connect();
  const db = client.db(dbName);
  const finder = new EntriesFinder();
  serveBench({
    async handle(request) {
      const started = performance.now();
      const response = await finder.answer(request, db);
      metrics?.observeHttpRequest("POST", ROUTE, response.status, (performance.now() - started) / 1000);
      return response;
    },
    routes: metrics
      ? {
        "/metrics": async () =>
          new Response(await metrics.registry.metrics(), {
            headers: { "content-type": metrics.registry.contentType },
          }),
      }
      : {},
    async close() {
      metrics?.close();
      await client.close();
      monitor?.stop();
    },
  });
}
