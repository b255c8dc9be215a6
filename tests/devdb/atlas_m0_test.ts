import assert from "node:assert/strict";
import { MongoClient, MongoServerError } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { spawnDevDb } from "../helpers/devdb_process.ts";

async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof MongoServerError, `expected a server error, got ${error}`);
  return error;
}

Deno.test("the Atlas M0 preset: 3 members on 8.0, an app user with readWrite on its db only, Atlas's refusals", async () => {
  const devdb = await startDevDb({
    atlasM0: { opRateLimit: false },
    users: [{ user: "root", password: "root-pass", roles: ["root"] }],
  });
  const app = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 5_000 });
  const hosts = devdb.members.map((member) => `${member.host}:${member.port}`).join(",");
  const root = new MongoClient(`mongodb://root:root-pass@${hosts}/?replicaSet=atlas-devdb-shard-0`);
  try {
    assert.equal(devdb.members.length, 3);
    assert.equal(
      devdb.url,
      `mongodb://app:app-password@${hosts}/?replicaSet=atlas-devdb-shard-0&authSource=admin`,
    );
    const notes = app.db("zien").collection("notes");
    await notes.insertOne({ text: "hello" });
    assert.equal((await notes.findOne({}))?.text, "hello");
    assert.equal((await failure(app.db("other").collection("x").findOne({}))).code, 13);
    assert.equal((await failure(app.db("admin").command({ serverStatus: 1 }))).code, 13);
    assert.equal((await failure(app.db("admin").command({ currentOp: 1, $all: true }))).code, 13);
    assert.ok((await app.db("admin").command({ currentOp: 1, $ownOps: true })).inprog.length >= 1);
    assert.match((await app.db("admin").command({ buildInfo: 1 })).version, /^8\.0\./);

    for (
      const command of [{ createUser: "x", pwd: "y", roles: [] }, { compact: "notes" }, {
        replSetStepDown: 1,
      }]
    ) {
      const refused = await failure(root.db("admin").command(command));
      assert.equal(refused.code, 8000);
      assert.equal(refused.codeName, "AtlasError");
      assert.equal(
        refused.message,
        `${
          Object.keys(command)[0]
        } is not allowed or the syntax is incorrect, see the Atlas documentation for more information`,
      );
    }
    const status = await root.db("admin").command({ serverStatus: 1 });
    assert.equal(status.version, "8.0.0");
    assert.equal(
      status.connections.available,
      500 - status.connections.current,
      "500 connections per member",
    );
  } finally {
    await app.close();
    await root.close();
    await devdb.stop();
  }
});

Deno.test("the M0 operation-rate limit: past 100 operations in a second, the rest wait for the next second", async () => {
  const devdb = await startDevDb({ atlasM0: true });
  const app = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 5_000, maxPoolSize: 10 });
  try {
    const notes = app.db("zien").collection("notes");
    await notes.insertOne({ n: 0 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 210 }, () => notes.findOne({})));
    // 210 finds need three one-second windows at 100 per second: at least one full second of waiting.
    assert.ok(performance.now() - started >= 1_000, `${Math.round(performance.now() - started)} ms`);
  } finally {
    await app.close();
    await devdb.stop();
  }
});

Deno.test("deno task devdb --atlas-m0 prints a seed list with the app user that a client can use", async () => {
  const devdb = await spawnDevDb({ args: ["--atlas-m0", "--no-op-rate-limit"] });
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 10_000 });
  try {
    assert.match(
      devdb.url,
      /^mongodb:\/\/app:app-password@127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/\?replicaSet=atlas-devdb-shard-0&authSource=admin$/,
    );
    await client.db("zien").collection("notes").insertOne({ via: "cli" });
    assert.equal(await client.db("zien").collection("notes").countDocuments({ via: "cli" }), 1);
  } finally {
    await client.close();
    await devdb.stop();
  }
  assert.equal((await devdb.status).code, 0);
});
