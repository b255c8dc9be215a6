import assert from "node:assert/strict";
import { type Document, Double, Int32, Long, ObjectId } from "bson";
import { BatchWriter } from "../../../src/db/batch/mod.ts";
import { listSpillFiles, readSpillFile, writeSpillFile } from "../../../src/db/batch/spill.ts";
import { type DevDb, startDevDb } from "../../../src/devdb/mod.ts";
import { tempDataDir, withDevDb } from "../../devdb/harness.ts";
import { waitFor } from "../../helpers/wait.ts";

const quickRetry = { initialDelayMs: 20, maxDelayMs: 100 };

function distinctIds(docs: Document[]): number {
  return new Set(docs.map((doc) => String(doc._id))).size;
}

async function withSpillDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDataDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a deadline too short (database down): the buffer and the overflow are spilled; a new writer writes them once", async () => {
  await withSpillDir(async (spillDir) => {
    let restarted: DevDb | undefined;
    try {
      await withDevDb(
        async ({ server, client, db }) => {
          const events = db.collection("events");
          await events.countDocuments();
          await server.stop();
          const first = new BatchWriter(events, {
            name: "events",
            spillDir,
            maxBatch: 10,
            maxBuffer: 30,
            retry: quickRetry,
          });
          for (let i = 0; i < 30; i++) await first.add({ i });
          // Memory is full: the 31st goes to a spill file at once, the 30 others at the deadline.
          await first.add({ i: 30 });
          await first.close({ deadline: Date.now() + 200 });
          assert.equal(first.stats().spilled, 31);
          const { files } = await listSpillFiles(spillDir, "events");
          assert.equal(files.length, 2);
          const spilled = (await Promise.all(files.map((file) => readSpillFile(file.path)))).flat();
          assert.deepEqual(spilled.map((doc) => Number(doc.i)).sort((a, b) => a - b), [...Array(31).keys()]);

          restarted = await startDevDb({ port: server.port });
          const second = new BatchWriter(client.db("test").collection("events"), {
            name: "events",
            spillDir,
          });
          try {
            assert.deepEqual(await second.recoverSpill(), { files: 2, events: 31 });
            const docs = await events.find().toArray();
            assert.equal(docs.length, 31);
            assert.equal(distinctIds(docs), 31);
            assert.equal(second.stats().recovered, 31);
            assert.deepEqual((await listSpillFiles(spillDir, "events")).files, []);
            assert.deepEqual(await second.recoverSpill(), { files: 0, events: 0 });
            assert.equal(await events.countDocuments(), 31);
          } finally {
            await second.close({ deadline: Date.now() + 2_000 });
          }
        },
        {},
        { serverSelectionTimeoutMS: 300 },
      );
    } finally {
      await restarted?.stop();
    }
  });
});

Deno.test("the batch in flight at the deadline is spilled too, and recovering it does not double it", async () => {
  await withSpillDir(async (spillDir) => {
    await withDevDb(async ({ server, db }) => {
      const events = db.collection("events");
      await events.countDocuments();
      server.setLatency(1_000);
      const first = new BatchWriter(events, { name: "events", spillDir });
      for (let i = 0; i < 60; i++) await first.add({ i });
      // The first 50 are written on the server, but their reply is slower than the deadline.
      await waitFor(() => server.stats().opcounters.insert >= 50, { what: "the batch to reach the server" });
      await first.close({ deadline: Date.now() + 100 });
      assert.equal(first.stats().spilled, 60);
      assert.equal(first.stats().flushed, 0);
      server.setLatency(0);

      const second = new BatchWriter(events, { name: "events", spillDir });
      try {
        assert.deepEqual(await second.recoverSpill(), { files: 1, events: 60 });
        const docs = await events.find().toArray();
        assert.equal(docs.length, 60);
        assert.equal(distinctIds(docs), 60);
        assert.equal(second.stats().duplicates, 50);
      } finally {
        await second.close({ deadline: Date.now() + 2_000 });
      }
    });
  });
});

