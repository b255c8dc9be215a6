/**
 * The shutdown and pool checks under load, with connection counts read from the database's side.
 */
import assert from "node:assert/strict";
import { type DevDb, startDevDb } from "../../src/devdb/mod.ts";
import { assertClosedCleanly, dump, type ServerProcess, spawnServer } from "../helpers/server_process.ts";
import { appConnections } from "../helpers/runtime.ts";
import { readEntries, signUp } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

/** Checkouts in use or waiting, from /metrics (which answers without touching the database). */
async function databaseWork(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return value(/^db_client_connections_usage\{state="used"\} (\d+)/m) +
    value(/^db_client_connection_pending_requests (\d+)/m);
}

/** The driver keeps up to two monitoring connections per host beside the pool. */
const MONITORING = 2;

async function withServer(
  env: Record<string, string>,
  body: (devdb: DevDb, server: ServerProcess) => Promise<void>,
): Promise<void> {
  const devdb = await startDevDb();
  const server = await spawnServer({ env: { MONGODB_URL: devdb.url, ...env } });
  try {
    await body(devdb, server);
  } finally {
    await server.kill();
    await devdb.stop();
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} under load: every accepted request gets its 2xx, exit 0, connections drop to 0`, async () => {
    await withServer({ DB_MAX_POOL_SIZE: "5" }, async (devdb, server) => {
      const token = await signUp(server.baseUrl, `load-${signal.toLowerCase()}`);
      devdb.setLatency(100);
      const requests = Array.from({ length: 60 }, () => readEntries(server.baseUrl, token));
      // Every request is inside its handler once each holds or waits for a pooled connection.
      await waitFor(async () => (await databaseWork(server.baseUrl)) >= 60, {
        what: "all 60 requests to be accepted",
      });
      const signalledAt = Date.now();
      server.signal(signal);
      const statuses = (await Promise.all(requests)).map((r) => r.status);
      assert.deepEqual(
        statuses.filter((s) => s !== 200),
        [],
        "every request sent before the signal is answered",
      );
      assert.equal(await server.exited, 0, dump(server));
      assert.ok(Date.now() - signalledAt < 10_000, "exit within SHUTDOWN_TIMEOUT_MS");
      assertClosedCleanly(server);
      await waitFor(() => appConnections(devdb, server.pid) === 0, {
        what: "this app's connections to close",
      });
    });
  });
}

Deno.test("pool cap: 500 concurrent requests with DB_MAX_POOL_SIZE=5 never exceed 5 + monitoring", async () => {
  await withServer({ DB_MAX_POOL_SIZE: "5", DB_MIN_POOL_SIZE: "0" }, async (devdb, server) => {
    const token = await signUp(server.baseUrl, "pool-cap");
    devdb.setLatency(2);
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(appConnections(devdb, server.pid));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const responses = await Promise.all(
      Array.from({ length: 500 }, () => readEntries(server.baseUrl, token)),
    );
    sampling = false;
    await sampler;
    assert.deepEqual(responses.filter((r) => r.status !== 200).map((r) => r.status), []);
    const peak = Math.max(...samples);
    assert.ok(samples.length > 10, `took ${samples.length} samples`);
    assert.ok(peak <= 5 + MONITORING, `peak of ${peak} server-side connections`);
    assert.ok(peak >= 5, `the load should fill the pool (peak ${peak})`);
  });
});

Deno.test("pool exhaustion: a checkout that times out answers 503 with Retry-After", async () => {
  await withServer(
    { DB_MAX_POOL_SIZE: "1", DB_MIN_POOL_SIZE: "0", DB_WAIT_QUEUE_TIMEOUT_MS: "100" },
    async (devdb, server) => {
      const token = await signUp(server.baseUrl, "exhaustion");
      devdb.setLatency(400);
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => readEntries(server.baseUrl, token)),
      );
      const refused = responses.filter((r) => r.status === 503);
      assert.ok(refused.length > 0, `statuses: ${responses.map((r) => r.status)}`);
      for (const r of refused) assert.equal(r.headers.get("retry-after"), "1");
      assert.deepEqual(responses.filter((r) => r.status !== 200 && r.status !== 503), []);
      assert.ok(
        server.logs().some((l) =>
          /database unavailable/.test(l.message) && l.error === "MongoWaitQueueTimeoutError"
        ),
      );
    },
  );
});
