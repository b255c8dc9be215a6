import assert from "node:assert/strict";
import { MongoClient, MongoServerError, type TopologyDescription } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { waitFor } from "../helpers/wait.ts";

const ELECTION_DELAY_MS = 300;

/** Counts the members whose monitor streams (awaitable hellos): only those hear a change at once. */
function streamingMonitors(client: MongoClient): () => number {
  const streaming = new Set<string>();
  client.on("serverHeartbeatStarted", (event) => event.awaited && streaming.add(event.connectionId));
  return () => streaming.size;
}

function primaryOf(topology: TopologyDescription | undefined): string | undefined {
  for (const [address, server] of topology?.servers ?? []) if (server.type === "RSPrimary") return address;
  return undefined;
}

Deno.test("stepDown under a loop of inserts: every acknowledged insert is stored exactly once", async () => {
  const devdb = await startDevDb({
    replicaSet: { name: "rs0", members: 3, electionDelayMs: ELECTION_DELAY_MS },
  });
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 4 });
  let poolCleared = 0;
  client.on("connectionPoolCleared", () => poolCleared++);
  const streaming = streamingMonitors(client);
  const events = client.db("test").collection<{ seq: number }>("events");
  try {
    await events.insertOne({ seq: -1 });
    // A reply delay keeps inserts in flight (applied, unanswered) when the primary steps down: their
    // connections close, the driver retries them with the same txnNumber, and the record answers.
    devdb.setLatency(5);
    const acknowledged: number[] = [];
    const failures: unknown[] = [];
    let running = true;
    const writers = [0, 1, 2, 3].map(async (writer) => {
      for (let i = writer; running; i += 4) {
        try {
          await events.insertOne({ seq: i });
          acknowledged.push(i);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    await waitFor(() => acknowledged.length >= 40 && streaming() === 3, {
      what: "inserts on the first primary, and every monitor streaming",
    });
    await devdb.stepDown(30);
    assert.equal(devdb.primaryIndex(), null);
    const atStepDown = acknowledged.length;
    await waitFor(() => devdb.primaryIndex() !== null, { what: "an election" });
    assert.notEqual(devdb.primaryIndex(), 0, "the stepped-down member may not be re-elected for 30 s");
    await waitFor(() => acknowledged.length >= atStepDown + 40, { what: "inserts on the new primary" });
    running = false;
    await Promise.all(writers);
    devdb.setLatency(0);

    assert.deepEqual(failures, [], "retryable writes hide the election");
    const counts = await events.aggregate<{ _id: number; n: number }>([
      { $match: { seq: { $gte: 0 } } },
      { $group: { _id: "$seq", n: { $sum: 1 } } },
    ]).toArray();
    const stored = new Map(counts.map(({ _id, n }) => [_id, n]));
    for (const seq of acknowledged) assert.equal(stored.get(seq), 1, `seq ${seq} stored once`);
    assert.equal(stored.size, acknowledged.length, "nothing stored that was not acknowledged");
    assert.ok(poolCleared >= 1, "the driver's pool was cleared");
    const newPrimary = devdb.primaryIndex()!;
    assert.ok(devdb.memberStats(newPrimary).opcounters.insert > 0, "the inserts moved to the new primary");
  } finally {
    await client.close();
    await devdb.stop();
  }
});

Deno.test("replSetStepDown: the held awaitable hellos announce it long before the next heartbeat", async () => {
  const devdb = await startDevDb({
    replicaSet: { name: "rs0", members: 3, electionDelayMs: ELECTION_DELAY_MS },
    failPoints: true,
  });
  // The default heartbeat (10 s) is the maxAwaitTimeMS: only an early answer makes this quick.
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 10_000 });
  let topology: TopologyDescription | undefined;
  client.on("topologyDescriptionChanged", (event) => topology = event.newDescription);
  const streaming = streamingMonitors(client);
  const noRetry = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 10_000, retryWrites: false });
  try {
    await client.db("test").collection("c").insertOne({ a: 1 });
    await noRetry.db("test").collection("c").insertOne({ a: 2 });
    const first = devdb.members[0];
    await waitFor(() => primaryOf(topology) === `${first.host}:${first.port}` && streaming() === 3, {
      what: "the first primary, and every monitor streaming",
    });
    // An insert held in flight by a fail point fails with 11602 when the primary steps down.
    await client.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], blockConnection: true, blockTimeMS: 5_000 },
    });
    const blocked = noRetry.db("test").collection("c").insertOne({ a: 3 }).catch((error) => error);
    await waitFor(async () => {
      const { inprog } = await client.db("admin").command({ currentOp: 1, "command.insert": "c" });
      return inprog.length === 1;
    }, { what: "the blocked insert to arrive" });
    const started = Date.now();
    assert.deepEqual(await client.db("admin").command({ replSetStepDown: 30 }), { ok: 1 });
    const interrupted = await blocked;
    assert.ok(interrupted instanceof MongoServerError, String(interrupted));
    assert.equal(interrupted.code, 11602);
    assert.equal(interrupted.codeName, "InterruptedDueToReplStateChange");
    await waitFor(() => {
      const primary = primaryOf(topology);
      return primary !== undefined && primary !== `${first.host}:${first.port}`;
    }, { what: "the driver to see the new primary" });
    assert.ok(Date.now() - started < 8_000, "well before the 10 s heartbeat");
    const again = await client.db("admin").command({ replSetStepDown: 30 }, { readPreference: "secondary" })
      .catch((error) => error);
    assert.equal(again.code, 10107, "a secondary cannot step down");
    assert.equal(await client.db("test").collection("c").countDocuments(), 2);
  } finally {
    await client.close();
    await noRetry.close();
    await devdb.stop();
  }
});

