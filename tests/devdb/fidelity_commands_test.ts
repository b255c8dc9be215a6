import assert from "node:assert/strict";
import { MongoServerError } from "mongodb";
import { type AnyDoc, withDevDb } from "./harness.ts";

async function failure(call: Promise<unknown>): Promise<MongoServerError> {
  const error = await call.then(() => undefined, (e) => e);
  assert.ok(error instanceof MongoServerError, `expected a server error, got ${error}`);
  return error;
}

Deno.test("an unknown field in a command is Location40415; the driver's generic fields pass", () =>
  withDevDb(async ({ db }) => {
    await db.collection("c").insertOne({ a: 1 });
    const find = await failure(db.command({ find: "c", filter: {}, frobnicate: 1 }));
    assert.equal(find.code, 40415);
    assert.equal(find.codeName, "Location40415");
    assert.equal(find.message, "BSON field 'find.frobnicate' is an unknown field.");
    const statement = await failure(
      db.command({ update: "c", updates: [{ q: {}, u: { $set: { a: 2 } }, x: 1 }] }),
    );
    assert.equal(statement.message, "BSON field 'update.updates.x' is an unknown field.");
    assert.equal((await failure(db.command({ insert: "c", documents: [{}], upsert: true }))).code, 40415);
    // The driver adds lsid, $db, $clusterTime, readConcern, writeConcern and the rest itself.
    const coll = db.collection("c");
    await coll.find({}, { comment: "x", maxTimeMS: 1000, readConcern: { level: "local" } }).toArray();
    await coll.updateOne({}, { $set: { a: 3 } }, { writeConcern: { w: 1 }, comment: "y" });
    assert.equal((await coll.findOne({}))!.a, 3);
    assert.equal(await coll.countDocuments({}, { maxTimeMS: 1000 }), 1);
  }));

Deno.test("a hint naming no index is BadValue (2); an existing one by name or key is used", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("h");
    await coll.insertMany([{ a: 1 }, { a: 2 }]);
    await coll.createIndex({ a: 1 });
    const missing = await failure(coll.find({ a: 1 }).hint("nope_1").toArray());
    assert.equal(missing.code, 2);
    assert.equal(missing.codeName, "BadValue");
    assert.match(missing.message, /hint provided does not correspond to an existing index/);
    assert.equal((await failure(coll.find({}).hint({ b: 1 }).toArray())).code, 2);
    assert.equal((await failure(coll.countDocuments({}, { hint: "nope" }))).code, 2);
    assert.equal((await failure(coll.deleteOne({ a: 1 }, { hint: "nope" }))).code, 2);
    assert.equal((await failure(coll.aggregate([{ $match: {} }], { hint: "nope" }).toArray())).code, 2);
    assert.equal((await coll.find({ a: 1 }).hint("a_1").toArray()).length, 1);
    assert.equal((await coll.find({ a: 2 }).hint({ a: 1 }).toArray()).length, 1);
    assert.equal((await coll.find({}).hint({ $natural: 1 }).toArray()).length, 2);
    assert.equal(await coll.countDocuments(), 2);
  }));

Deno.test("an invalid partialFilterExpression is CannotCreateIndex (67) and creates nothing", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("p");
    for (
      const filter of [{ a: { $ne: 1 } }, { a: { $exists: false } }, { $nor: [{ a: 1 }] }, {
        a: { $not: { $gt: 1 } },
      }]
    ) {
      const error = await failure(coll.createIndex({ a: 1 }, { partialFilterExpression: filter }));
      assert.equal(error.code, 67);
      assert.equal(error.codeName, "CannotCreateIndex");
      assert.match(error.message, /Expression not supported in partial index/);
    }
    assert.deepEqual(await db.listCollections({ name: "p" }).toArray(), []);
    await coll.createIndex({ a: 1 }, { partialFilterExpression: { a: { $gt: 1 }, b: { $exists: true } } });
    assert.equal((await coll.indexes()).length, 2);
  }));

Deno.test("the same index name with other options is IndexOptionsConflict (85); with another key 86", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("i");
    await coll.createIndex({ a: 1 }, { name: "ix" });
    const options = await failure(coll.createIndex({ a: 1 }, { name: "ix", unique: true }));
    assert.equal(options.code, 85);
    assert.equal(options.codeName, "IndexOptionsConflict");
    assert.match(options.message, /same name but different options/);
    const key = await failure(coll.createIndex({ b: 1 }, { name: "ix" }));
    assert.equal(key.code, 86);
    assert.equal(key.codeName, "IndexKeySpecsConflict");
    const otherName = await failure(coll.createIndex({ a: 1 }, { name: "other" }));
    assert.equal(otherName.code, 85);
    assert.equal(await coll.createIndex({ a: 1 }, { name: "ix" }), "ix");
  }));

Deno.test("listIndexes on a missing collection is NamespaceNotFound (26)", () =>
  withDevDb(async ({ db }) => {
    const error = await failure(db.command({ listIndexes: "missing" }));
    assert.equal(error.code, 26);
    assert.equal(error.codeName, "NamespaceNotFound");
    assert.equal(error.message, "ns does not exist: test.missing");
  }));

Deno.test("a $-prefixed field inside _id is DollarPrefixedFieldName (52), at any depth", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("ids");
    const top = await failure(coll.insertOne({ _id: { $a: 1 } } as never));
    assert.equal(top.code, 52);
    assert.equal(top.message, "_id fields may not contain '$'-prefixed fields: $a is not valid for storage.");
    assert.equal((await failure(coll.insertOne({ _id: { a: { $b: 1 } } } as never))).code, 52);
    await coll.insertOne({ _id: { a: 1 } } as never);
    await coll.insertOne({ _id: 2, nested: { $ok: 1 } });
    assert.equal(await coll.countDocuments(), 2);
  }));
