import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { decodeLog } from "../../src/devdb/persist/record.ts";
import { tempDataDir } from "./harness.ts";

const LOG = "devdb.log";

async function withClient<T>(url: string, body: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

Deno.test("data, indexes, updates, deletes and drops survive stop and start on the same dataDir and port", async () => {
  const dataDir = await tempDataDir();
  try {
    const first = await startDevDb({ dataDir });
    const port = first.port;
    await withClient(first.url, async (client) => {
      const db = client.db("app");
      await db.collection("users").createIndex({ email: 1 }, { unique: true });
      await db.collection("users").insertMany([{ email: "a@x", n: 1 }, { email: "b@x", n: 2 }, {
        email: "c@x",
        n: 3,
      }]);
      await db.collection("users").updateOne({ email: "a@x" }, { $set: { n: 10 } });
      await db.collection("users").deleteOne({ email: "b@x" });
      await db.collection("scratch").insertOne({ gone: true });
      await db.collection("scratch").drop();
      await client.db("other").collection("x").insertOne({ kept: true });
    });
    await first.stop();

    const second = await startDevDb({ dataDir, port });
    assert.equal(second.port, port);
    await withClient(second.url, async (client) => {
      const users = client.db("app").collection("users");
      assert.deepEqual(await users.find({}, { projection: { _id: 0 } }).toArray(), [
        { email: "a@x", n: 10 },
        { email: "c@x", n: 3 },
      ]);
      assert.equal((await users.insertOne({ email: "c@x" }).catch((e) => e)).code, 11000);
      const names = (await client.db("app").listCollections().toArray()).map((c) => c.name);
      assert.deepEqual(names, ["users"]);
      assert.equal(await client.db("other").collection("x").countDocuments({ kept: true }), 1);
    });
    await second.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("an acknowledged insert is already in the log file", async () => {
  const dataDir = await tempDataDir();
  const server = await startDevDb({ dataDir });
  try {
    await withClient(server.url, async (client) => {
      const { insertedId } = await client.db("app").collection("notes").insertOne({ text: "durable" });
      const { records } = decodeLog(await Deno.readFile(`${dataDir}/${LOG}`));
      const written = records.find((record) =>
        record.o === "i" && String(record.d._id) === String(insertedId)
      );
      assert.equal(written?.d.text, "durable");
    });
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a hand-truncated log tail is dropped and every earlier record survives", async () => {
  const dataDir = await tempDataDir();
  try {
    const first = await startDevDb({ dataDir });
    await withClient(first.url, async (client) => {
      const coll = client.db("app").collection("entries");
      for (let i = 0; i < 5; i++) await coll.insertOne({ i });
    });
    await first.stop();
    const path = `${dataDir}/${LOG}`;
    const { size } = await Deno.stat(path);
    // A crash mid-write leaves part of the last record: cut 3 bytes off its end.
    await Deno.truncate(path, size - 3);

    const second = await startDevDb({ dataDir });
    await withClient(second.url, async (client) => {
      const coll = client.db("app").collection("entries");
      assert.deepEqual((await coll.find().toArray()).map((doc) => doc.i), [0, 1, 2, 3]);
      await coll.insertOne({ i: 5 });
    });
    await second.stop();
    const { stopReason } = decodeLog(await Deno.readFile(path));
    assert.equal(stopReason, undefined, "the torn tail was truncated before new records were appended");

    const third = await startDevDb({ dataDir });
    await withClient(third.url, async (client) => {
      const docs = await client.db("app").collection("entries").find().toArray();
      assert.deepEqual(docs.map((doc) => doc.i), [0, 1, 2, 3, 5]);
    });
    await third.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a last record with a bad checksum is dropped", async () => {
  const dataDir = await tempDataDir();
  try {
    const first = await startDevDb({ dataDir });
    await withClient(first.url, async (client) => {
      await client.db("app").collection("c").insertMany([{ v: "kept" }]);
      await client.db("app").collection("c").insertOne({ v: "corrupted" });
    });
    await first.stop();
    const path = `${dataDir}/${LOG}`;
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 2] ^= 0xff;
    await Deno.writeFile(path, bytes);

    const second = await startDevDb({ dataDir });
    await withClient(second.url, async (client) => {
      assert.deepEqual((await client.db("app").collection("c").find().toArray()).map((doc) => doc.v), [
        "kept",
      ]);
    });
    await second.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("concurrent writers from 8 clients are all durable after a restart", async () => {
  const dataDir = await tempDataDir();
  try {
    const server = await startDevDb({ dataDir });
    const clients = Array.from({ length: 8 }, () => new MongoClient(server.url));
    try {
      await Promise.all(clients.map(async (client, c) => {
        const coll = client.db("app").collection("load");
        for (let i = 0; i < 25; i++) await coll.insertOne({ c, i });
      }));
    } finally {
      for (const client of clients) await client.close();
    }
    await server.stop();
    const again = await startDevDb({ dataDir });
    await withClient(again.url, async (client) => {
      assert.equal(await client.db("app").collection("load").countDocuments(), 200);
    });
    await again.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("two servers cannot share one dataDir in a process", async () => {
  const dataDir = await tempDataDir();
  const server = await startDevDb({ dataDir });
  try {
    await assert.rejects(startDevDb({ dataDir }), /is in use by process/);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