Deno.test("killMember of the primary: a new one is elected; restartMember brings it back as a secondary", async () => {
  const devdb = await startDevDb({
    replicaSet: { name: "rs0", members: 3, electionDelayMs: ELECTION_DELAY_MS },
  });
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 10_000, heartbeatFrequencyMS: 500 });
  let topology: TopologyDescription | undefined;
  client.on("topologyDescriptionChanged", (event) => topology = event.newDescription);
  const notes = client.db("test").collection("notes");
  try {
    await notes.insertOne({ n: 1 });
    await devdb.killMember(0);
    assert.equal(devdb.primaryIndex(), null);
    assert.equal(devdb.memberStats(0).connections.current, 0);
    const refused = await Deno.connect({ hostname: "127.0.0.1", port: devdb.members[0].port }).then(
      (conn) => (conn.close(), false),
      () => true,
    );
    assert.ok(refused, "the killed member's port refuses connections");
    const dead = `${devdb.members[0].host}:${devdb.members[0].port}`;
    await waitFor(() => topology?.servers.get(dead)?.type === "Unknown", {
      what: "the driver to see member 0 die",
    });
    // Server selection waits for the election.
    await notes.insertOne({ n: 2 });
    const elected = devdb.primaryIndex();
    assert.ok(elected === 1 || elected === 2, `member ${elected} elected`);

    await devdb.restartMember(0);
    const back = `${devdb.members[0].host}:${devdb.members[0].port}`;
    await waitFor(() => topology?.servers.get(back)?.type === "RSSecondary", {
      what: "member 0 back as secondary",
    });
    assert.equal(devdb.primaryIndex(), elected, "a restarted member does not take over");
    assert.equal(await notes.countDocuments(), 2);
  } finally {
    await client.close();
    await devdb.stop();
  }
});

Deno.test("stepDown needs a replica set with a primary", async () => {
  const standalone = await startDevDb();
  try {
    assert.equal(standalone.primaryIndex(), 0);
    assert.deepEqual(standalone.members, [{ host: "127.0.0.1", port: standalone.port }]);
    await assert.rejects(standalone.stepDown(), /needs a replica set/);
  } finally {
    await standalone.stop();
  }
});
