import assert from "node:assert/strict";
import { MongoClient, MongoServerError, type TopologyDescription } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { waitFor } from "../helpers/wait.ts";
import { rawCommand } from "./raw_command.ts";
import { tempDataDir } from "./harness.ts";
import { parseCliArgs } from "../../src/devdb/cli_args.ts";

Deno.test("the driver discovers a 3-member set from the seed list; the secondaries refuse writes and primary reads", async () => {
  const devdb = await startDevDb({ replicaSet: { name: "rs0", members: 3 } });
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 5_000 });
  let topology: TopologyDescription | undefined;
  client.on("topologyDescriptionChanged", (event) => topology = event.newDescription);
  try {
    assert.match(
      devdb.url,
      /^mongodb:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/\?replicaSet=rs0$/,
    );
    assert.equal(devdb.members.length, 3);
    assert.equal(devdb.primaryIndex(), 0);
    const hosts = devdb.members.map((member) => `${member.host}:${member.port}`);

    await client.db("test").collection("c").insertOne({ _id: 1 } as never);
    await waitFor(() => {
      const types = [...(topology?.servers.values() ?? [])].map((server) => server.type).sort();
      return types.join() === "RSPrimary,RSSecondary,RSSecondary";
    }, { what: "all three members discovered" });
    assert.equal(topology!.type, "ReplicaSetWithPrimary");
    assert.equal(topology!.setName, "rs0");

    const hello = await rawCommand(devdb.members[1].port, { hello: 1, $db: "admin" });
    assert.equal(hello.setName, "rs0");
    assert.equal(hello.isWritablePrimary, false);
    assert.equal(hello.secondary, true);
    assert.equal(hello.primary, hosts[0]);
    assert.equal(hello.me, hosts[1]);
    assert.deepEqual(hello.hosts, hosts);
    assert.equal(hello.electionId, undefined);
    assert.ok(hello.topologyVersion.processId);
    assert.ok(hello.lastWrite.lastWriteDate instanceof Date);
    const primaryHello = await rawCommand(devdb.members[0].port, { hello: 1, $db: "admin" });
    assert.equal(primaryHello.isWritablePrimary, true);
    assert.ok(primaryHello.electionId);

    // The same storage: the secondary sees the write at once (no replication lag is emulated).
    const direct = new MongoClient(`mongodb://${hosts[1]}/?directConnection=true`);
    try {
      assert.equal(await direct.db("test").collection("c").countDocuments(), 1);
      const refused = await direct.db("test").collection("c").insertOne({ _id: 2 } as never).catch((e) => e);
      assert.ok(refused instanceof MongoServerError);
      assert.equal(refused.code, 10107);
      assert.equal(refused.codeName, "NotWritablePrimary");
    } finally {
      await direct.close();
    }
    const read = await rawCommand(devdb.members[2].port, { find: "c", $db: "test" });
    assert.equal(read.code, 13435);
    assert.equal(read.codeName, "NotPrimaryNoSecondaryOk");
    const secondaryOk = await rawCommand(devdb.members[2].port, {
      find: "c",
      $db: "test",
      $readPreference: { mode: "secondaryPreferred" },
    });
    assert.equal(secondaryOk.ok, 1);
    const retryable = await rawCommand(devdb.members[2].port, {
      insert: "c",
      documents: [{ _id: 3 }],
      lsid: { id: new (await import("bson")).UUID() },
      txnNumber: 1,
      $db: "test",
    });
    assert.equal(retryable.code, 10107);
    assert.deepEqual(retryable.errorLabels, ["RetryableWriteError"]);
    assert.equal(await client.db("test").collection("c").countDocuments(), 1);
  } finally {
    await client.close();
    await devdb.stop();
  }
});

