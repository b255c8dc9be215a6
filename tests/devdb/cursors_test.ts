import assert from "node:assert/strict";
import { waitFor } from "../helpers/wait.ts";
import { withDevDb } from "./harness.ts";

Deno.test("a cursor returns every document across several getMore batches", () =>
  withDevDb(async ({ db, server }) => {
    const coll = db.collection("many");
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const before = server.stats().opcounters.getmore;
    const seen: number[] = [];
    for await (const doc of coll.find({}, { batchSize: 40 }).sort({ i: -1 })) seen.push(doc.i);
    assert.deepEqual(seen, Array.from({ length: 250 }, (_, i) => 249 - i));
    // 40 in the first batch, then ceil(210 / 40) = 6 getMores.
    assert.equal(server.stats().opcounters.getmore - before, 6);
  }));

Deno.test("the default first batch is 101 documents and getMore returns the rest", () =>
  withDevDb(async ({ db }) => {
    const coll = db.collection("default_batches");
    await coll.insertMany(Array.from({ length: 150 }, (_, i) => ({ i })));
    const reply = await db.command({ find: "default_batches" });
    assert.equal(reply.cursor.firstBatch.length, 101);
    const more = await db.command({ getMore: reply.cursor.id, collection: "default_batches" });
    assert.equal(more.cursor.nextBatch.length, 49);
    assert.equal(Number(more.cursor.id), 0);
  }));

Deno.test("killCursors closes a cursor and getMore on it is CursorNotFound", () =>
  withDevDb(async ({ db }) => {
    await db.collection("kill").insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    const reply = await db.command({ find: "kill", batchSize: 2 });
    const id = reply.cursor.id;
    assert.notEqual(Number(id), 0);
    const killed = await db.command({ killCursors: "kill", cursors: [id] });
    assert.equal(killed.cursorsKilled.length, 1);
    const error = await db.command({ getMore: id, collection: "kill" }).catch((e) => e);
    assert.equal(error.code, 43);
    assert.equal(error.codeName, "CursorNotFound");
  }));

Deno.test("singleBatch and limit close the cursor after the first batch", () =>
  withDevDb(async ({ db }) => {
    await db.collection("single").insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    const reply = await db.command({ find: "single", batchSize: 3, singleBatch: true });
    assert.equal(reply.cursor.firstBatch.length, 3);
    assert.equal(Number(reply.cursor.id), 0);
    assert.equal((await db.collection("single").find().limit(4).toArray()).length, 4);
  }));

Deno.test("idle cursors are reaped after the idle timeout", () =>
  withDevDb(async ({ db }) => {
    await db.collection("idle").insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    const reply = await db.command({ find: "idle", batchSize: 2 });
    const admin = db.admin();
    await waitFor(async () => {
      const { metrics } = await admin.command({ serverStatus: 1 });
      return Number(metrics.cursor.timedOut) === 1 && Number(metrics.cursor.open.total) === 0;
    }, { timeoutMs: 5_000, what: "the cursor to be reaped" });
    const error = await db.command({ getMore: reply.cursor.id, collection: "idle" }).catch((e) => e);
    assert.equal(error.codeName, "CursorNotFound");
  }, { cursorIdleTimeoutMs: 100 }));
