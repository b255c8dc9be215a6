import assert from "node:assert/strict";
import { UUID } from "bson";
import { startDevDb } from "../../src/devdb/mod.ts";
import { rawCommand } from "./raw_command.ts";

Deno.test("a write retried with the same lsid and txnNumber returns the first reply and is applied once", async () => {
  const devdb = await startDevDb({ replicaSet: { name: "rs0", members: 3 } });
  const primary = devdb.members[0].port;
  const lsid = { id: new UUID() };
  const update = (txnNumber: number) =>
    rawCommand(primary, {
      update: "counters",
      updates: [{ q: { _id: "calls" }, u: { $inc: { n: 1 } }, upsert: true }],
      lsid,
      txnNumber,
      $db: "test",
    });
  try {
    const first = await update(1);
    assert.equal(first.ok, 1);
    assert.equal(first.upserted?.length, 1);
    // The retry lands on another member after an election in real life; the record is shared.
    assert.deepEqual(await update(1), first);
    const read = await rawCommand(primary, { find: "counters", filter: { _id: "calls" }, $db: "test" });
    assert.equal(read.cursor.firstBatch[0].n, 1, "applied once");
    assert.equal((await update(2)).nModified, 1, "the next txnNumber is a new write");
    const stale = await update(1);
    assert.equal(stale.code, 225);
    assert.equal(stale.codeName, "TransactionTooOld");
    const after = await rawCommand(primary, { find: "counters", filter: { _id: "calls" }, $db: "test" });
    assert.equal(after.cursor.firstBatch[0].n, 2);
  } finally {
    await devdb.stop();
  }
});

Deno.test("a standalone still refuses txnNumber, as mongod does", async () => {
  const devdb = await startDevDb();
  try {
    const reply = await rawCommand(devdb.port, {
      insert: "c",
      documents: [{ a: 1 }],
      lsid: { id: new UUID() },
      txnNumber: 1,
      $db: "test",
    });
    assert.equal(reply.code, 20);
    assert.match(reply.errmsg, /only allowed on a replica set member or mongos/);
  } finally {
    await devdb.stop();
  }
});
