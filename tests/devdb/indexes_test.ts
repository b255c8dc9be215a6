import assert from "node:assert/strict";
import { MongoServerError } from "mongodb";
import { type AnyDoc, withDevDb } from "./harness.ts";

Deno.test("a unique index rejects duplicates with mongod's E11000 error shape", () =>
  withDevDb(async ({ db }) => {
    const users = db.collection("users");
    assert.equal(await users.createIndex({ email: 1 }, { unique: true }), "email_1");
    await users.insertOne({ email: "a@example.com" });
    const error = await users.insertOne({ email: "a@example.com" }).catch((e) => e);
    assert.ok(error instanceof MongoServerError);
    assert.equal(error.code, 11000);
    assert.equal(
      error.message,
      'E11000 duplicate key error collection: test.users index: email_1 dup key: { email: "a@example.com" }',
    );
    assert.deepEqual(error.keyPattern, { email: 1 });
    assert.deepEqual(error.keyValue, { email: "a@example.com" });

    const other = await users.insertOne({ email: "b@example.com" });
    const clash = await users.updateOne({ _id: other.insertedId }, { $set: { email: "a@example.com" } })
      .catch((e) => e);
    assert.equal(clash.code, 11000);
    assert.equal((await users.findOne({ _id: other.insertedId }))!.email, "b@example.com");
  }));

Deno.test("a compound unique index compares the whole key", () =>
  withDevDb(async ({ db }) => {
    const slots = db.collection("slots");
    await slots.createIndex({ userId: 1, day: 1 }, { unique: true, name: "user_day" });
    await slots.insertMany([{ userId: 1, day: "mon" }, { userId: 1, day: "tue" }, { userId: 2, day: "mon" }]);
    const error = await slots.insertOne({ userId: 1, day: "mon", extra: true }).catch((e) => e);
    assert.equal(error.code, 11000);
    assert.deepEqual(error.keyPattern, { userId: 1, day: 1 });
    assert.deepEqual(error.keyValue, { userId: 1, day: "mon" });
    assert.match(error.message, /index: user_day dup key: \{ userId: 1, day: "mon" \}/);
    assert.equal(await slots.countDocuments(), 3);
  }));

Deno.test("a duplicate _id is an E11000 on the _id_ index", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("ids");
    await coll.insertOne({ _id: "x" });
    const error = await coll.insertOne({ _id: "x" }).catch((e) => e);
    assert.equal(error.code, 11000);
    assert.deepEqual(error.keyValue, { _id: "x" });
    assert.match(error.message, /index: _id_ dup key: \{ _id: "x" \}/);
  }));

Deno.test("creating a unique index over duplicates fails and leaves no index", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("dups");
    await coll.insertMany([{ k: 1 }, { k: 1 }]);
    const error = await coll.createIndex({ k: 1 }, { unique: true }).catch((e) => e);
    assert.equal(error.code, 11000);
    assert.deepEqual((await coll.indexes()).map((index) => index.name), ["_id_"]);
  }));

Deno.test("sparse and partial unique indexes skip the documents they do not cover", () =>
  withDevDb(async ({ db }) => {
    const sparse = db.collection("sparse");
    await sparse.createIndex({ phone: 1 }, { unique: true, sparse: true });
    await sparse.insertMany([{ name: "a" }, { name: "b" }]);
    const plain = db.collection("plain");
    await plain.createIndex({ phone: 1 }, { unique: true });
    await plain.insertOne({ name: "a" });
    assert.equal((await plain.insertOne({ name: "b" }).catch((e) => e)).code, 11000);
    const partial = db.collection("partial");
    await partial.createIndex({ code: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await partial.insertMany([{ code: 1, active: false }, { code: 1, active: true }]);
    assert.equal((await partial.insertOne({ code: 1, active: true }).catch((e) => e)).code, 11000);
  }));

Deno.test("listIndexes, conflicting createIndexes and dropIndexes answer as mongod does", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("ix");
    await coll.createIndexes([{ key: { a: 1 } }, { key: { b: -1 }, name: "b_desc", expireAfterSeconds: 60 }]);
    assert.deepEqual(await coll.indexes(), [
      { v: 2, key: { _id: 1 }, name: "_id_" },
      { v: 2, key: { a: 1 }, name: "a_1" },
      { v: 2, key: { b: -1 }, name: "b_desc", expireAfterSeconds: 60 },
    ]);
    assert.equal(await coll.createIndex({ a: 1 }), "a_1");
    assert.equal(
      (await coll.createIndex({ a: 1 }, { name: "other" }).catch((e) => e)).codeName,
      "IndexOptionsConflict",
    );
    assert.equal(
      (await coll.createIndex({ c: 1 }, { name: "a_1" }).catch((e) => e)).codeName,
      "IndexKeySpecsConflict",
    );
    assert.equal((await coll.dropIndex("nope").catch((e) => e)).codeName, "IndexNotFound");
    assert.equal((await coll.dropIndex("_id_").catch((e) => e)).codeName, "InvalidOptions");
    await coll.dropIndex("a_1");
    await coll.dropIndexes();
    assert.deepEqual((await coll.indexes()).map((index) => index.name), ["_id_"]);
    const missing = await db.collection("missing").indexes().catch((e) => e);
    assert.equal(missing.codeName, "NamespaceNotFound");
  }));

Deno.test("queries through an index see updates and deletes", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("lookup");
    await coll.createIndex({ tag: 1 });
    await coll.insertMany([{ tag: "a", n: 1 }, { tag: ["a", "b"], n: 2 }, { tag: "c", n: 3 }]);
    assert.deepEqual((await coll.find({ tag: "a" }).toArray()).map((doc) => doc.n), [1, 2]);
    await coll.updateOne({ n: 1 }, { $set: { tag: "z" } });
    await coll.deleteOne({ n: 2 });
    assert.deepEqual(await coll.find({ tag: "a" }).toArray(), []);
    assert.deepEqual((await coll.find({ tag: "z", n: { $lt: 5 } }).toArray()).map((doc) => doc.n), [1]);
  }));

Deno.test("$in on _id and on an indexed field finds exactly the listed documents", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("in_lookups");
    await coll.createIndex({ owner: 1 });
    await coll.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `d${i}`, owner: `o${i % 5}`, i })));
    const byId = await coll.find({ _id: { $in: ["d3", "d7", "d7", "missing"] } }).sort({ i: 1 }).toArray();
    assert.deepEqual(byId.map((d) => d._id), ["d3", "d7"]);
    const byOwner = await coll.find({ owner: { $in: ["o1", "o4"] }, i: { $lt: 20 } }).sort({ i: 1 })
      .toArray();
    assert.deepEqual(byOwner.map((d) => d.i), [1, 4, 6, 9, 11, 14, 16, 19]);
    const unindexed = await coll.countDocuments({ i: { $in: [1, 2, 3] } });
    assert.equal(unindexed, 3);
  }));
