/**
 * Faults nothing else produces on demand, through the devdb's `failCommand` fail point, on the real server:
 * a command held past the wait-queue timeout, a connection closed under a find, a retryable write error
 * under a batch insert.
 */
import assert from "node:assert/strict";
import { type Document, MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { instanceAppName } from "../../src/db/client.ts";
import { readEntries, signUp } from "../helpers/api.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { waitFor } from "../helpers/wait.ts";

const DB_NAME = "zien_failpoints";
const ADMIN_TOKEN = "admin-token-for-failpoints";

Deno.test("fail points: a blocked command, a closed connection, a retryable write error", async (t) => {
  const devdb = await startDevDb({ replicaSet: { name: "rs0", members: 3 }, failPoints: true });
  const client = new MongoClient(devdb.url);
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      DB_NAME,
      ADMIN_TOKEN,
      DB_MAX_POOL_SIZE: "1",
      DB_MIN_POOL_SIZE: "0",
      DB_WAIT_QUEUE_TIMEOUT_MS: "200",
      BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS: "100",
    },
  });
  const appName = instanceAppName(Deno.hostname(), server.pid);
  const failCommand = (mode: Document | "off", data: Document) =>
    client.db("admin").command({ configureFailPoint: "failCommand", mode, data: { appName, ...data } });
  const poolClears = async () => {
    const response = await fetch(`${server.baseUrl}/api/health/connections`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return (await response.json()).stats.pool.poolClears as number;
  };
  try {
    const token = await signUp(server.baseUrl, "failpoints");
    assert.equal((await readEntries(server.baseUrl, token)).status, 200, "the token lookup is cached now");

    await t.step(
      "a find blocked past the wait-queue timeout: the others get 503 with Retry-After",
      async () => {
        await failCommand({ times: 1 }, {
          failCommands: ["find"],
          blockConnection: true,
          blockTimeMS: 1_000,
        });
        const responses = await Promise.all(
          Array.from({ length: 4 }, () => readEntries(server.baseUrl, token)),
        );
        const statuses = responses.map((r) => r.status).sort();
        assert.deepEqual(statuses, [200, 503, 503, 503], dump(server));
        for (const r of responses.filter((r) => r.status === 503)) {
          assert.equal(r.headers.get("retry-after"), "1");
        }
      },
    );

    await t.step("a find whose connection is closed is retried by the driver and answers 200", async () => {
      const clearsBefore = await poolClears();
      await failCommand({ times: 1 }, { failCommands: ["find"], closeConnection: true });
      assert.equal((await readEntries(server.baseUrl, token)).status, 200);
      assert.ok(
        await poolClears() > clearsBefore,
        "the closed connection cleared the pool: the fault happened",
      );
    });

    await t.step("a batch insert applied but answered with a retryable error is stored once", async () => {
      // The insert is applied, then its reply carries a write-concern error: the driver retries with the same
      // txnNumber, and the server must answer from its record of the first attempt instead of inserting again.
      await failCommand({ times: 1 }, {
        failCommands: ["insert"],
        writeConcernError: { code: 91, codeName: "ShutdownInProgress", errmsg: "shutting down" },
        errorLabels: ["RetryableWriteError"],
      });
      // 60 events: a full batch of 50 is written at once (through the fail point), the rest at the shutdown.
      for (let n = 0; n < 60; n++) {
        const response = await fetch(`${server.baseUrl}/api/analytics/track`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "failpoint.insert", properties: { n } }),
        });
        assert.equal(response.status, 202);
        await response.body?.cancel();
      }
      const events = client.db(DB_NAME).collection("analytics_events");
      await waitFor(async () => await events.countDocuments({ name: "failpoint.insert" }) >= 50, {
        what: "the full batch to be written",
      });
      const fired = await failCommand("off", {});
      assert.equal(fired.count, 1, "the fail point answered one insert");
    });

    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    const docs = await client.db(DB_NAME).collection("analytics_events").find({ name: "failpoint.insert" })
      .toArray();
    assert.equal(docs.length, 60, "every event once: none lost, none doubled");
    assert.equal(new Set(docs.map((d) => d.properties.n)).size, 60);
  } finally {
    await server.kill();
    await client.close();
    await devdb.stop();
  }
});
