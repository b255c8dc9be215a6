import assert from "node:assert/strict";
import { Decimal128, Long, MongoServerError } from "mongodb";
import { type AnyDoc, tempDataDir, withDevDb } from "./harness.ts";

async function failure(call: Promise<unknown>): Promise<MongoServerError> {
  const error = await call.then(() => undefined, (e) => e);
  assert.ok(error instanceof MongoServerError, `expected a server error, got ${error}`);
  return error;
}

const ids = (docs: { _id?: unknown }[]) => docs.map((d) => d._id);

Deno.test("a collation of strength 2 matches, sorts and counts case-insensitively; distinct folds cases", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("names");
    await coll.insertMany([{ _id: 1, n: "abc" }, { _id: 2, n: "ABC" }, { _id: 3, n: "abd" }]);
    await coll.createIndex({ n: 1 });
    const collation = { locale: "en", strength: 2 };
    assert.deepEqual(ids(await coll.find({ n: "aBc" }, { collation }).sort({ _id: 1 }).toArray()), [1, 2]);
    assert.deepEqual(ids(await coll.find({ n: "aBc" }).toArray()), []);
    assert.equal(await coll.countDocuments({ n: { $in: ["ABD"] } }, { collation }), 1);
    assert.deepEqual(ids(await coll.find({ n: { $gt: "ABC" } }, { collation }).toArray()), [3]);
    assert.deepEqual((await coll.distinct("n", {}, { collation })).length, 2);
    assert.deepEqual((await coll.distinct("n")).length, 3);
    const updated = await coll.updateMany({ n: "ABC" }, { $set: { hit: true } }, { collation });
    assert.equal(updated.modifiedCount, 2);
    assert.equal((await coll.deleteMany({ n: "ABD" }, { collation })).deletedCount, 1);
    const grouped = await coll.aggregate([{ $match: { n: "abc" } }, { $count: "n" }], { collation })
      .toArray();
    assert.deepEqual(grouped, [{ n: 2 }]);
    // A collection's default collation applies when the command names none.
    const folded = await db.createCollection<AnyDoc>("folded", { collation });
    await folded.insertMany([{ _id: 1, n: "x" }, { _id: 2, n: "X" }]);
    assert.equal(await folded.countDocuments({ n: "x" }), 2);
    assert.equal((await failure(folded.createIndex({ n: 1 }, { unique: true }))).code, 67);
  }));

