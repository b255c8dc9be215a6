/**
 * Several server processes on one database, as the app grows past one machine: MongoDB coordinates them
 * through atomic updates and unique keys. Each test runs real `src/main.ts` children against a devdb it owns
 * and counts calls, entries and connections from the database's side.
 */
import assert from "node:assert/strict";
import type { CallDoc } from "../../src/concepts/CallScheduler/mod.ts";
import { instanceAppName } from "../../src/db/client.ts";
import { testDb } from "../helpers/db.ts";
import { appConnections } from "../helpers/runtime.ts";
import { assertClosedCleanly, dump, type ServerProcess, spawnServer } from "../helpers/server_process.ts";
import { waitFor } from "../helpers/wait.ts";
import { seedPeopleBulk, zoneInsideItsDay } from "./seed.ts";

const DB_NAME = "zien_multi";

async function openCluster() {
  const fixture = await testDb({ dbName: DB_NAME });
  const { server: devdb, db } = fixture;
  const servers: ServerProcess[] = [];
  return {
    devdb,
    db,
    servers,
    calls: db.collection<CallDoc>("CallScheduler.calls"),
    entries: db.collection("JournalEntry.entries"),
    async spawn(count: number, env: Record<string, string>) {
      const started = await Promise.all(
        Array.from(
          { length: count },
          () => spawnServer({ env: { MONGODB_URL: devdb.url, DB_NAME, ...env } }),
        ),
      );
      servers.push(...started);
      return started;
    },
    async close() {
      await Promise.all(servers.map((s) => s.kill()));
      await fixture.close();
    },
  };
}

