/**
 * One error shape on every route of the app as `createApp` builds it: concepts, stats, analytics, health,
 * metrics and unknown paths all answer `{ error, requestId, issues? }`, with the request id of the request.
 */
import assert from "node:assert/strict";
import { BatchWriter } from "../../src/db/batch_writer.ts";
import { type AnalyticsEvent, analyticsRoutes } from "../../src/server/analytics.ts";
import { createApp } from "../../src/server/app.ts";
import { conceptRoutes } from "../../src/server/concepts/mod.ts";
import type { HealthSources } from "../../src/server/health.ts";
import { createMetrics, metricsRoute } from "../../src/server/metrics.ts";
import { StatsCache, statsRoutes } from "../../src/server/stats.ts";
import { openConcepts } from "../concepts/harness.ts";

Deno.test("every route refuses in the one JSON error shape", async () => {
  const h = await openConcepts();
  const analytics = new BatchWriter<AnalyticsEvent>(h.db.collection("analytics_events"), {
    name: "analytics",
  });
  const metrics = createMetrics({});
  try {
    const health: HealthSources = {
      adminToken: "the-admin-token",
      isShuttingDown: () => false,
      pingDb: async () => void await h.db.command({ ping: 1 }),
      connectionsReport: () => Promise.resolve({ stats: {} as never, recentMetrics: [], warnings: [] }),
    };
    const stats = new StatsCache({
      userStats: () => Promise.reject(new Error("not used")),
      platformStats: () => Promise.reject(new Error("not used")),
    });
    const app = createApp({
      health,
      corsOrigins: [],
      accessLog: false,
      routes: [
        metricsRoute(metrics, { token: "the-metrics-token" }),
        conceptRoutes({ concepts: h.concepts }),
        analyticsRoutes(analytics, h.concepts.userAuth),
        statsRoutes(stats, h.concepts),
      ],
    });
    const admin = { authorization: "Bearer the-admin-token", "content-type": "application/json" };
    const cases: [string, RequestInit, number][] = [
      [
        "/api/JournalEntry/_getEntries",
        { method: "POST", headers: { "content-type": "application/json" } },
        401,
      ],
      ["/api/UserAuth/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "null",
      }, 400],
      ["/api/Nope/nothing", { method: "POST" }, 404],
      ["/api/stats", {}, 401],
      ["/api/stats", { headers: { authorization: "Bearer not-a-token" } }, 401],
      ["/api/analytics/track", { method: "POST", headers: { "content-type": "text/plain" }, body: "x" }, 415],
      ["/api/analytics/track", { method: "POST", headers: { authorization: "Basic eDp5" }, body: "{}" }, 401],
      ["/api/health/connections", {}, 401],
      ["/api/health/connections", { headers: { authorization: "Bearer the-metrics-token" } }, 401],
      ["/api/health/connections", { method: "POST", headers: admin, body: '{"action": "explode"}' }, 400],
      ["/metrics", {}, 401],
      ["/metrics", { headers: { authorization: "Bearer the-admin-token" } }, 401],
      ["/no/such/route", {}, 404],
    ];
    for (const [path, init, status] of cases) {
      const requestId = `shape-${status}-${cases.findIndex((c) => c[0] === path && c[1] === init)}`;
      const res = await app.request(path, {
        ...init,
        headers: { ...init.headers, "x-request-id": requestId },
      });
      const label = `${init.method ?? "GET"} ${path}`;
      assert.equal(res.status, status, `${label}: ${res.status} ${await res.clone().text()}`);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/, label);
      const body = await res.json();
      assert.equal(typeof body.error, "string", label);
      assert.ok(body.error.length > 0, label);
      assert.equal(body.requestId, requestId, label);
      assert.deepEqual(
        Object.keys(body).filter((k) => !["error", "requestId", "issues"].includes(k)),
        [],
        label,
      );
      if (status === 401) assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, label);
    }
    // The right tokens open the admin routes.
    assert.equal(
      (await app.request("/metrics", { headers: { authorization: "Bearer the-metrics-token" } })).status,
      200,
    );
    const report = await app.request("/api/health/connections", { headers: admin });
    assert.equal(report.status, 200);
    assert.equal((await report.json()).success, true);
  } finally {
    metrics.close();
    await analytics.close({ deadline: Date.now() + 1_000 });
    await h.close();
  }
});
