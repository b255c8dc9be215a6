import assert from "node:assert/strict";
import { type CommandStartedEvent, type Document, ObjectId } from "mongodb";
import { BatchWriter, WriterClosedError, WriterFullError } from "../../../src/db/batch/mod.ts";
import { listSpillFiles } from "../../../src/db/batch/spill.ts";
import { type DevDb, startDevDb } from "../../../src/devdb/mod.ts";
import { tempDataDir, withDevDb } from "../../devdb/harness.ts";
import { waitFor } from "../../helpers/wait.ts";

const quickRetry = { initialDelayMs: 20, maxDelayMs: 100 };

function event(i: number): { i: number; kind: string; at: Date } {
  return { i, kind: "test", at: new Date() };
}

function distinctIds(docs: Document[]): number {
  return new Set(docs.map((doc) => String(doc._id))).size;
}

Deno.test("1000 events are stored exactly once, in 20 insert commands of 50", async () => {
  await withDevDb(
    async ({ client, db }) => {
      const inserts: number[] = [];
      const onCommand = (e: CommandStartedEvent) => {
        if (e.commandName === "insert") inserts.push((e.command.documents as unknown[]).length);
      };
      client.on("commandStarted", onCommand);
      const writer = new BatchWriter(db.collection("events"), { name: "events", retry: quickRetry });
      try {
        for (let i = 0; i < 1000; i++) await writer.add(event(i));
        await writer.flush();
        const docs = await db.collection("events").find().toArray();
        assert.equal(docs.length, 1000);
        assert.equal(distinctIds(docs), 1000);
        assert.deepEqual(new Set(docs.map((d) => d.i)).size, 1000);
        assert.equal(inserts.length, 20);
        assert.ok(inserts.every((n) => n === 50), `batch sizes ${inserts}`);
        const stats = writer.stats();
        assert.equal(stats.flushed, 1000);
        assert.equal(stats.batches, 20);
        assert.equal(stats.buffered, 0);
        assert.equal(stats.failures, 0);
        assert.ok(stats.lastFlushMs !== undefined && stats.flushDurationMs.count === 20);
      } finally {
        client.off("commandStarted", onCommand);
        await writer.close({ deadline: Date.now() + 5_000 });
      }
    },
    {},
    { monitorCommands: true },
  );
});

Deno.test("add() resolves before anything is written; a full batch is written at once, without the timer", async () => {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter(db.collection("events"), { name: "events", maxBatch: 10 });
    try {
      for (let i = 0; i < 9; i++) await writer.add(event(i));
      assert.equal(writer.stats().buffered, 9);
      assert.equal(writer.stats().batches, 0);
      await writer.add(event(9));
      await waitFor(async () => await db.collection("events").countDocuments() === 10, {
        what: "the full batch to be written",
      });
      assert.equal(writer.stats().batches, 1);
    } finally {
      await writer.close({ deadline: Date.now() + 5_000 });
    }
  });
});

Deno.test("the flush interval writes a partial batch", async () => {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter(db.collection("events"), { name: "events", flushIntervalMs: 50 });
    try {
      writer.start();
      for (let i = 0; i < 3; i++) await writer.add(event(i));
      assert.equal(writer.stats().buffered, 3);
      await waitFor(async () => await db.collection("events").countDocuments() === 3, {
        what: "the interval to write 3 events",
      });
      await writer.add(event(3));
      await waitFor(async () => await db.collection("events").countDocuments() === 4, {
        what: "the next interval to write the 4th event",
      });
      assert.equal(writer.stats().batches, 2);
    } finally {
      await writer.close({ deadline: Date.now() + 5_000 });
    }
  });
});

Deno.test("a full buffer overflows to disk without waiting; past the disk cap add() is refused; what was taken is written once", async () => {
  const spillDir = await tempDataDir();
  try {
    await withDevDb(
      async ({ server, db }) => {
        const events = db.collection("events");
        const writer = new BatchWriter(events, {
          name: "events",
          maxBatch: 5,
          maxBuffer: 10,
          maxSpillBytes: 2_000,
          spillDir,
          retry: quickRetry,
        });
        let restarted: DevDb | undefined;
        try {
          await events.countDocuments();
          await server.stop();
          const taken: number[] = [];
          let refused = 0;
          // Each add() settles while the database is still down: nothing waits for it.
          for (let i = 0; i < 60; i++) {
            await writer.add(event(i)).then(() => taken.push(i), (err) => {
              assert.ok(err instanceof WriterFullError, String(err));
              refused++;
            });
          }
          const stats = writer.stats();
          assert.equal(stats.buffered, 10);
          assert.ok(stats.spilled > 0 && refused > 0, `spilled ${stats.spilled}, refused ${refused}`);
          assert.equal(stats.refused, refused);
          assert.equal(taken.length, 10 + stats.spilled);
          assert.ok(stats.spillBytes <= 2_000, `${stats.spillBytes} bytes spilled`);
          restarted = await startDevDb({ port: server.port });
          // Once a write goes through, the writer reads its spill files back by itself.
          await waitFor(async () => (await events.countDocuments().catch(() => -1)) === taken.length, {
            what: "every taken event written",
            timeoutMs: 15_000,
          });
          await waitFor(() => writer.stats().spillBytes === 0, { what: "the spill files to be removed" });
          const docs = await events.find().toArray();
          assert.equal(distinctIds(docs), taken.length);
          assert.deepEqual(docs.map((doc) => doc.i).sort((a, b) => a - b), taken);
          assert.deepEqual((await listSpillFiles(spillDir, "events")).files, []);
          // With room again, events are taken in memory.
          await writer.add(event(100));
          assert.equal(writer.stats().refused, refused);
        } finally {
          await writer.close({ deadline: Date.now() + 2_000 });
          await restarted?.stop();
        }
      },
      {},
      { serverSelectionTimeoutMS: 300 },
    );
  } finally {
    await Deno.remove(spillDir, { recursive: true });
  }
});