Deno.test("a $jsonSchema validator refuses with DocumentValidationFailure (121), per level and action", () =>
  withDevDb(async ({ db }) => {
    const validator = {
      $jsonSchema: {
        bsonType: "object",
        required: ["name"],
        properties: { name: { bsonType: "string", minLength: 2 }, age: { bsonType: "int", minimum: 0 } },
      },
    };
    const people = await db.createCollection<AnyDoc>("people", { validator });
    await people.insertOne({ _id: 1, name: "Ann", age: 30 });
    const missing = await failure(people.insertOne({ _id: 2, age: 3 }));
    assert.equal(missing.code, 121);
    assert.equal(missing.message, "Document failed validation");
    assert.equal(missing.errInfo?.failingDocumentId, 2);
    assert.equal((await failure(people.updateOne({ _id: 1 }, { $set: { age: -1 } }))).code, 121);
    assert.equal((await failure(people.replaceOne({ _id: 1 }, { name: "A" }))).code, 121);
    const viaFam = await failure(people.findOneAndUpdate({ _id: 1 }, { $set: { name: 5 } }));
    assert.equal(viaFam.code, 121);
    assert.equal(viaFam.codeName, "DocumentValidationFailure");
    await people.insertOne({ _id: 3 }, { bypassDocumentValidation: true });
    assert.deepEqual(ids(await people.find().sort({ _id: 1 }).toArray()), [1, 3]);
    assert.equal((await people.findOne({ _id: 1 }))!.age, 30);

    // moderate: an update of a document that already fails passes; warn: nothing is refused.
    await db.command({ collMod: "people", validationLevel: "moderate" });
    await people.updateOne({ _id: 3 }, { $set: { other: 1 } });
    assert.equal((await failure(people.updateOne({ _id: 1 }, { $unset: { name: "" } }))).code, 121);
    await db.command({ collMod: "people", validationAction: "warn" });
    await people.insertOne({ _id: 4 });
    assert.equal(await people.countDocuments(), 3);
    const shapes = await db.createCollection<AnyDoc>("shapes", {
      validator: {
        $jsonSchema: {
          bsonType: "object",
          additionalProperties: false,
          properties: {
            _id: { bsonType: "int" },
            kind: { enum: ["circle", "square"] },
            code: { bsonType: "string", pattern: "^[A-Z]{2}$" },
            sizes: { bsonType: "array", items: { bsonType: "number", minimum: 1 }, uniqueItems: true },
            at: { anyOf: [{ bsonType: "date" }, { bsonType: "null" }] },
          },
        },
      },
    });
    await shapes.insertOne({ _id: 1, kind: "circle", code: "AB", sizes: [1, 2.5], at: new Date() });
    for (
      const doc of [
        { _id: 2, kind: "oval" },
        { _id: 3, code: "abc" },
        { _id: 4, sizes: [1, 1] },
        {
          _id: 5,
          sizes: [0],
        },
        { _id: 6, extra: true },
        { _id: 7, at: "today" },
        { _id: "8" },
      ]
    ) {
      assert.equal((await failure(shapes.insertOne(doc as AnyDoc))).code, 121, JSON.stringify(doc));
    }
    assert.equal(await shapes.countDocuments(), 1);
    const bad = await failure(db.createCollection("bad", { validator: { $jsonSchema: { frob: 1 } } }));
    assert.equal(bad.code, 9);
    assert.match(bad.message, /Unknown \$jsonSchema keyword: frob/);
  }));

Deno.test("collMod changes a validator and a TTL index, and survives nothing it does not know", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("mod");
    await coll.insertOne({ _id: 1, a: 1 });
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 60, name: "ttl" });
    await db.command({ collMod: "mod", validator: { a: { $gt: 0 } } });
    assert.equal((await failure(coll.insertOne({ _id: 2, a: 0 }))).code, 121);
    const [info] = await db.listCollections({ name: "mod" }).toArray();
    assert.deepEqual((info as { options?: AnyDoc }).options?.validator, { a: { $gt: 0 } });
    const ttl = await db.command({ collMod: "mod", index: { name: "ttl", expireAfterSeconds: 5 } });
    assert.equal(ttl.expireAfterSeconds_old, 60);
    assert.equal(ttl.expireAfterSeconds_new, 5);
    assert.equal((await coll.indexes()).find((i) => i.name === "ttl")!.expireAfterSeconds, 5);
    assert.equal((await failure(db.command({ collMod: "none" }))).code, 26);
    assert.equal(
      (await failure(db.command({ collMod: "mod", index: { name: "nope", expireAfterSeconds: 1 } }))).code,
      27,
    );
    assert.equal((await failure(db.command({ collMod: "mod", frob: 1 }))).code, 40415);
  }));

Deno.test("views, change streams and text search are refused loudly, naming the devdb", () =>
  withDevDb(async ({ db }) => {
    await db.collection("src").insertOne({ a: "hello world" });
    const view = await failure(db.createCollection("v", { viewOn: "src", pipeline: [] }));
    assert.equal(view.code, 115);
    assert.equal(view.codeName, "CommandNotSupported");
    assert.match(view.message, /views are not supported by the devdb/);
    assert.deepEqual(await db.listCollections({ name: "v" }).toArray(), []);
    const stream = await failure(
      db.command({ aggregate: "src", pipeline: [{ $changeStream: {} }], cursor: {} }),
    );
    assert.equal(stream.code, 40573);
    assert.equal(stream.codeName, "Location40573");
    assert.match(stream.message, /devdb/);
    const textIndex = await failure(db.collection("src").createIndex({ a: "text" }));
    assert.equal(textIndex.code, 67);
    assert.match(textIndex.message, /text indexes are not supported by the devdb/);
    const text = await failure(db.collection("src").find({ $text: { $search: "hello" } }).toArray());
    assert.equal(text.code, 27);
    assert.match(text.message, /text index required for \$text query/);
  }));

