/**
 * Health, the admin connections report and /metrics on the real server.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { appConnections } from "../helpers/runtime.ts";
import { readEntries, signUp } from "../helpers/api.ts";
import { promtoolCheck } from "../helpers/promtool.ts";
import { waitFor } from "../helpers/wait.ts";

const ADMIN_TOKEN = "admin-token-for-tests";
const METRICS_TOKEN = "metrics-token-for-tests";

Deno.test("health, the admin report and /metrics", async (t) => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      ADMIN_TOKEN,
      METRICS_TOKEN,
      DB_MAX_POOL_SIZE: "4",
      DB_MONITOR_COMMANDS: "true",
    },
  });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  try {
    const token = await signUp(server.baseUrl, "observer");
    await Promise.all(Array.from({ length: 20 }, () => readEntries(server.baseUrl, token)));

    await t.step("liveness and readiness", async () => {
      assert.equal((await fetch(`${server.baseUrl}/health/live`)).status, 200);
      const ready = await fetch(`${server.baseUrl}/health/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: "ok" });
    });

    await t.step("readiness is 503 with the reason when a ping takes over 1 s", async () => {
      devdb.setLatency(1_500);
      try {
        const ready = await fetch(`${server.baseUrl}/health/ready`);
        assert.equal(ready.status, 503);
        const body = await ready.json();
        assert.match(body.reason, /database ping failed/);
      } finally {
        devdb.setLatency(0);
      }
    });

    await t.step("the admin report needs the token", async () => {
      assert.equal((await fetch(`${server.baseUrl}/api/health/connections`)).status, 401);
      const wrong = await fetch(`${server.baseUrl}/api/health/connections`, {
        headers: { authorization: "Bearer nope" },
      });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
    });

    await t.step("the admin report has pool, server, tenants, budget, history and warnings", async () => {
      const response = await fetch(`${server.baseUrl}/api/health/connections`, { headers: admin });
      assert.equal(response.status, 200);
      const report = await response.json();
      assert.equal(report.success, true);
      assert.ok(!Number.isNaN(Date.parse(report.timestamp)));
      assert.deepEqual(Object.keys(report.stats).sort(), [
        "batchWriters",
        "budget",
        "commands",
        "dashboard",
        "pool",
        "server",
        "stats",
        "tenants",
        "workers",
      ]);
      assert.equal(report.stats.pool.maxPoolSize, 4);
      assert.ok(report.stats.pool.total <= 4);
      assert.ok(report.stats.pool.commands.succeeded >= 20);
      assert.equal(report.stats.budget.perMember, 6);
      const ours = report.stats.server.byApp.thisInstance.connections;
      assert.ok(ours >= 1 && ours <= 4 + 2, `server-side connections for this instance: ${ours}`);
      assert.equal(ours, appConnections(devdb, server.pid));
      assert.equal(report.stats.server.connections.available, true);
      assert.deepEqual(report.stats.workers.map((w: { name: string }) => w.name), [
        "call-window",
        "call-scheduler",
      ]);
      assert.ok(Array.isArray(report.recentMetrics));
      assert.ok(Array.isArray(report.warnings));
    });

    await t.step("POST details logs and returns the details; other actions are 400", async () => {
      const post = (body: unknown) =>
        fetch(`${server.baseUrl}/api/health/connections`, {
          method: "POST",
          headers: { ...admin, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const details = await post({ action: "details" });
      assert.equal(details.status, 200);
      assert.equal((await details.json()).action, "details");
      // Info lines reach the log within a turn of the server's event loop, not before the response.
      await waitFor(() => server.logs().some((l) => l.message.startsWith("connection details:")), {
        what: "the connection details log line",
      });
      for (const bad of [{ action: "cleanup" }, { nothing: true }, "details"]) {
        const response = await post(bad);
        assert.equal(response.status, 400, JSON.stringify(bad));
        await response.body?.cancel();
      }
    });

    await t.step("/metrics needs its token and passes promtool check metrics", async () => {
      assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 401);
      const response = await fetch(`${server.baseUrl}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      assert.equal(response.status, 200);
      const text = await response.text();
      for (
        const name of [
          'db_client_connections_usage{state="idle"}',
          "db_client_connection_max 4",
          "db_client_connection_pending_requests",
          "db_client_connection_wait_time_seconds_bucket",
          "db_client_connection_use_time_seconds_bucket",
          "db_client_connection_timeouts_total",
          "zien_db_server_connections",
          "db_client_operation_duration_seconds_bucket",
          'http_route="/api/JournalEntry/_getEntries"',
          "zien_worker_ticks_total",
          'zien_batch_buffered_events{writer="usage_events"}',
          "zien_batch_flush_duration_seconds",
          "zien_stats_cache_requests_total",
          "zien_stats_cache_hit_ratio",
        ]
      ) assert.ok(text.includes(name), `missing ${name}`);
      const checked = await promtoolCheck(text);
      assert.equal(checked.code, 0, checked.output);
      assert.equal(checked.output.trim(), "", checked.output);
    });

    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