Deno.test("close() with time enough writes everything and leaves no spill file", async () => {
  await withSpillDir(async (spillDir) => {
    await withDevDb(async ({ db }) => {
      const writer = new BatchWriter(db.collection("events"), { name: "events", spillDir });
      for (let i = 0; i < 20; i++) await writer.add({ i });
      await writer.close({ deadline: Date.now() + 5_000 });
      assert.equal(await db.collection("events").countDocuments(), 20);
      assert.deepEqual([...Deno.readDirSync(spillDir)], []);
    });
  });
});

Deno.test("without a spillDir, close() past its deadline says how many events were lost", async () => {
  await withDevDb(
    async ({ server, db }) => {
      await db.collection("events").countDocuments();
      await server.stop();
      const writer = new BatchWriter(db.collection("events"), { name: "events", retry: quickRetry });
      for (let i = 0; i < 5; i++) await writer.add({ i });
      await assert.rejects(writer.close({ deadline: Date.now() + 50 }), /lost 5 events at shutdown/);
    },
    {},
    { serverSelectionTimeoutMS: 200 },
  );
});

Deno.test("spill files keep BSON types exactly; listing skips temporary, rejected and other writers' files", async () => {
  await withSpillDir(async (dir) => {
    const event = {
      _id: new ObjectId(),
      at: new Date("2025-11-09T10:00:00.123Z"),
      count: new Int32(3),
      ratio: new Double(2),
      big: Long.fromString("9007199254740993"),
      nested: { tags: ["a", "b"], none: null, yes: true },
    };
    const older = await writeSpillFile(dir, "events", [event], 1_000);
    const newer = await writeSpillFile(dir, "events", [{ n: 1 }, { n: 2 }], 2_000);
    await writeSpillFile(dir, "events_other", [{ n: 3 }], 500);
    await Deno.writeTextFile(`${dir}/events-1500-abcd.jsonl.tmp`, '{"n":');
    await Deno.writeTextFile(`${dir}/events-rejected-1500-abcd.jsonl`, "{}\n");

    const listing = await listSpillFiles(dir, "events");
    assert.deepEqual(listing.files.map((file) => file.path), [older, newer]);
    assert.deepEqual(listing.incomplete, [`${dir}/events-1500-abcd.jsonl.tmp`]);
    assert.deepEqual(await readSpillFile(older), [event]);
    assert.deepEqual(await readSpillFile(newer), [{ n: new Int32(1) }, { n: new Int32(2) }]);
    assert.deepEqual(await listSpillFiles(`${dir}/missing`, "events"), { files: [], incomplete: [] });

    await Deno.writeTextFile(`${dir}/events-3000-abcd.jsonl`, '{"n": {"$numberInt": "1"}}\nnot json\n');
    await assert.rejects(readSpillFile(`${dir}/events-3000-abcd.jsonl`), /events-3000-abcd\.jsonl:2/);
  });
});

Deno.test("a spill file that cannot be read is left in place; the others are recovered", async () => {
  await withSpillDir(async (spillDir) => {
    await withDevDb(async ({ db }) => {
      await writeSpillFile(spillDir, "events", [{ n: 1 }], 1_000);
      await Deno.writeTextFile(`${spillDir}/events-2000-abcd.jsonl`, "garbage\n");
      const writer = new BatchWriter(db.collection("events"), { name: "events", spillDir });
      try {
        assert.deepEqual(await writer.recoverSpill(), { files: 1, events: 1 });
        assert.equal(await db.collection("events").countDocuments(), 1);
        assert.deepEqual([...Deno.readDirSync(spillDir)].map((entry) => entry.name), [
          "events-2000-abcd.jsonl",
        ]);
      } finally {
        await writer.close({ deadline: Date.now() + 2_000 });
      }
    });
  });
});
