import assert from "node:assert/strict";
import { type Document, ObjectId } from "mongodb";
import { waitFor } from "../helpers/wait.ts";
import { type AnyDoc, withDevDb } from "./harness.ts";

Deno.test("insert, find, update and delete through the driver", () =>
  withDevDb(async ({ db }) => {
    const notes = db.collection("notes");
    const { insertedId } = await notes.insertOne({ text: "hello", n: 1 });
    assert.ok(insertedId instanceof ObjectId);
    const many = await notes.insertMany([{ text: "b", n: 2 }, { text: "c", n: 3, tags: ["x", "y"] }]);
    assert.equal(many.insertedCount, 2);

    const found = await notes.findOne({ _id: insertedId });
    assert.deepEqual(found, { _id: insertedId, text: "hello", n: 1 });
    assert.deepEqual(
      await notes.find({ n: { $gte: 2 } }, { projection: { _id: 0, n: 1 } }).sort({ n: -1 }).toArray(),
      [{ n: 3 }, { n: 2 }],
    );
    assert.deepEqual((await notes.find({ tags: "y" }).toArray()).map((doc) => doc.text), ["c"]);
    assert.deepEqual((await notes.find({}, { skip: 1, limit: 1 }).toArray()).map((doc) => doc.text), ["b"]);

    const updated = await notes.updateOne({ text: "hello" }, {
      $inc: { n: 10 },
      $set: { "meta.seen": true },
    });
    assert.equal(updated.matchedCount, 1);
    assert.equal(updated.modifiedCount, 1);
    assert.deepEqual(await notes.findOne({ _id: insertedId }, { projection: { _id: 0 } }), {
      text: "hello",
      n: 11,
      meta: { seen: true },
    });
    const noop = await notes.updateOne({ text: "hello" }, { $set: { n: 11 } });
    assert.equal(noop.modifiedCount, 0);

    const multi = await notes.updateMany({ n: { $lt: 5 } }, { $set: { small: true } });
    assert.equal(multi.modifiedCount, 2);
    await notes.replaceOne({ text: "b" }, { text: "B", n: 2 });
    assert.deepEqual(await notes.findOne({ n: 2 }, { projection: { _id: 0 } }), { text: "B", n: 2 });

    assert.equal((await notes.deleteOne({ text: "B" })).deletedCount, 1);
    assert.equal((await notes.deleteMany({})).deletedCount, 2);
    assert.equal(await notes.countDocuments(), 0);
  }));

Deno.test("stored documents share nothing with requests or replies", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("isolation");
    const doc = { _id: 1, nested: { list: [1, 2] } };
    await coll.insertOne(doc);
    doc.nested.list.push(3);
    const first = await coll.findOne({ _id: 1 });
    first!.nested.list.push(4);
    assert.deepEqual((await coll.findOne({ _id: 1 }))!.nested.list, [1, 2]);
  }));

Deno.test("upserts build the document from the filter and $setOnInsert", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("upserts");
    const result = await coll.updateOne(
      { email: "a@example.com", plan: { $eq: "free" } },
      { $set: { visits: 1 }, $setOnInsert: { createdBy: "upsert" } },
      { upsert: true },
    );
    assert.equal(result.upsertedCount, 1);
    assert.ok(result.upsertedId instanceof ObjectId);
    assert.deepEqual(await coll.findOne({}, { projection: { _id: 0 } }), {
      email: "a@example.com",
      plan: "free",
      visits: 1,
      createdBy: "upsert",
    });
    const again = await coll.updateOne(
      { email: "a@example.com" },
      { $inc: { visits: 1 }, $setOnInsert: { createdBy: "second" } },
      { upsert: true },
    );
    assert.equal(again.upsertedCount, 0);
    assert.equal(again.modifiedCount, 1);
    assert.deepEqual(await coll.findOne({}, { projection: { _id: 0, visits: 1, createdBy: 1 } }), {
      visits: 2,
      createdBy: "upsert",
    });
    const byId = db.collection<AnyDoc>("upserts");
    await byId.replaceOne({ _id: "fixed" }, { v: 1 }, { upsert: true });
    assert.deepEqual(await byId.findOne({ _id: "fixed" }), { _id: "fixed", v: 1 });
    // Update operators with an `_id` in the filter take their `_id` from it, as mongod does.
    const counted = await byId.updateOne({ _id: "counter", kind: "x" }, { $inc: { n: 1 } }, { upsert: true });
    assert.equal(counted.upsertedId, "counter");
    await byId.updateOne({ _id: "counter" }, { $inc: { n: 1 } }, { upsert: true });
    assert.deepEqual(await byId.findOne({ _id: "counter" }), { _id: "counter", kind: "x", n: 2 });
  }));