Deno.test("without a spill directory a full writer refuses at once instead of waiting", async () => {
  await withDevDb(
    async ({ server, db }) => {
      const writer = new BatchWriter(db.collection("events"), { name: "events", maxBatch: 2, maxBuffer: 3 });
      try {
        await server.stop();
        for (let i = 0; i < 3; i++) await writer.add(event(i));
        await assert.rejects(writer.add(event(3)), WriterFullError);
        assert.equal(writer.stats().refused, 1);
      } finally {
        await writer.close({ deadline: Date.now() + 200 }).catch(() => {});
      }
    },
    {},
    { serverSelectionTimeoutMS: 300 },
  );
});

Deno.test("flush() rejects while the database is down, keeps the events, and succeeds once it is back", async () => {
  await withDevDb(
    async ({ server, db }) => {
      const events = db.collection("events");
      const writer = new BatchWriter(events, { name: "events", retry: quickRetry });
      let restarted: DevDb | undefined;
      try {
        await events.countDocuments();
        await server.stop();
        for (let i = 0; i < 7; i++) await writer.add(event(i));
        await assert.rejects(writer.flush());
        assert.equal(writer.stats().buffered, 7);
        assert.match(writer.stats().lastError ?? "", /Mongo/);
        restarted = await startDevDb({ port: server.port });
        await waitFor(() => writer.flush().then(() => true, () => false), {
          what: "a flush to succeed after the restart",
          timeoutMs: 15_000,
        });
        assert.equal(await events.countDocuments(), 7);
        assert.equal(writer.stats().flushed, 7);
      } finally {
        await writer.close({ deadline: Date.now() + 2_000 });
        await restarted?.stop();
      }
    },
    {},
    { serverSelectionTimeoutMS: 300 },
  );
});

Deno.test("events keep the _id given at add(); one that cannot be stored is refused at add() and never blocks", async () => {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter(db.collection("events"), { name: "events" });
    try {
      const id = new ObjectId();
      await writer.add({ _id: id, kind: "chosen" });
      const cyclic: Record<string, unknown> = { kind: "cyclic" };
      cyclic.self = cyclic;
      await assert.rejects(writer.add(cyclic), TypeError);
      await assert.rejects(writer.add({ big: "x".repeat(17 * 1024 * 1024) }), /limit/);
      await writer.add({ kind: "after" });
      await writer.flush();
      const docs = await db.collection("events").find().toArray();
      assert.deepEqual(docs.map((d) => d.kind), ["chosen", "after"]);
      assert.ok(id.equals(docs[0]._id));
    } finally {
      await writer.close({ deadline: Date.now() + 5_000 });
    }
  });
});

Deno.test("close() writes what is buffered before it resolves, and refuses later events", async () => {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter(db.collection("events"), { name: "events", flushIntervalMs: 60_000 });
    writer.start();
    for (let i = 0; i < 30; i++) await writer.add(event(i));
    assert.equal(await db.collection("events").countDocuments(), 0);
    await writer.close({ deadline: Date.now() + 5_000 });
    assert.equal(await db.collection("events").countDocuments(), 30);
    assert.equal(writer.stats().spilled, 0);
    await assert.rejects(writer.add(event(30)), WriterClosedError);
    assert.throws(() => writer.start(), WriterClosedError);
  });
});

Deno.test("bad settings are refused when the writer is made", () => {
  const fake = {} as never;
  assert.throws(() => new BatchWriter(fake, { name: "bad-name" }), /letters, digits or underscores/);
  assert.throws(() => new BatchWriter(fake, { name: "ok", maxBatch: 0 }), /maxBatch=0/);
  assert.throws(
    () => new BatchWriter(fake, { name: "ok", maxBatch: 20, maxBuffer: 10 }),
    /at most maxBuffer/,
  );
});