Deno.test("Decimal128 compares numerically with int, long and double, with and without an index", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("nums");
    await coll.insertMany([
      { _id: 1, v: Decimal128.fromString("1") },
      { _id: 2, v: 1.5 },
      { _id: 3, v: Long.fromNumber(2 ** 40) },
      { _id: 4, v: Decimal128.fromString("2.50") },
    ]);
    const check = async () => {
      assert.deepEqual(ids(await coll.find({ v: 1 }).toArray()), [1]);
      assert.deepEqual(ids(await coll.find({ v: Decimal128.fromString("1.5") }).toArray()), [2]);
      assert.deepEqual(ids(await coll.find({ v: { $gt: 1, $lte: 2.5 } }).sort({ _id: 1 }).toArray()), [2, 4]);
      assert.deepEqual(ids(await coll.find({ v: { $in: [2.5, 2 ** 40] } }).sort({ _id: 1 }).toArray()), [
        3,
        4,
      ]);
      assert.deepEqual(ids(await coll.find({ v: { $gte: Decimal128.fromString("1E12") } }).toArray()), [3]);
    };
    await check();
    await coll.createIndex({ v: 1 });
    await check();
  }));

Deno.test("an undefined variable is Location17276; let variables reach find, aggregate, update and delete", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("vars");
    await coll.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
    const undefinedVariable = await failure(coll.find({ $expr: { $eq: ["$a", "$$nope"] } }).toArray());
    assert.equal(undefinedVariable.code, 17276);
    assert.equal(undefinedVariable.codeName, "Location17276");
    assert.equal(undefinedVariable.message, "Use of undefined variable: nope");
    const let_ = { target: 2 };
    const filter = { $expr: { $eq: ["$a", "$$target"] } };
    assert.deepEqual(ids(await coll.find(filter, { let: let_ }).toArray()), [2]);
    assert.deepEqual(ids(await coll.aggregate([{ $match: filter }], { let: let_ }).toArray()), [2]);
    const piped = await coll.aggregate([{ $project: { b: "$$target" } }, { $match: { _id: 1 } }], {
      let: let_,
    })
      .toArray();
    assert.deepEqual(piped, [{ _id: 1, b: 2 }]);
    await coll.updateOne(filter, [{ $set: { b: "$$target" } }], { let: let_ });
    assert.equal((await coll.findOne({ _id: 2 }))!.b, 2);
    assert.equal((await coll.findOneAndUpdate(filter, { $set: { c: 1 } }, { let: let_ }))?._id, 2);
    assert.equal((await coll.deleteOne(filter, { let: let_ })).deletedCount, 1);
    assert.deepEqual(ids(await coll.find().toArray()), [1]);
  }));

Deno.test("a validator and a TTL changed by collMod survive a restart on the same dataDir", async () => {
  const dataDir = await tempDataDir();
  try {
    await withDevDb(async ({ db }) => {
      await db.createCollection("kept", { validator: { a: { $gt: 0 } } });
      await db.collection("kept").createIndex({ at: 1 }, { expireAfterSeconds: 60, name: "ttl" });
      await db.command({
        collMod: "kept",
        validator: { a: { $gt: 10 } },
        index: { name: "ttl", expireAfterSeconds: 7 },
      });
    }, { dataDir });
    await withDevDb(async ({ db }) => {
      const kept = db.collection<AnyDoc>("kept");
      assert.equal((await failure(kept.insertOne({ _id: 1, a: 5 }))).code, 121);
      await kept.insertOne({ _id: 2, a: 11 });
      assert.equal((await kept.indexes()).find((i) => i.name === "ttl")!.expireAfterSeconds, 7);
    }, { dataDir });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
