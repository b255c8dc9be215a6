/**
 * A URL with a user and password: the credentials reach no log line, health output or metric.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { readEntries, signUp } from "../helpers/api.ts";

const USER = "zienprod";
const PASSWORD = "Pa55w0rdThatMustNotLeak";

Deno.test("credentials in MONGODB_URL never show up in logs, health or metrics", async () => {
  const devdb = await startDevDb();
  const url = devdb.url.replace("mongodb://", `mongodb://${USER}:${PASSWORD}@`) +
    "&authMechanism=PLAIN&authSource=%24external";
  const server = await spawnServer({
    env: { MONGODB_URL: url, ADMIN_TOKEN: "admin", LOG_LEVEL: "debug", DB_MONITOR_INTERVAL_MS: "1000" },
  });
  try {
    const token = await signUp(server.baseUrl, "creds");
    assert.equal((await readEntries(server.baseUrl, token)).status, 200);
    const admin = { authorization: "Bearer admin" };
    const health = await (await fetch(`${server.baseUrl}/api/health/connections`, { headers: admin })).text();
    const details = await (await fetch(`${server.baseUrl}/api/health/connections`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ action: "details" }),
    })).text();
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const ready = await (await fetch(`${server.baseUrl}/health/ready`)).text();
    devdb.dropConnections();
    assert.equal((await readEntries(server.baseUrl, token)).status, 200, "the driver reconnects on its own");
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    const logs = JSON.stringify(server.logs()) + server.stderr();
    assert.ok(logs.includes("mongodb://<credentials>@127.0.0.1"), "the redacted URL is logged");
    for (const [where, text] of Object.entries({ logs, health, details, metrics, ready })) {
      assert.ok(!text.includes(PASSWORD), `the password reached ${where}`);
      assert.ok(!text.includes(`${USER}:`), `the user reached ${where}`);
    }
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