const placedBy = (server: ServerProcess) =>
  server.logs().filter((l) => /^call \S+ placed \(attempt/.test(l.message)).length;

Deno.test("three instances, 500 people with windows open now: exactly 500 calls and 500 entries", async () => {
  const cluster = await openCluster();
  try {
    const { timezone } = zoneInsideItsDay();
    const users = await seedPeopleBulk(cluster.db, 500, { timezone });
    const servers = await cluster.spawn(3, {
      CALL_WINDOW_INTERVAL_MS: "1000",
      CALL_SCHEDULER_INTERVAL_MS: "200",
      TELEPHONY_SIM_RING_MS: "20",
    });
    await waitFor(async () => await cluster.entries.countDocuments({}) >= 500, {
      what: "500 journal entries",
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    // A little longer: nothing more may appear.
    await waitFor(async () => await cluster.calls.countDocuments({ status: "COMPLETED" }) === 500, {
      what: "every call to be marked COMPLETED",
      timeoutMs: 10_000,
    });
    const calls = await cluster.calls.find({}).toArray();
    assert.equal(calls.length, 500, "one call per person");
    assert.deepEqual(new Set(calls.map((c) => c.user)), new Set(users));
    assert.ok(calls.every((c) => c.attempts === 1 && c.lease === null));
    const entries = await cluster.entries.find({}).toArray();
    assert.equal(entries.length, 500);
    assert.equal(new Set(entries.map((e) => e.user)).size, 500, "none twice, none missing");
    assert.equal(await cluster.db.collection("ReflectionSession.sessions").countDocuments({}), 500);
    const placing = servers.filter((s) => placedBy(s) > 0).length;
    assert.ok(placing >= 2, `calls placed by ${placing} instance(s)`);
    assert.equal(servers.reduce((n, s) => n + placedBy(s), 0), 500, "each call placed once");
    for (const server of servers) server.signal("SIGTERM");
    for (const server of servers) assert.equal(await server.exited, 0, dump(server));
    for (const server of servers) assertClosedCleanly(server);
    await waitFor(() => servers.every((s) => appConnections(cluster.devdb, s.pid) === 0), {
      what: "every instance's connections to close",
    });
  } finally {
    await cluster.close();
  }
});

Deno.test("an instance killed with SIGKILL while it holds leases: another instance completes its calls", async () => {
  const cluster = await openCluster();
  try {
    const { timezone } = zoneInsideItsDay();
    const [victim, ...survivors] = await cluster.spawn(3, {
      CALL_WINDOW_INTERVAL_MS: "1000",
      CALL_SCHEDULER_INTERVAL_MS: "200",
      CALL_LEASE_MS: "2500",
      CALL_RETRY_BASE_MS: "50",
      CALL_RETRY_MAX_MS: "100",
      TELEPHONY_SIM_RING_MS: "1500",
    });
    // Seeded once all three are up, so the leases seen below are fresh: none of those calls is near its end.
    await seedPeopleBulk(cluster.db, 60, { timezone });
    const victimName = instanceAppName(Deno.hostname(), victim.pid);
    let held: string[] = [];
    await waitFor(async () => {
      held = (await cluster.calls.find({ "lease.owner": victimName, status: "IN_PROGRESS" }).toArray())
        .map((c) => c._id);
      return held.length > 0;
    }, { what: "the victim to hold leases", timeoutMs: 20_000 });
    victim.signal("SIGKILL");
    await victim.exited;
    await waitFor(async () => await cluster.entries.countDocuments({}) >= 60, {
      what: "60 journal entries",
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    await waitFor(
      async () =>
        await cluster.calls.countDocuments({ _id: { $in: held }, status: "COMPLETED" }) === held.length,
      {
        what: "the victim's calls to complete",
      },
    );
    const recovered = await cluster.calls.find({ _id: { $in: held } }).toArray();
    assert.equal(recovered.length, held.length);
    assert.ok(recovered.every((c) => c.attempts >= 2), "completed on a later attempt, by a survivor");
    assert.ok(recovered.every((c) => /held by zien-backend:/.test(c.lastError ?? "")));
    assert.equal(await cluster.calls.countDocuments({}), 60);
    assert.equal(await cluster.entries.countDocuments({}), 60);
    assert.equal(new Set((await cluster.entries.find({}).toArray()).map((e) => e.user)).size, 60);
    for (const server of survivors) server.signal("SIGTERM");
    for (const server of survivors) assert.equal(await server.exited, 0, dump(server));
  } finally {
    await cluster.close();
  }
});

/** Every "placed" line of `servers`, as call, attempt and epoch milliseconds. */
function placements(servers: readonly ServerProcess[]) {
  return servers.flatMap((s) => s.logs()).filter((l) => /^call \S+ placed \(attempt/.test(l.message)).map((
    l,
  ) => ({
    call: String(l.callId),
    attempt: Number(l.attempt),
    at: Date.parse(String(l["@timestamp"])),
  }));
}

Deno.test("calls that ring longer than their lease, one instance SIGKILLed mid-ring: each completed once, never phoned twice at once", async () => {
  const cluster = await openCluster();
  try {
    const { timezone } = zoneInsideItsDay();
    // Longer than the lease by far, and than the survivor's start-up, so the victim still rings when it dies.
    const ringMs = 6_000;
    const env = {
      CALL_WINDOW_INTERVAL_MS: "1000",
      CALL_SCHEDULER_INTERVAL_MS: "200",
      CALL_LEASE_MS: "1500",
      CALL_RETRY_BASE_MS: "50",
      CALL_RETRY_MAX_MS: "100",
      TELEPHONY_SIM_RING_MS: String(ringMs),
    };
    // The victim starts alone, so the first people's calls are surely its own; then the survivor joins, and
    // the next people's calls ring on either while the victim's still ring.
    const [victim] = await cluster.spawn(1, env);
    const victimName = instanceAppName(Deno.hostname(), victim.pid);
    const victimRinging = async () =>
      await cluster.calls.countDocuments({
        "lease.owner": victimName,
        status: "IN_PROGRESS",
        providerStatus: "ringing",
      }) > 0;
    await seedPeopleBulk(cluster.db, 4, { timezone });
    let people = 4;
    await waitFor(victimRinging, { what: "the victim to ring its calls", timeoutMs: 15_000 });
    const [survivor] = await cluster.spawn(1, env);
    await seedPeopleBulk(cluster.db, 4, { timezone });
    people += 4;
    assert.ok(await victimRinging(), "the victim rings some calls");
    victim.signal("SIGKILL");
    await victim.exited;
    await waitFor(async () => await cluster.calls.countDocuments({ status: "COMPLETED" }) === people, {
      what: `${people} calls to complete`,
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const calls = await cluster.calls.find({}).toArray();
    assert.equal(calls.length, people, "one call per person");
    assert.ok(
      calls.some((c) => c.attempts >= 2),
      "some calls were the victim's, placed again by the survivor",
    );
    const entries = await cluster.entries.find({}).toArray();
    assert.equal(entries.length, people, "one journal entry each");
    assert.deepEqual(
      new Set(entries.map((e) => e.reflectionSession)),
      new Set(calls.map((c) => c.reflectionSession)),
    );
    const completions = [victim, survivor].flatMap((s) => s.logs())
      .filter((l) => /^call \S+ completed on attempt/.test(l.message));
    assert.equal(completions.length, people, "each call completed exactly once");
    // A simulated attempt rings for ringMs before anything else happens to it: the next attempt of the same
    // call placed sooner than that would have phoned the person while the previous one might still ring.
    const byCall = Map.groupBy(placements([victim, survivor]), (p) => p.call);
    for (const [call, placed] of byCall) {
      placed.sort((a, b) => a.attempt - b.attempt);
      for (let i = 1; i < placed.length; i++) {
        const gap = placed[i].at - placed[i - 1].at;
        assert.ok(
          gap >= ringMs,
          `call ${call}: attempt ${placed[i].attempt} placed ${gap} ms after the last`,
        );
      }
    }
    survivor.signal("SIGTERM");
    assert.equal(await survivor.exited, 0, dump(survivor));
  } finally {
    await cluster.close();
  }
});

Deno.test("SIGTERM during a tick: its placements finish, leases are released, exit 0, no connection left", async () => {
  const cluster = await openCluster();
  try {
    const { timezone } = zoneInsideItsDay();
    await seedPeopleBulk(cluster.db, 80, { timezone });
    const [server] = await cluster.spawn(1, {
      CALL_WINDOW_INTERVAL_MS: "60000",
      CALL_SCHEDULER_INTERVAL_MS: "100",
      CALL_CONCURRENCY: "2",
      TELEPHONY_SIM_RING_MS: "60000",
    });
    // Slow replies stretch the tick, so the signal lands in the middle of it.
    await waitFor(
      () => server.logs().some((l) => /call-window tick: .* 80 call\(s\) scheduled/.test(l.message)),
      {
        what: "the window tick to schedule the calls",
        timeoutMs: 20_000,
      },
    );
    cluster.devdb.setLatency(15);
    await waitFor(() => placedBy(server) >= 3, { what: "placements to start", timeoutMs: 20_000 });
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    cluster.devdb.setLatency(0);
    assertClosedCleanly(server);
    // The devdb sees a closed socket a moment after the process exits, as the other tests here wait for.
    await waitFor(() => appConnections(cluster.devdb, server.pid) === 0, {
      what: "its connections to close",
    });
    const name = instanceAppName(Deno.hostname(), server.pid);
    const calls = await cluster.calls.find({}).toArray();
    assert.equal(calls.filter((c) => c.lease?.owner === name).length, 0, "no lease left held");
    const placed = calls.filter((c) => c.providerCallId !== null);
    assert.ok(placed.length < 80, `the stop came mid-tick (${placed.length} of 80 placed)`);
    assert.equal(placed.length, placedBy(server), "each placement begun was finished and recorded");
    assert.ok(calls.every((c) => c.providerCallId !== null || (c.status === "PENDING" && c.attempts === 0)));
    const messages = server.logs().map((l) => l.message);
    const lastPlaced = messages.findLastIndex((m) => /placed \(attempt/.test(m));
    const released = messages.findIndex((m) => m.startsWith("released this instance's call leases"));
    assert.ok(released > lastPlaced, "leases released after the last placement finished");
  } finally {
    await cluster.close();
  }
});
