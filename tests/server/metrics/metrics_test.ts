import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { MongoClient, MongoClientOptions } from "mongodb";
import { Counter } from "prom-client";
import type { DevDb } from "../../../src/devdb/mod.ts";
import { PoolMonitor } from "../../../src/db/pool/mod.ts";
import { serverConnectionsView, type ServerView } from "../../../src/db/server_view.ts";
import { createMetrics, httpMetrics, type Metrics, metricsRoute } from "../../../src/server/metrics/mod.ts";
import { UNMATCHED_ROUTE } from "../../../src/server/usage.ts";
import { waitFor } from "../../helpers/wait.ts";
import { promtoolCheck } from "../../helpers/promtool.ts";
import { capturingLogs } from "../../helpers/logs.ts";
import { testDb } from "../../helpers/db.ts";

const APP = "zien-backend:metrics-test:1";

/** Sample lines by series (`name{labels}`), so tests read values without parsing by hand each time. */
function samples(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

interface Ctx {
  db: DevDb;
  client: MongoClient;
  monitor: PoolMonitor;
  metrics: Metrics;
  app: Hono;
  /** Reads the server view into the cache the metrics read. */
  refreshView(): Promise<void>;
}

/** A devdb, a monitored client and metrics over them, all closed at the end. */
async function withMetrics(
  options: { url?: (db: DevDb) => string; client?: MongoClientOptions },
  body: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  await using fixture = await testDb({
    url: options.url,
    client: { maxPoolSize: 4, appName: APP, monitorCommands: true, ...options.client },
  });
  const { server: db, client } = fixture;
  const monitor = new PoolMonitor(client, { maxPoolSize: 4, leakThresholdMs: 30_000, logIntervalMs: 60_000 });
  let view: ServerView | null = null;
  const metrics = createMetrics({
    pool: monitor,
    serverView: () => view,
    workers: () => [
      {
        name: "call-scheduler",
        running: true,
        lastTickAt: 1_700_000_000_000,
        lastDurationMs: 250,
        ticks: 7,
        failures: 2,
      },
      { name: "call-window", running: false, lastTickAt: null, lastDurationMs: null, ticks: 0, failures: 0 },
    ],
  });
  const app = new Hono();
  app.use(httpMetrics(metrics));
  app.get("/entries/:id", async (c) => {
    const entry = await client.db("zien").collection("entries").findOne({ key: c.req.param("id") });
    return entry ? c.json(entry) : c.json({ error: "not found" }, 404);
  });
  app.get("/boom", () => {
    throw new HTTPException(418, { message: "teapot" });
  });
  app.route("/", metricsRoute(metrics));
  app.onError((error, c) => error instanceof HTTPException ? error.getResponse() : c.text("error", 500));
  try {
    const refreshView = async () => {
      view = await serverConnectionsView(client, APP);
    };
    await body({ db, client, monitor, metrics, app, refreshView });
  } finally {
    metrics.close();
    db.setLatency(0);
    monitor.stop();
  }
}

Deno.test("/metrics passes promtool and carries the pool, commands, server view, HTTP and workers", async () => {
  await withMetrics({}, async ({ client, monitor, app, refreshView }) => {
    await client.db("zien").collection("entries").insertOne({ key: "abc123", text: "hello" });
    assert.equal((await app.request("/entries/abc123")).status, 200);
    assert.equal((await app.request("/entries/zzz999")).status, 404);
    assert.equal((await app.request("/boom")).status, 418);
    assert.equal((await app.request("/no/such/path")).status, 404);
    await refreshView();

    const response = await app.request("/metrics");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const checked = await promtoolCheck(text);
    assert.equal(checked.code, 0, checked.output);
    assert.equal(checked.output.trim(), "", "no lint problems");

    const s = samples(text);
    const snapshot = monitor.snapshot();
    assert.equal(s.get('db_client_connections_usage{state="idle"}'), snapshot.idle);
    assert.equal(s.get('db_client_connections_usage{state="used"}'), snapshot.inUse);
    assert.equal(s.get("db_client_connection_max"), 4);
    assert.equal(s.get("db_client_connection_pending_requests"), 0);
    assert.equal(s.get("zien_db_pool_connections_created_total"), snapshot.connectionsCreated);
    assert.equal(s.get("db_client_connection_wait_time_seconds_count"), snapshot.checkouts);
    assert.ok(s.get("db_client_connection_use_time_seconds_count")! >= 3);
    assert.equal(s.get('db_client_operation_duration_seconds_count{db_operation_name="find"}'), 2);
    assert.equal(s.get('db_client_operation_duration_seconds_count{db_operation_name="insert"}'), 1);
    assert.equal(s.get('db_client_operation_duration_seconds_bucket{db_operation_name="find",le="+Inf"}'), 2);
    assert.equal(s.get('db_client_operation_duration_seconds_bucket{db_operation_name="find",le="10"}'), 2);
    const waits = [...s].filter(([series]) =>
      series.startsWith("db_client_connection_wait_time_seconds_bucket")
    );
    assert.deepEqual(waits.map(([, v]) => v), waits.map(([, v]) => v).sort((a, b) => a - b), "cumulative");
    assert.ok(
      s.get('zien_db_server_connections{scope="this_instance"}')! >= 2,
      "pool and monitoring sockets",
    );
    assert.equal(s.get('zien_db_server_connections{scope="other_clients"}'), 0);
    assert.equal(s.get('zien_db_server_view_available{part="current_op"}'), 1);

    const http = (method: string, route: string, status: number) =>
      s.get(
        `http_server_request_duration_seconds_count{http_request_method="${method}",http_route="${route}",` +
          `http_response_status_code="${status}"}`,
      );
    assert.equal(http("GET", "/entries/:id", 200), 1);
    assert.equal(http("GET", "/entries/:id", 404), 1, "a handler's own 404 keeps its route");
    assert.equal(http("GET", "/boom", 418), 1);
    assert.equal(http("GET", UNMATCHED_ROUTE, 404), 1);
    assert.doesNotMatch(text, /abc123|zzz999|no\/such\/path/, "raw paths never become labels");

    assert.equal(s.get('zien_worker_ticks_total{worker="call-scheduler"}'), 7);
    assert.equal(s.get('zien_worker_failures_total{worker="call-scheduler"}'), 2);
    assert.equal(s.get('zien_worker_running{worker="call-window"}'), 0);
    assert.equal(s.get('zien_worker_last_tick_duration_seconds{worker="call-scheduler"}'), 0.25);
    assert.equal(s.get('zien_worker_last_tick_timestamp_seconds{worker="call-window"}'), undefined);
  });
});

Deno.test("waiters, checkout timeouts and the warning they raise show up in the metrics", async () => {
  const client = { maxPoolSize: 1, waitQueueTimeoutMS: 150 };
  await withMetrics({ client }, async ({ db, client, monitor, app }) => {
    const scrape = async () => samples(await (await app.request("/metrics")).text());
    const entries = client.db("zien").collection("entries");
    await entries.insertOne({ key: "a" });
    db.setLatency(400);
    const reads = Promise.allSettled([entries.findOne({}), entries.findOne({}), entries.findOne({})]);
    await waitFor(() => monitor.snapshot().waiting === 2, { what: "two waiters" });
    const busy = await scrape();
    assert.equal(busy.get("db_client_connection_pending_requests"), 2);
    assert.equal(busy.get('db_client_connections_usage{state="used"}'), 1);
    assert.equal(busy.get("zien_db_pool_utilization_ratio"), 1);

    assert.equal((await reads).filter((r) => r.status === "rejected").length, 2);
    monitor.checkNow();
    const after = await scrape();
    assert.equal(after.get("db_client_connection_timeouts_total"), 2);
    assert.equal(after.get('zien_db_pool_checkout_failures_total{reason="timeout"}'), 2);
    assert.equal(after.get("db_client_connection_pending_requests"), 0);
    assert.equal(after.get('zien_db_pool_warnings{kind="checkoutTimeout",level="critical"}'), 1);
    assert.equal(after.get('zien_db_pool_warnings{kind="leak",level="warning"}'), 0);
  });
});

Deno.test("later code registers its own metrics on the same registry", async () => {
  const metrics = createMetrics({});
  const flushes = new Counter({
    name: "zien_batch_flushes_total",
    help: "Batches written.",
    registers: [metrics.registry],
  });
  flushes.inc(3);
  const text = await metrics.registry.metrics();
  assert.equal(samples(text).get("zien_batch_flushes_total"), 3);
  assert.equal((await promtoolCheck(text)).code, 0);
  metrics.close();
});

Deno.test("a metrics token is required as a bearer token when set", async () => {
  const metrics = createMetrics({});
  const app = metricsRoute(metrics, { token: "metrics-token-123" });
  const missing = await app.request("/metrics");
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.doesNotMatch(await missing.text(), /process_/);
  for (
    const header of [
      "Bearer wrong",
      "Bearer metrics-token-12",
      "Bearer metrics-token-1234",
      "metrics-token-123",
    ]
  ) {
    assert.equal((await app.request("/metrics", { headers: { Authorization: header } })).status, 401, header);
  }
  const allowed = await app.request("/metrics", { headers: { Authorization: "Bearer metrics-token-123" } });
  assert.equal(allowed.status, 200);
  assert.match(await allowed.text(), /process_resident_memory_bytes/);
  assert.equal((await metricsRoute(metrics).request("/metrics")).status, 200, "open without a token");
  metrics.close();
});

Deno.test("credentials in the URL never reach a metric or a log line", async () => {
  await capturingLogs(async (records) => {
    await withMetrics({
      url: (db) =>
        `mongodb://zien-user:s3cret-pass@127.0.0.1:${db.port}/?authSource=admin&directConnection=true`,
      client: { serverSelectionTimeoutMS: 1_000 },
    }, async ({ client, monitor, app, refreshView }) => {
      // The embedded server refuses authentication, so every attempt fails the way a wrong password would.
      await assert.rejects(client.db("zien").collection("entries").findOne({}));
      await refreshView();
      monitor.checkNow();
      monitor.logNow();
      const text = await (await app.request("/metrics")).text();
      assert.ok(samples(text).get('zien_db_pool_checkout_failures_total{reason="connection_error"}')! >= 1);
      assert.doesNotMatch(text, /s3cret-pass|zien-user/);
      assert.ok(records.length > 0, "something was logged");
      for (const record of records) {
        const line = JSON.stringify({ message: record.message, properties: record.properties });
        assert.doesNotMatch(line, /s3cret-pass/, line);
      }
    });
  });
});

Deno.test("checkout waits are one series: the monitor's p50/p99 and the Prometheus buckets agree", async () => {
  await withMetrics({}, async ({ db, client, monitor, app }) => {
    const entries = client.db("zien").collection("entries");
    await entries.insertOne({ key: "k" });
    // Twelve reads on four connections, each 50 ms: most checkouts wait behind another.
    db.setLatency(50);
    await Promise.all(Array.from({ length: 12 }, () => entries.findOne({ key: "k" })));
    db.setLatency(0);
    const s = samples(await (await app.request("/metrics")).text());
    const snapshot = monitor.snapshot();
    const count = s.get("db_client_connection_wait_time_seconds_count")!;
    assert.equal(count, snapshot.checkouts);
    const buckets = [...s]
      .filter(([series]) => series.startsWith("db_client_connection_wait_time_seconds_bucket"))
      .map(([series, value]) => ({ le: /le="([^"]+)"/.exec(series)![1], value }));
    // The quantile read from the exported buckets, as PromQL's histogram_quantile would bound it.
    const bound = (q: number) => Number(buckets.find((b) => b.value >= Math.ceil(q * count))!.le) * 1000;
    assert.ok(snapshot.checkoutWaitMs.p99 >= 50, `p99 ${snapshot.checkoutWaitMs.p99} ms`);
    assert.equal(snapshot.checkoutWaitMs.p99, bound(0.99));
    assert.equal(snapshot.checkoutWaitMs.p50, bound(0.5));
  });
});
