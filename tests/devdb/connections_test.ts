import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { waitFor } from "../helpers/wait.ts";
import { withDevDb } from "./harness.ts";

Deno.test("stats() and serverStatus agree on connections, and current drops to 0 after close", async () => {
  const server = await startDevDb();
  const clients = ["alpha", "alpha", "beta"].map((appName) => new MongoClient(server.url, { appName }));
  try {
    for (const client of clients) await client.db("admin").command({ ping: 1 });
    const status = await clients[0].db("admin").command({ serverStatus: 1 });
    const stats = server.stats();
    assert.equal(status.connections.current, stats.connections.current);
    assert.equal(status.connections.totalCreated, stats.connections.totalCreated);
    // Each client holds a monitoring connection and one pooled connection.
    assert.equal(stats.connections.current, 6);
    assert.deepEqual(stats.connections.byAppName, { alpha: 4, beta: 2 });
    assert.equal(status.connections.active, 1);
    assert.equal(status.process, "mongod");
    assert.equal(typeof status.uptime, "number");

    const { inprog } = await clients[2].db("admin").command({ currentOp: 1, $all: true });
    assert.equal(inprog.length, 6);
    const own = inprog.filter((op: { active: boolean }) => op.active);
    assert.equal(own.length, 1);
    assert.equal(own[0].appName, "beta");
    assert.equal(own[0].command.currentOp, 1);
    for (const op of inprog) assert.match(op.client, /^127\.0\.0\.1:\d+$/);
    const filtered = await clients[2].db("admin").command({ currentOp: 1, $all: true, appName: "alpha" });
    assert.equal(filtered.inprog.length, 4);
  } finally {
    for (const client of clients) await client.close();
  }
  await waitFor(() => server.stats().connections.current === 0, {
    timeoutMs: 5_000,
    what: "every connection to close",
  });
  assert.equal(server.stats().connections.totalCreated, 6);
  await server.stop();
});

Deno.test("connections past maxConnections are closed at once and counted as refused", async () => {
  const server = await startDevDb({ maxConnections: 2 });
  const sockets: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      sockets.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    await waitFor(() => server.stats().connections.current === 2, {
      timeoutMs: 5_000,
      what: "two connections",
    });
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    assert.equal(await extra.read(new Uint8Array(16)), null);
    extra.close();
    assert.equal(server.stats().connections.refused, 1);
    assert.equal(server.stats().connections.current, 2);
    sockets.pop()!.close();
    await waitFor(() => server.stats().connections.current === 1, { timeoutMs: 5_000, what: "a free slot" });
    sockets.pop()!.close();
    await waitFor(() => server.stats().connections.current === 0, {
      timeoutMs: 5_000,
      what: "both slots to free up",
    });
    // The driver's monitoring connection and its one pooled connection fill the two slots.
    const client = new MongoClient(server.url, { maxPoolSize: 1, serverSelectionTimeoutMS: 3_000 });
    try {
      assert.deepEqual(await client.db("admin").command({ ping: 1 }), { ok: 1 });
      const status = await client.db("admin").command({ serverStatus: 1 });
      assert.equal(status.connections.available, 0);
      assert.equal(status.connections.rejected, server.stats().connections.refused);
    } finally {
      await client.close();
    }
  } finally {
    for (const socket of sockets) socket.close();
    await server.stop();
  }
});

Deno.test("after dropConnections() the driver reconnects on its own", () =>
  withDevDb(async ({ server, db }) => {
    await db.collection("c").insertOne({ a: 1 });
    const before = server.stats().connections.totalCreated;
    server.dropConnections();
    await waitFor(() => server.stats().connections.current === 0, {
      timeoutMs: 5_000,
      what: "the sockets to close",
    });
    // Reads are retried once on a network error, so the first find after the drop already succeeds.
    assert.equal((await db.collection("c").findOne({}))!.a, 1);
    assert.ok(server.stats().connections.totalCreated > before);
  }));

Deno.test("setLatency delays every reply until it is set back to 0", () =>
  withDevDb(async ({ server, db }) => {
    await db.command({ ping: 1 });
    server.setLatency(150);
    let started = performance.now();
    await db.command({ ping: 1 });
    assert.ok(performance.now() - started >= 140, "the reply should take at least the latency");
    server.setLatency(0);
    started = performance.now();
    await db.command({ ping: 1 });
    assert.ok(performance.now() - started < 100);
  }));

Deno.test("stop() then start on the same port: the driver reconnects", async () => {
  const first = await startDevDb();
  const port = first.port;
  const client = new MongoClient(first.url, { serverSelectionTimeoutMS: 5_000, heartbeatFrequencyMS: 500 });
  let second;
  try {
    await client.db("test").collection("c").insertOne({ a: 1 });
    await first.stop();
    assert.equal(first.stats().connections.current, 0);
    const failed = await client.db("admin").command({ ping: 1 }, { timeoutMS: 300 }).catch((e) => e);
    assert.ok(failed instanceof Error);
    second = await startDevDb({ port });
    assert.equal(second.port, port);
    assert.deepEqual(await client.db("admin").command({ ping: 1 }), { ok: 1 });
    // Memory only: the data went with the first server.
    assert.equal(await client.db("test").collection("c").countDocuments(), 0);
  } finally {
    await client.close();
    await second?.stop();
  }
});
