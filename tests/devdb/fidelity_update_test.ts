import assert from "node:assert/strict";
import { MongoServerError } from "mongodb";
import { type AnyDoc, withDevDb } from "./harness.ts";

// A write error (in `writeErrors`) carries code and errmsg as mongod sends them, no codeName; command errors
// (findAndModify) carry the codeName too.

/** The error a driver call fails with; fails the test when the call succeeds. */
async function failure(call: Promise<unknown>): Promise<MongoServerError> {
  const error = await call.then(() => undefined, (e) => e);
  assert.ok(error instanceof MongoServerError, `expected a server error, got ${error}`);
  return error;
}

Deno.test("$inc on a string or null is TypeMismatch (14) and changes nothing", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("inc");
    await coll.insertMany([{ _id: 1, a: "x" }, { _id: 2, a: null }]);
    const onString = await failure(coll.updateOne({ _id: 1 }, { $inc: { a: 1 } }));
    assert.equal(onString.code, 14);
    assert.equal(
      onString.message,
      "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    );
    const onNull = await failure(coll.updateOne({ _id: 2 }, { $inc: { a: 1 } }));
    assert.equal(onNull.code, 14);
    assert.match(onNull.message, /non-numeric type null$/);
    const byString = await failure(coll.updateOne({ _id: 1 }, { $inc: { b: "1" } } as never));
    assert.equal(byString.code, 14);
    assert.deepEqual(await coll.find().sort({ _id: 1 }).toArray(), [{ _id: 1, a: "x" }, { _id: 2, a: null }]);
  }));

Deno.test("$push on a non-array is BadValue (2)", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("push");
    await coll.insertOne({ _id: 1, a: 5 });
    const error = await failure(coll.updateOne({ _id: 1 }, { $push: { a: 1 } } as never));
    assert.equal(error.code, 2);
    assert.equal(error.message, "The field 'a' must be an array but is of type int in document {_id: 1}");
    assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1, a: 5 });
  }));

Deno.test("an arrayFilter that no update path uses is FailedToParse (9), even when nothing matches", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("filters");
    await coll.insertOne({ _id: 1, a: [1, 2, 3] });
    const unused = await failure(
      coll.updateOne({ _id: 1 }, { $set: { "a.$[x]": 0 } }, { arrayFilters: [{ x: { $gt: 1 } }, { y: 1 }] }),
    );
    assert.equal(unused.code, 9);
    assert.match(unused.message, /^The array filter for identifier 'y' was not used in the update /);
    const noMatch = await failure(
      coll.updateOne({ _id: 99 }, { $set: { a: 0 } }, { arrayFilters: [{ y: 1 }] }),
    );
    assert.equal(noMatch.code, 9);
    const missing = await failure(coll.updateOne({ _id: 1 }, { $set: { "a.$[z]": 0 } }));
    assert.equal(missing.code, 2);
    assert.equal(missing.message, "No array filter found for identifier 'z' in path 'a.$[z]'");
    assert.deepEqual((await coll.findOne({ _id: 1 }))!.a, [1, 2, 3]);
    await coll.updateOne({ _id: 1 }, { $set: { "a.$[x]": 0 } }, { arrayFilters: [{ x: { $gt: 1 } }] });
    assert.deepEqual((await coll.findOne({ _id: 1 }))!.a, [1, 0, 0]);
  }));

Deno.test("conflicting update paths are ConflictingUpdateOperators (40)", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection<AnyDoc>("conflicts");
    await coll.insertOne({ _id: 1, a: { b: 1 } });
    const error = await failure(coll.updateOne({ _id: 1 }, { $set: { a: 1 }, $inc: { "a.b": 1 } }));
    assert.equal(error.code, 40);
    assert.equal(error.message, "Updating the path 'a.b' would create a conflict at 'a'");
    const upsert = await failure(
      coll.updateOne({ _id: 2 }, { $set: { c: 1 }, $setOnInsert: { c: 2 } }, { upsert: true }),
    );
    assert.equal(upsert.code, 40);
    const viaFindAndModify = await failure(
      coll.findOneAndUpdate({ _id: 1 }, { $set: { x: 1 }, $unset: { x: "" } }),
    );
    assert.equal(viaFindAndModify.code, 40);
    assert.equal(viaFindAndModify.codeName, "ConflictingUpdateOperators");
    assert.deepEqual(await coll.find().toArray(), [{ _id: 1, a: { b: 1 } }]);
  }));
