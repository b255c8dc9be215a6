import assert from "node:assert/strict";
import { Long } from "mongodb";
import { withDevDb } from "./harness.ts";

Deno.test("hello describes a standalone with wire version 25 (MongoDB 8.0)", () =>
  withDevDb(async ({ client }) => {
    const hello = await client.db("admin").command({ hello: 1 });
    assert.equal(hello.isWritablePrimary, true);
    assert.equal(hello.maxWireVersion, 25);
    assert.equal(hello.minWireVersion, 0);
    assert.equal(hello.maxBsonObjectSize, 16 * 1024 * 1024);
    assert.equal(hello.maxMessageSizeBytes, 48_000_000);
    assert.equal(hello.maxWriteBatchSize, 100_000);
    assert.equal(hello.logicalSessionTimeoutMinutes, 30);
    assert.equal(hello.setName, undefined);
    assert.equal(hello.compression, undefined);
    assert.equal(typeof hello.connectionId, "number");
    const legacy = await client.db("admin").command({ isMaster: 1 });
    assert.equal(legacy.ismaster, true);
  }));

Deno.test("ping, buildInfo and getParameter answer", () =>
  withDevDb(async ({ client }) => {
    const admin = client.db("admin");
    assert.deepEqual(await admin.command({ ping: 1 }), { ok: 1 });
    assert.match((await admin.command({ buildInfo: 1 })).version, /^8\.0\./);
    const fcv = await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 });
    assert.deepEqual(fcv.featureCompatibilityVersion, { version: "8.0" });
  }));

Deno.test("an unknown command is CommandNotFound and a transaction is IllegalOperation", () =>
  withDevDb(async ({ client, db }) => {
    const unknown = await db.command({ frobnicate: 1 }).catch((e) => e);
    assert.equal(unknown.code, 59);
    assert.equal(unknown.codeName, "CommandNotFound");
    const raw = await db.command({
      insert: "tx",
      documents: [{ a: 1 }],
      txnNumber: Long.fromNumber(1),
      startTransaction: true,
      autocommit: false,
    }).catch((e) => e);
    assert.equal(raw.code, 20);
    assert.equal(raw.codeName, "IllegalOperation");
    assert.match(raw.message, /Transaction numbers are only allowed on a replica set member or mongos/);
    // The driver rewords this reply for a transaction started on a session, as it does with a real standalone.
    const session = client.startSession();
    try {
      session.startTransaction();
      const error = await db.collection("tx").insertOne({ a: 1 }, { session }).catch((e) => e);
      assert.match(error.message, /does not support retryable writes/);
    } finally {
      await session.endSession();
    }
    assert.equal(await db.collection("tx").countDocuments(), 0);
  }));

Deno.test("create, listCollections, drop and dropDatabase manage namespaces", () =>
  withDevDb(async ({ client, db }) => {
    await db.createCollection("alpha");
    const exists = await db.createCollection("alpha").catch((e) => e);
    assert.equal(exists.codeName, "NamespaceExists");
    await db.collection("beta").insertOne({ x: 1 });
    assert.deepEqual((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort(), [
      "alpha",
      "beta",
    ]);
    assert.deepEqual((await db.listCollections({ name: "beta" }).toArray()).map((c) => c.name), ["beta"]);
    assert.equal(await db.collection("alpha").drop(), true);
    assert.equal(await db.collection("never-existed").drop(), true);
    const names = (await client.db().admin().listDatabases()).databases.map((d) => d.name);
    assert.ok(names.includes("test"));
    await db.dropDatabase();
    assert.deepEqual(await db.listCollections().toArray(), []);
  }));

Deno.test("count, distinct and aggregate", () =>
  withDevDb(async ({ db }) => {
    const entries = db.collection("entries");
    await entries.insertMany([
      { user: "a", mood: 3, tags: ["x"] },
      { user: "a", mood: 5, tags: ["x", "y"] },
      { user: "b", mood: 4, tags: [] },
    ]);
    assert.equal(await entries.countDocuments({ user: "a" }), 2);
    assert.equal(await entries.estimatedDocumentCount(), 3);
    assert.deepEqual((await entries.distinct("tags")).sort(), ["x", "y"]);
    assert.deepEqual(await entries.distinct("user", { mood: { $gt: 3 } }), ["a", "b"]);
    const perUser = await entries.aggregate([
      { $match: { mood: { $gte: 3 } } },
      { $group: { _id: "$user", avg: { $avg: "$mood" }, n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    assert.deepEqual(perUser, [{ _id: "a", avg: 4, n: 2 }, { _id: "b", avg: 4, n: 1 }]);
    const users = db.collection("users");
    await users.insertMany([{ _id: "a", name: "Ann" }, { _id: "b", name: "Bob" }] as never[]);
    const joined = await entries.aggregate([
      { $match: { mood: 5 } },
      { $lookup: { from: "users", localField: "user", foreignField: "_id", as: "who" } },
      { $project: { _id: 0, name: { $first: "$who.name" } } },
    ]).toArray();
    assert.deepEqual(joined, [{ name: "Ann" }]);
    await entries.aggregate([{ $match: { user: "b" } }, { $out: "only_b" }]).toArray();
    assert.equal(await db.collection("only_b").countDocuments(), 1);
  }));

Deno.test("a bad query operator is an error reply, not a dropped connection", () =>
  withDevDb(async ({ db }) => {
    await db.collection("bad").insertOne({ a: 1 });
    const error = await db.collection("bad").find({ a: { $frob: 1 } }).toArray().catch((e) => e);
    assert.equal(error.code, 2);
    assert.equal(await db.collection("bad").countDocuments(), 1);
  }));

Deno.test("dbStats and collStats count documents and indexes", () =>
  withDevDb(async ({ db }) => {
    await db.collection("s").insertMany([{ a: 1 }, { a: 2 }]);
    await db.collection("s").createIndex({ a: 1 });
    const stats = await db.stats();
    assert.equal(stats.collections, 1);
    assert.equal(stats.objects, 2);
    assert.equal(stats.indexes, 2);
    assert.ok(stats.dataSize > 0);
    const coll = await db.command({ collStats: "s" });
    assert.equal(coll.count, 2);
    assert.equal(coll.nindexes, 2);
    assert.equal((await db.command({ collStats: "none" }).catch((e) => e)).codeName, "NamespaceNotFound");
  }));
