import assert from "node:assert/strict";
import { type Document, ObjectId } from "mongodb";
import { EJSON } from "bson";
import { BatchWriter } from "../../../src/db/batch/mod.ts";
import { type DevDb, startDevDb } from "../../../src/devdb/mod.ts";
import { tempDataDir, withDevDb } from "../../devdb/harness.ts";
import { waitFor } from "../../helpers/wait.ts";

const quickRetry = { initialDelayMs: 20, maxDelayMs: 200 };

function distinctIds(docs: Document[]): number {
  return new Set(docs.map((doc) => String(doc._id))).size;
}

Deno.test("the devdb stopped for 5 s mid-stream and restarted: nothing lost, nothing doubled", async () => {
  const dataDir = await tempDataDir();
  let restarted: DevDb | undefined;
  try {
    await withDevDb(
      async ({ server, db }) => {
        const events = db.collection("usage_events");
        const writer = new BatchWriter(events, {
          name: "usage_events",
          flushIntervalMs: 100,
          retry: quickRetry,
        });
        writer.start();
        const total = 3_000;
        let next = 0;
        // A steady stream, so that events arrive before, during and after the outage.
        const stream = async (count: number) => {
          for (const end = next + count; next < end; next++) {
            await writer.add({ i: next, at: new Date() });
            if (next % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 1));
          }
        };
        try {
          await stream(500);
          await server.stop();
          const outage = new Promise((resolve) => setTimeout(resolve, 5_000));
          await stream(1_500);
          await waitFor(() => writer.stats().failures > 0, { what: "a failed write during the outage" });
          assert.ok(writer.stats().buffered > 0);
          await outage;
          restarted = await startDevDb({ port: server.port, dataDir });
          await stream(total - next);
          await waitFor(() => writer.flush().then(() => true, () => false), {
            what: "a flush after the restart",
            timeoutMs: 20_000,
          });
          const docs = await events.find().toArray();
          assert.equal(docs.length, total);
          assert.equal(distinctIds(docs), total);
          assert.equal(new Set(docs.map((doc) => doc.i)).size, total);
          const stats = writer.stats();
          assert.equal(stats.flushed, total);
          assert.ok(
            stats.failures > 0 && stats.retries > 0,
            `failures ${stats.failures}, retries ${stats.retries}`,
          );
          assert.equal(stats.rejected, 0);
        } finally {
          await writer.close({ deadline: Date.now() + 2_000 });
        }
      },
      { dataDir },
      { serverSelectionTimeoutMS: 300 },
    );
  } finally {
    await restarted?.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a reply lost after the server wrote the batch: the retry counts duplicates on _id as written", async () => {
  await withDevDb(
    async ({ server, db }) => {
      const events = db.collection("events");
      const writer = new BatchWriter(events, { name: "events", retry: quickRetry });
      try {
        await events.countDocuments();
        server.setLatency(500);
        for (let i = 0; i < 50; i++) await writer.add({ i });
        await waitFor(() => server.stats().opcounters.insert >= 50, {
          what: "the batch to reach the server",
        });
        server.dropConnections();
        server.setLatency(0);
        await waitFor(() => writer.stats().flushed === 50, { what: "the retry", timeoutMs: 10_000 });
        const docs = await events.find().toArray();
        assert.equal(docs.length, 50);
        assert.equal(distinctIds(docs), 50);
        const stats = writer.stats();
        assert.equal(stats.duplicates, 50);
        assert.ok(stats.failures >= 1 && stats.retries >= 1);
      } finally {
        await writer.close({ deadline: Date.now() + 2_000 });
      }
    },
    {},
    { serverSelectionTimeoutMS: 1_000 },
  );
});

Deno.test("events already in the collection (a recovered spill) count as written, not doubled", async () => {
  await withDevDb(async ({ db }) => {
    const events = db.collection("events");
    const ids = Array.from({ length: 20 }, () => new ObjectId());
    await events.insertMany(ids.slice(0, 10).map((_id, i) => ({ _id, i })));
    const writer = new BatchWriter(events, { name: "events" });
    try {
      for (const [i, _id] of ids.entries()) await writer.add({ _id, i });
      await writer.flush();
      const docs = await events.find().sort({ i: 1 }).toArray();
      assert.equal(docs.length, 20);
      assert.deepEqual(docs.map((doc) => String(doc._id)), ids.map(String));
      assert.equal(writer.stats().flushed, 20);
      assert.equal(writer.stats().duplicates, 10);
      assert.equal(writer.stats().failures, 0);
    } finally {
      await writer.close({ deadline: Date.now() + 2_000 });
    }
  });
});

Deno.test("events refused for good (a unique index) are counted, logged and kept aside; the rest is written, no retry loop", async () => {
  const spillDir = await tempDataDir();
  try {
    await withDevDb(async ({ db }) => {
      const events = db.collection("events");
      await events.createIndex({ key: 1 }, { unique: true });
      await events.insertOne({ key: "taken" });
      const writer = new BatchWriter(events, { name: "events", spillDir, retry: quickRetry });
      try {
        const keys = ["k0", "k1", "taken", "k3", "k4", "taken", "k6"];
        for (const key of keys) await writer.add({ key });
        await writer.flush();
        assert.equal(await events.countDocuments(), 6);
        let stats = writer.stats();
        assert.equal(stats.flushed, 5);
        assert.equal(stats.rejected, 2);
        assert.equal(stats.failures, 0);
        assert.equal(stats.batches, 1);

        const files = [...Deno.readDirSync(spillDir)].map((entry) => entry.name);
        assert.equal(files.length, 1);
        assert.match(files[0], /^events-rejected-\d+-[0-9a-f]+\.jsonl$/);
        const lines = Deno.readTextFileSync(`${spillDir}/${files[0]}`).trim().split("\n")
          .map((line) => EJSON.parse(line));
        assert.deepEqual(lines.map((line) => [line.event.key, line.code]), [["taken", 11000], [
          "taken",
          11000,
        ]]);
        // The writer is not stuck on them: recovery ignores rejected files, and later events flow.
        assert.deepEqual(await writer.recoverSpill(), { files: 0, events: 0 });
        await writer.add({ key: "k7" });
        await writer.flush();
        stats = writer.stats();
        assert.equal(stats.batches, 2);
        assert.equal(stats.flushed, 6);
      } finally {
        await writer.close({ deadline: Date.now() + 2_000 });
      }
    });
  } finally {
    await Deno.remove(spillDir, { recursive: true });
  }
});

Deno.test("an event made unserializable after add() is refused, not retried forever; the rest is written", async () => {
  await withDevDb(async ({ db }) => {
    const events = db.collection("events");
    const writer = new BatchWriter(events, { name: "events", retry: quickRetry });
    try {
      const nested: Record<string, unknown> = { ok: true };
      await writer.add({ i: 0 });
      await writer.add({ i: 1, nested });
      await writer.add({ i: 2 });
      nested["bad\u0000key"] = 1; // the caller still holds the nested object
      await writer.flush();
      assert.deepEqual((await events.find().sort({ i: 1 }).toArray()).map((doc) => doc.i), [0, 2]);
      assert.equal(writer.stats().rejected, 1);
      assert.equal(writer.stats().buffered, 0);
    } finally {
      await writer.close({ deadline: Date.now() + 2_000 });
    }
  });
});