Deno.test("connections per member: memberStats() and each member's serverStatus agree", async () => {
  const devdb = await startDevDb({ replicaSet: { name: "rs0", members: 3 } });
  const client = new MongoClient(devdb.url, {
    appName: "counted",
    serverSelectionTimeoutMS: 5_000,
    // The RTT pinger connects one heartbeat after streaming starts.
    heartbeatFrequencyMS: 300,
  });
  let awaited = 0;
  client.on("serverHeartbeatSucceeded", (event) => event.awaited && awaited++);
  try {
    await client.db("test").collection("c").insertOne({ a: 1 });
    // Streaming monitoring: a monitor and an RTT pinger per member, and the pool on the primary only.
    await waitFor(
      () =>
        devdb.members.every((_, i) =>
          devdb.memberStats(i).connections.byAppName.counted === 2 + (i === 0 ? 1 : 0)
        ),
      {
        what: "two monitoring connections per member and one pooled on the primary",
      },
    );
    // Streamed (awaitable) hellos keep arriving on the same sockets: nothing reconnects.
    const created = devdb.stats().connections.totalCreated;
    await waitFor(() => awaited >= 6, { what: "streamed hellos" });
    assert.equal(devdb.stats().connections.totalCreated, created);
    for (let i = 0; i < 3; i++) {
      const direct = new MongoClient(`mongodb://127.0.0.1:${devdb.members[i].port}/?directConnection=true`, {
        appName: "probe",
      });
      try {
        const status = await direct.db("admin").command({ serverStatus: 1 });
        const stats = devdb.memberStats(i);
        assert.equal(status.connections.current, stats.connections.current, `member ${i}`);
        assert.equal(stats.connections.byAppName.probe, 2);
        assert.equal(status.host, `127.0.0.1:${devdb.members[i].port}`);
      } finally {
        await direct.close();
      }
    }
    const total = devdb.stats().connections;
    assert.equal(total.byAppName.counted, 7);
    assert.equal(
      total.current,
      [0, 1, 2].reduce((sum, i) => sum + devdb.memberStats(i).connections.current, 0),
    );
  } finally {
    await client.close();
    await devdb.stop();
  }
});

Deno.test("--replica-set NAME --members N on the command line; --port N puts the members on N, N+1, ...", async () => {
  const parsed = parseCliArgs(["--replica-set", "rs1", "--members", "2", "--port", "0", "--in-memory"]);
  assert.ok("options" in parsed);
  assert.deepEqual(parsed.options.replicaSet, { name: "rs1", members: 2, electionDelayMs: undefined });
  assert.equal(parsed.options.dataDir, undefined);
  assert.ok("error" in parseCliArgs(["--members", "3"]), "--members needs --replica-set");
  assert.ok("error" in parseCliArgs(["--replica-set", "rs1", "--members", "0"]));

  // Ports picked by the OS and released can be taken again by someone else: try a few bases.
  for (let attempt = 0;; attempt++) {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const base = (probe.addr as Deno.NetAddr).port;
    probe.close();
    if (base > 65_000) continue;
    const devdb = await startDevDb({ port: base, replicaSet: { name: "rs1", members: 3 } }).catch((error) => {
      if (attempt < 5 && error instanceof Deno.errors.AddrInUse) return undefined;
      throw error;
    });
    if (!devdb) continue;
    try {
      assert.deepEqual(devdb.members.map((member) => member.port), [base, base + 1, base + 2]);
      assert.equal(
        devdb.url,
        `mongodb://127.0.0.1:${base},127.0.0.1:${base + 1},127.0.0.1:${base + 2}/?replicaSet=rs1`,
      );
    } finally {
      await devdb.stop();
    }
    return;
  }
});

Deno.test("bad replica-set options are refused before anything listens", async () => {
  await assert.rejects(startDevDb({ replicaSet: { name: "bad name", members: 3 } }), /replicaSet.name/);
  await assert.rejects(startDevDb({ replicaSet: { name: "rs0", members: 0 } }), /replicaSet.members/);
  await assert.rejects(startDevDb({ urlUser: "nobody" }), /urlUser nobody/);
});

Deno.test("a replica set with a data directory: one log for every member, replayed on restart", async () => {
  const dataDir = await tempDataDir();
  try {
    const first = await startDevDb({ dataDir, replicaSet: { name: "rs0", members: 3 } });
    const client = new MongoClient(first.url, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db("test").collection("c").insertMany([{ n: 1 }, { n: 2 }]);
    } finally {
      await client.close();
      await first.stop();
    }
    const second = await startDevDb({ dataDir, replicaSet: { name: "rs0", members: 3 } });
    const again = new MongoClient(second.url, {
      serverSelectionTimeoutMS: 5_000,
      readPreference: "secondary",
    });
    try {
      assert.equal(await again.db("test").collection("c").countDocuments(), 2, "read on a secondary");
    } finally {
      await again.close();
      await second.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
