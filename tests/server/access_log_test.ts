/**
 * The access log: one line per request, with method, route pattern, status, duration, request id and the
 * person when known; never a token, a password or a body. LOG_ACCESS=false turns it off.
 */
import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/server/app.ts";
import { conceptRoutes } from "../../src/server/concepts/mod.ts";
import type { HealthSources } from "../../src/server/health.ts";
import { openConcepts } from "../concepts/harness.ts";
import { capturingLogs } from "../helpers/logs.ts";

const accessLines = (records: LogRecord[]) =>
  records.filter((r) => r.category.join(".") === "zien.http.access").map((r) => r.properties);

Deno.test("one access line per request, with its fields and no secrets", async () => {
  const h = await openConcepts();
  try {
    const health: HealthSources = {
      adminToken: "admin-token-for-access-log",
      isShuttingDown: () => false,
      pingDb: async () => void await h.db.command({ ping: 1 }),
      connectionsReport: () => Promise.reject(new Error("not used")),
    };
    const app = createApp({ health, corsOrigins: [], routes: [conceptRoutes({ concepts: h.concepts })] });
    const password = "access log password";
    const post = (path: string, body: unknown, token?: string) =>
      app.request(`/api/${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    await capturingLogs(async (records) => {
      const { user } = await (await post("UserAuth/register", { username: "logged", password })).json();
      const { token } = await (await post("UserAuth/login", { username: "logged", password })).json();
      const entries = await post("JournalEntry/_getEntries", {}, token);
      await entries.body?.cancel();
      const refused = await post("JournalEntry/_getEntries", {}, `${token}x`);
      await refused.body?.cancel();
      const missing = await app.request("/no/such/path?secret=1", {
        headers: { "x-request-id": "trace-404" },
      });
      await missing.body?.cancel();
      await (await app.request("/health/ready")).body?.cancel();
      await (await app.request("/api/health/connections")).body?.cancel();

      const lines = accessLines(records);
      assert.deepEqual(lines.map((l) => [l.method, l.route, l.status]), [
        ["POST", "/api/UserAuth/register", 200],
        ["POST", "/api/UserAuth/login", 200],
        ["POST", "/api/JournalEntry/_getEntries", 200],
        ["POST", "/api/JournalEntry/_getEntries", 401],
        ["GET", "(unmatched)", 404],
        ["GET", "/health/ready", 200],
        ["GET", "/api/health/connections", 401],
      ]);
      for (const line of lines) {
        assert.equal(typeof line.durationMs, "number");
        assert.ok((line.durationMs as number) >= 0);
        assert.match(String(line.requestId), /^[\w.-]+$/);
      }
      assert.equal(lines[4].requestId, "trace-404");
      assert.deepEqual(lines.map((l) => l.user), [
        undefined,
        undefined,
        user,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      const text = JSON.stringify(records.map((r) => [r.message, r.properties]));
      for (const secret of [token, password, "admin-token-for-access-log", "secret=1"]) {
        assert.ok(!text.includes(secret), `${secret} reached a log record`);
      }
    });
  } finally {
    await h.close();
  }
});

Deno.test("LOG_ACCESS=false turns the access log off; it is on by default", async () => {
  assert.equal(loadConfig({}, { isTerminal: false }).log.access, true);
  const config = loadConfig({ LOG_ACCESS: "false" }, { isTerminal: false });
  assert.equal(config.log.access, false);
  const health: HealthSources = {
    adminToken: "unused",
    isShuttingDown: () => false,
    pingDb: () => Promise.resolve(),
    connectionsReport: () => Promise.reject(new Error("not used")),
  };
  await capturingLogs(async (records) => {
    const app = createApp({ health, corsOrigins: [], accessLog: config.log.access });
    await (await app.request("/health/live")).body?.cancel();
    assert.deepEqual(accessLines(records), []);
    const on = createApp({ health, corsOrigins: [] });
    await (await on.request("/health/live")).body?.cancel();
    assert.equal(accessLines(records).length, 1);
  });
});
