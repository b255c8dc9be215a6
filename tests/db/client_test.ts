import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import {
  APP_NAME_PREFIX,
  ConnectFailedError,
  connectWithRetry,
  createMongoClient,
  instanceAppName,
  SecondClientError,
} from "../../src/db/client.ts";
import { TenantDbs } from "../../src/db/tenants.ts";
import { InvalidTenantError } from "../../src/db/tenants.ts";
import { capturingLogs } from "../helpers/logs.ts";

const pool = {
  maxPoolSize: 5,
  minPoolSize: 0,
  maxIdleTimeMS: 60_000,
  maxConnecting: 2,
  connectTimeoutMS: 2_000,
  serverSelectionTimeoutMS: 2_000,
  socketTimeoutMS: 10_000,
  waitQueueTimeoutMS: 2_000,
};
const retry = { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 };

Deno.test("the appName names this app, host and pid", () => {
  assert.equal(instanceAppName("web-1", 42), `${APP_NAME_PREFIX}web-1:42`);
});

Deno.test("a second MongoClient throws, naming where the first was made; after close a new one is fine", async () => {
  const first = createMongoClient("mongodb://127.0.0.1:1/?directConnection=true", pool, "first");
  try {
    let caught: unknown;
    try {
      createMongoClient("mongodb://127.0.0.1:1", pool, "second");
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof SecondClientError);
    const message = caught.message;
    assert.match(message, /already exists in this process \(created at .*client_test\.ts/);
  } finally {
    await first.close();
  }
  const again = createMongoClient("mongodb://127.0.0.1:1/?directConnection=true", pool, "again");
  await again.close();
});

Deno.test("the write concern and read preference reach the client; retries stay on whatever the URL says", async () => {
  const url = "mongodb://127.0.0.1:1/?directConnection=true&retryWrites=false&retryReads=false&w=1";
  const defaults = createMongoClient(url, pool, "defaults");
  try {
    assert.equal(defaults.options.writeConcern?.w, "majority");
    assert.equal(defaults.options.readPreference.mode, "primary");
    assert.equal(defaults.options.retryWrites, true);
    assert.equal(defaults.options.retryReads, true);
  } finally {
    await defaults.close();
  }
  const configured = createMongoClient(url, pool, "configured", {
    writeConcern: 2,
    readPreference: "secondaryPreferred",
  });
  try {
    assert.equal(configured.options.writeConcern?.w, 2);
    assert.equal(configured.options.readPreference.mode, "secondaryPreferred");
  } finally {
    await configured.close();
  }
});

Deno.test("200 tenants add zero connections", async () => {
  const devdb = await startDevDb();
  const appName = "tenants-test";
  const client = createMongoClient(devdb.url, pool, appName);
  try {
    await connectWithRetry(client, devdb.url, retry);
    const tenants = new TenantDbs(client, { prefix: "zien_org_", max: 500 });
    await tenants.tenantDb("warmup").collection("c").insertOne({ warm: true });
    const before = devdb.stats().connections.byAppName[appName];
    for (let i = 0; i < 200; i++) {
      await tenants.tenantDb(`org${i}`).collection("notes").insertOne({ i });
    }
    const after = devdb.stats().connections.byAppName[appName];
    assert.equal(after, before, `connections went from ${before} to ${after}`);
    assert.ok(after <= pool.maxPoolSize + 2);
    const stats = tenants.stats(500);
    assert.equal(stats.cached, 201);
    const org7 = stats.tenants.find((t) => t.orgId === "org7");
    assert.equal(org7?.dbName, "zien_org_org7");
    assert.equal(org7?.useCount, 1);
    assert.equal(await tenants.tenantDb("org7").collection("notes").countDocuments(), 1);
    assert.equal(tenants.stats(500).tenants.find((t) => t.orgId === "org7")?.useCount, 2);
  } finally {
    await client.close();
    await devdb.stop();
  }
});

Deno.test("tenant ids that cannot name a database are refused", async () => {
  const client = createMongoClient("mongodb://127.0.0.1:1/?directConnection=true", pool, "bad-tenants");
  try {
    const tenants = new TenantDbs(client, { prefix: "zien_org_" });
    for (const bad of ["", "a.b", "a/b", "$x", "x".repeat(33), "a b", "über"]) {
      assert.throws(() => tenants.tenantDb(bad), InvalidTenantError, bad);
    }
    assert.equal(tenants.stats().cached, 0);
  } finally {
    await client.close();
  }
});

Deno.test("the tenant cache is bounded", async () => {
  const client = createMongoClient("mongodb://127.0.0.1:1/?directConnection=true", pool, "bounded");
  try {
    const tenants = new TenantDbs(client, { prefix: "p_", max: 3 });
    for (const id of ["a", "b", "c", "d"]) tenants.tenantDb(id);
    assert.equal(tenants.stats().cached, 3);
    assert.deepEqual(tenants.stats().tenants.map((t) => t.orgId).sort(), ["b", "c", "d"]);
  } finally {
    await client.close();
  }
});

Deno.test("connect waits between attempts as src/backoff.ts says: doubling from the initial delay, capped, ±10%", async () => {
  const url = "mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=50";
  const client = createMongoClient(url, { ...pool, serverSelectionTimeoutMS: 50 }, "backoff");
  try {
    await capturingLogs(async (records) => {
      const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 300 };
      await assert.rejects(connectWithRetry(client, url, policy), ConnectFailedError);
      const delays = records.map((r) => r.properties.delayMs).filter((d) => typeof d === "number");
      assert.equal(delays.length, 3);
      for (const [i, expected] of [100, 200, 300].entries()) {
        const delay = delays[i] as number;
        assert.ok(delay >= expected * 0.9 && delay <= expected * 1.1, `attempt ${i + 1}: ${delay} ms`);
      }
    });
  } finally {
    await client.close();
  }
});

Deno.test("connect gives up after the attempts with a message that names the redacted URL", async () => {
  const url = "mongodb://zien:hunter2@127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=100";
  const client = createMongoClient(url, { ...pool, serverSelectionTimeoutMS: 100 }, "gives-up");
  try {
    const err = await connectWithRetry(client, url, retry).then(() => undefined, (e) => e);
    assert.ok(err instanceof ConnectFailedError);
    assert.match(err.message, /after 2 attempt\(s\)/);
    assert.ok(!err.message.includes("hunter2"), err.message);
  } finally {
    await client.close();
  }
});
