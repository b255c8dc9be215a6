import assert from "node:assert/strict";
import { MongoClient, MongoNetworkError, MongoServerError } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { withDevDb } from "./harness.ts";

function failCommand(client: MongoClient, mode: unknown, data: Record<string, unknown>) {
  return client.db("admin").command({ configureFailPoint: "failCommand", mode, data });
}

Deno.test("configureFailPoint is refused unless the failPoints option is on", () =>
  withDevDb(async ({ client }) => {
    const refused = await failCommand(client, "alwaysOn", { failCommands: ["find"], errorCode: 2 })
      .catch((error) => error);
    assert.ok(refused instanceof MongoServerError);
    assert.equal(refused.code, 59);
    assert.ok(await client.db("test").collection("c").findOne({}) === null, "find is untouched");
  }));

Deno.test("failCommand errorCode: times, errorLabels, appName and off", () =>
  withDevDb(async ({ client, server }) => {
    const c = client.db("test").collection("c");
    await failCommand(client, { times: 2 }, {
      failCommands: ["find"],
      errorCode: 2,
      errorLabels: ["Custom"],
    });
    for (let i = 0; i < 2; i++) {
      const error = await c.findOne({}).catch((e) => e);
      assert.ok(error instanceof MongoServerError);
      assert.equal(error.code, 2);
      assert.ok(error.hasErrorLabel("Custom"));
    }
    assert.equal(await c.findOne({}), null, "the third find runs");

    const other = new MongoClient(server.url, { appName: "victim" });
    try {
      await failCommand(client, "alwaysOn", {
        failCommands: ["aggregate"],
        errorCode: 50,
        appName: "victim",
      });
      assert.equal(await c.countDocuments(), 0, "another appName is not matched");
      const error = await other.db("test").collection("c").countDocuments().catch((e) => e);
      assert.equal(error.code, 50);
      assert.equal(error.codeName, "MaxTimeMSExpired");
      const off = await failCommand(client, "off", { failCommands: [] });
      assert.equal(off.count, 1, "it fired once");
      assert.equal(await other.db("test").collection("c").countDocuments(), 0);
    } finally {
      await other.close();
    }
  }, { failPoints: true }));

Deno.test("failCommand closeConnection: the socket closes without a reply; a read is retried", () =>
  withDevDb(async ({ client, server }) => {
    const noRetry = new MongoClient(server.url, { retryReads: false, retryWrites: false });
    try {
      await noRetry.db("test").collection("c").insertOne({ a: 1 });
      await failCommand(client, { times: 1 }, { failCommands: ["insert"], closeConnection: true });
      const before = server.stats().connections.totalCreated;
      const error = await noRetry.db("test").collection("c").insertOne({ a: 2 }).catch((e) => e);
      assert.ok(error instanceof MongoNetworkError, String(error));
      assert.equal(await client.db("test").collection("c").countDocuments(), 1, "the insert never ran");
      await failCommand(client, { times: 1 }, { failCommands: ["find"], closeConnection: true });
      assert.equal((await client.db("test").collection("c").findOne({}))?.a, 1, "retried on a new socket");
      assert.ok(server.stats().connections.totalCreated > before);
    } finally {
      await noRetry.close();
    }
  }, { failPoints: true }));

Deno.test("failCommand blockConnection holds the command for blockTimeMS", () =>
  withDevDb(async ({ client }) => {
    await failCommand(client, { times: 1 }, {
      failCommands: ["ping"],
      blockConnection: true,
      blockTimeMS: 400,
    });
    const started = performance.now();
    assert.deepEqual(await client.db("admin").command({ ping: 1 }), { ok: 1 });
    assert.ok(performance.now() - started >= 380, "held for the block time");
    // Only the blocked connection waits: a command on another pooled connection answers meanwhile.
    await failCommand(client, { times: 1 }, {
      failCommands: ["ping"],
      blockConnection: true,
      blockTimeMS: 1_000,
    });
    let pinged = false;
    const blocked = client.db("admin").command({ ping: 1 }).then(() => pinged = true);
    assert.equal(await client.db("test").collection("c").findOne({}), null);
    assert.equal(pinged, false, "the find answered while the ping was held");
    await blocked;
  }, { failPoints: true }));

Deno.test("a retryable error on a replica-set primary is labelled by the server and retried by the driver", async () => {
  const devdb = await startDevDb({ replicaSet: { name: "rs0", members: 3 }, failPoints: true });
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 5_000, monitorCommands: true });
  let failed: MongoServerError | undefined;
  client.on("commandFailed", (event) => failed = event.failure as MongoServerError);
  try {
    await client.db("test").collection("c").insertOne({ a: 1 });
    await failCommand(client, { times: 1 }, { failCommands: ["insert"], errorCode: 91 });
    await client.db("test").collection("c").insertOne({ a: 2 });
    assert.equal(await client.db("test").collection("c").countDocuments(), 2);
  } finally {
    await client.close();
    await devdb.stop();
  }
  assert.equal(failed?.code, 91, "the first attempt failed");
  assert.ok(failed?.hasErrorLabel("RetryableWriteError"));
});