Deno.test("arrayFilters and the positional operator update array elements", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("arrays");
    await coll.insertOne({ _id: 1, grades: [80, 95, 100], items: [{ k: "a", v: 1 }, { k: "b", v: 2 }] });
    await coll.updateOne({ _id: 1 }, { $set: { "grades.$[high]": 100 } }, {
      arrayFilters: [{ high: { $gte: 90 } }],
    });
    await coll.updateOne({ _id: 1, "items.k": "b" }, { $inc: { "items.$.v": 5 } });
    assert.deepEqual(await coll.findOne({ _id: 1 }), {
      _id: 1,
      grades: [80, 100, 100],
      items: [{ k: "a", v: 1 }, { k: "b", v: 7 }],
    });
  }));

Deno.test("findAndModify returns the document before or after, upserts and removes", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("fam");
    await coll.insertMany([{ k: 1, v: "a" }, { k: 2, v: "b" }]);
    const before = await coll.findOneAndUpdate({ k: 1 }, { $set: { v: "A" } });
    assert.equal(before!.v, "a");
    const after = await coll.findOneAndUpdate({ k: 2 }, { $set: { v: "B" } }, {
      returnDocument: "after",
      projection: { _id: 0 },
    });
    assert.deepEqual(after, { k: 2, v: "B" });
    const sorted = await coll.findOneAndUpdate({}, { $set: { first: true } }, {
      sort: { k: -1 },
      returnDocument: "after",
    });
    assert.equal(sorted!.k, 2);
    const upserted = await coll.findOneAndUpdate({ k: 3 }, { $set: { v: "c" } }, {
      upsert: true,
      returnDocument: "after",
      includeResultMetadata: true,
    });
    assert.equal(upserted.lastErrorObject?.updatedExisting, false);
    assert.ok(upserted.lastErrorObject?.upserted instanceof ObjectId);
    assert.equal(upserted.value!.v, "c");
    const removed = await coll.findOneAndDelete({ k: 1 });
    assert.equal(removed!.v, "A");
    assert.equal(await coll.countDocuments(), 2);
    assert.equal(await coll.findOneAndUpdate({ k: 99 }, { $set: { v: 0 } }), null);
  }));

Deno.test("ordered batches stop at the first error, unordered ones go on", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("batches");
    await assert.rejects(
      coll.insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }]),
      (error: { code?: number }) => error.code === 11000,
    );
    assert.equal(await coll.countDocuments(), 1);
    await assert.rejects(
      coll.insertMany([{ _id: 3 }, { _id: 1 }, { _id: 4 }], { ordered: false }),
      (error: { writeErrors?: unknown[] }) =>
        Array.isArray(error.writeErrors) && error.writeErrors.length === 1,
    );
    assert.deepEqual((await coll.find().toArray()).map((doc) => doc._id), [1, 3, 4]);
  }));

Deno.test("unacknowledged writes (w: 0) are applied without a reply", () =>
  withDevDb(async ({ db, server }) => {
    const coll = db.collection("fire_and_forget", { writeConcern: { w: 0 } });
    await coll.insertOne({ quiet: true });
    await waitFor(() => server.stats().opcounters.insert >= 1, { timeoutMs: 5_000, what: "the w:0 insert" });
    assert.equal(await db.collection("fire_and_forget").countDocuments({ quiet: true }), 1);
  }));

Deno.test("update operators: push, addToSet, pull, unset, rename, min, max, mul, currentDate", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("operators");
    await coll.insertOne({ _id: 1, list: [3, 1], set: ["a"], old: "x", gone: true, lo: 5, hi: 5, m: 2 });
    // Typed as plain documents: the driver's UpdateFilter types reject `$each` on an untyped schema.
    const first: Document = {
      $push: { list: { $each: [2], $sort: 1 } },
      $addToSet: { set: { $each: ["a", "b"] } },
      $unset: { gone: "" },
      $min: { lo: 1 },
      $max: { hi: 9 },
      $mul: { m: 3 },
      $currentDate: { touched: true },
    };
    await coll.updateOne({ _id: 1 }, first);
    const second: Document = { $rename: { old: "renamed" }, $pull: { list: { $gte: 3 } } };
    await coll.updateOne({ _id: 1 }, second);
    const doc = await coll.findOne({ _id: 1 });
    assert.ok(doc!.touched instanceof Date);
    delete doc!.touched;
    assert.deepEqual(doc, { _id: 1, list: [1, 2], set: ["a", "b"], lo: 1, hi: 9, m: 6, renamed: "x" });
    const immutable = await coll.updateOne({ _id: 1 }, { $set: { _id: 2 } } as never).catch((e) => e);
    assert.equal(immutable.code, 66);
    const unknown = await coll.updateOne({ _id: 1 }, { $frob: { a: 1 } } as never).catch((e) => e);
    assert.equal(unknown.code, 9);
    const pipeline = await coll.updateOne({ _id: 1 }, [{ $set: { total: { $add: ["$lo", "$hi"] } } }]);
    assert.equal(pipeline.modifiedCount, 1);
    assert.equal((await coll.findOne({ _id: 1 }))!.total, 10);
  }));
