import assert from "node:assert/strict";
import type { Document } from "mongodb";
import { type AnyDoc, withDevDb } from "./harness.ts";

const USERS = 50;
const seed = Array.from({ length: 1_000 }, (_, i) => ({
  _id: i,
  user: `u${i % USERS}`,
  day: i % 7,
  start: `${String(i % 24).padStart(2, "0")}:00`,
  ...(i % 3 === 0 ? { occurrence: `o${i}` } : {}),
}));

/** What explain("executionStats") says about a find: the plan's indexes and the documents examined. */
async function planOf(db: import("mongodb").Db, filter: Document) {
  const explained = await db.collection("slots").find(filter).explain("executionStats");
  const plan = explained.queryPlanner.winningPlan;
  const scans: Document[] = plan.stage === "COLLSCAN"
    ? []
    : plan.inputStage.stage === "OR"
    ? plan.inputStage.inputStages
    : [plan.inputStage];
  return { indexes: scans.map((s) => s.indexName), examined: explained.executionStats.totalDocsExamined };
}

/** The documents a filter matches, by brute force over the seed (the reference the devdb must agree with). */
function expected(test: (doc: (typeof seed)[number]) => boolean): number[] {
  return seed.filter(test).map((d) => d._id);
}

Deno.test("a compound index narrows equality on a prefix, $in on its first field, and $or branches", () =>
  withDevDb(async ({ db }) => {
    const slots = db.collection<AnyDoc>("slots");
    await slots.insertMany(seed);
    await slots.createIndex({ user: 1, day: 1, start: 1 }, { name: "user_day_start" });
    await slots.createIndex({ occurrence: 1 }, {
      name: "occurrence",
      unique: true,
      partialFilterExpression: { occurrence: { $exists: true } },
    });
    const ids = async (filter: Document) =>
      (await slots.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);

    const prefix = { user: "u3", day: 3 };
    assert.deepEqual(await ids(prefix), expected((d) => d.user === "u3" && d.day === 3));
    assert.deepEqual(await planOf(db, prefix), { indexes: ["user_day_start"], examined: 3 });

    const ranged = { user: "u3", start: { $gte: "10:00" } };
    assert.deepEqual(await ids(ranged), expected((d) => d.user === "u3" && d.start >= "10:00"));
    assert.deepEqual(await planOf(db, ranged), { indexes: ["user_day_start"], examined: 20 });

    const listed = { user: { $in: ["u1", "u2"] }, day: { $lt: 3 } };
    assert.deepEqual(await ids(listed), expected((d) => (d.user === "u1" || d.user === "u2") && d.day < 3));
    assert.deepEqual(await planOf(db, listed), { indexes: ["user_day_start"], examined: 40 });

    const either = { $or: [{ user: "u1" }, { occurrence: { $in: ["o3", "o6", "o7"] } }] };
    assert.deepEqual(
      await ids(either),
      expected((d) => d.user === "u1" || ["o3", "o6"].includes(d.occurrence!)),
    );
    assert.deepEqual((await planOf(db, either)).indexes.sort(), ["occurrence", "user_day_start"]);

    // A partial index serves only filters that imply its partial filter; a field past a gap in the prefix
    // (start without day) narrows nothing beyond the prefix, and a filter on neither scans.
    assert.deepEqual(await planOf(db, { occurrence: "o9" }), { indexes: ["occurrence"], examined: 1 });
    assert.deepEqual((await planOf(db, { occurrence: { $ne: "o9" } })).indexes, []);
    assert.deepEqual(await planOf(db, { day: 3 }), { indexes: [], examined: 1_000 });
  }));

Deno.test("narrowed reads agree with scans after updates and deletes move documents between keys", () =>
  withDevDb(async ({ db }) => {
    const slots = db.collection<AnyDoc>("slots");
    await slots.insertMany(seed);
    await slots.createIndex({ user: 1, day: 1 });
    await slots.updateMany({ user: "u4", day: 4 }, { $set: { day: 5 } });
    await slots.deleteMany({ user: "u5", day: 5 });
    const found = (await slots.find({ user: { $in: ["u4", "u5"] }, day: 5 }).sort({ _id: 1 }).toArray())
      .map((d) => d._id);
    const reference = expected((d) => d.user === "u4" && (d.day === 4 || d.day === 5));
    assert.deepEqual(found, reference);
    assert.equal(await slots.countDocuments({ user: "u4", day: 4 }), 0);
  }));

Deno.test("ranges and sorts scan an index in order, ties in record order, as mongod's plans do", () =>
  withDevDb(async ({ db }) => {
    const slots = db.collection<AnyDoc>("slots");
    await slots.insertMany(seed);
    await slots.createIndex({ user: 1, day: 1, start: 1 }, { name: "user_day_start" });
    await slots.createIndex({ day: 1, start: -1 }, { name: "day_start" });
    const order = (a: (typeof seed)[number], b: (typeof seed)[number]) =>
      a.day - b.day || (a.start < b.start ? 1 : a.start > b.start ? -1 : 0) || a._id - b._id;

    const ranged = { user: { $gte: "u40" } };
    const inRange = expected((d) => d.user >= "u40");
    assert.deepEqual((await slots.find(ranged).sort({ _id: 1 }).toArray()).map((d) => d._id), inRange);
    assert.deepEqual(await planOf(db, ranged), { indexes: ["user_day_start"], examined: inRange.length });

    const sorted = await slots.find({ day: 3 }).sort({ start: -1 }).toArray();
    assert.deepEqual(sorted.map((d) => d._id), seed.filter((d) => d.day === 3).sort(order).map((d) => d._id));
    const explained = await slots.find({ day: 3 }).sort({ start: -1 }).explain("executionStats");
    assert.equal(explained.queryPlanner.winningPlan.inputStage.indexName, "day_start");

    const reversed = await slots.find({}).sort({ day: -1, start: 1 }).limit(7).toArray();
    assert.deepEqual(
      reversed.map((d) => d._id),
      [...seed].sort(order).reverse().slice(0, 7).map((d) => d._id),
    );
    const window = await slots.find({ day: 2, start: { $gt: "05:00", $lte: "09:00" } }).sort({ start: 1 })
      .toArray();
    // A backward scan meets ties backwards too (mongod's record-id order, reversed).
    const inWindow = seed.filter((d) => d.day === 2 && d.start > "05:00" && d.start <= "09:00")
      .sort(order).reverse();
    assert.deepEqual(window.map((d) => d._id), inWindow.map((d) => d._id));

    // A later write lands in index order too.
    await slots.insertOne({ _id: 5_000, user: "u0", day: 3, start: "99:99" });
    assert.equal((await slots.find({ day: 3 }).sort({ start: -1 }).limit(1).toArray())[0]._id, 5_000);
  }));
