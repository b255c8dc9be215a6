import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { MongoClient, type MongoClientOptions } from "mongodb";
import { type DevDb, startDevDb } from "../../../src/devdb/mod.ts";
import { PoolMonitor, type PoolMonitorOptions, type PoolWarningChange } from "../../../src/db/pool/mod.ts";
import { waitFor } from "../../helpers/wait.ts";
import { capturingLogs } from "../../helpers/logs.ts";
import { testDb } from "../../helpers/db.ts";

const APP = "zien-backend:pool-test:1";

/** A devdb, a client with a monitor attached before connect, and cleanup of all three. */
async function withPool(
  options: Partial<PoolMonitorOptions> & { client?: MongoClientOptions; url?: (db: DevDb) => string },
  body: (ctx: { db: DevDb; client: MongoClient; monitor: PoolMonitor }) => Promise<void>,
): Promise<void> {
  const maxPoolSize = options.maxPoolSize ?? 3;
  await using fixture = await testDb({
    url: options.url,
    client: { maxPoolSize, appName: APP, monitorCommands: true, ...options.client },
  });
  const { server: db, client } = fixture;
  const monitor = new PoolMonitor(client, {
    leakThresholdMs: 30_000,
    logIntervalMs: 60_000,
    ...options,
    maxPoolSize,
  });
  try {
    await client.connect();
    await body({ db, client, monitor });
  } finally {
    // Before the fixture closes the client, so that close is not slowed by the latency a test set.
    db.setLatency(0);
    monitor.stop();
  }
}

function rendered(record: LogRecord): string {
  return record.message.map((part) => typeof part === "string" ? part : JSON.stringify(part)).join("");
}

Deno.test("snapshot follows checkouts, waiters and idle connections, and agrees with the server", async () => {
  await withPool({ maxPoolSize: 3 }, async ({ db, client, monitor }) => {
    const entries = client.db("zien").collection("entries");
    await entries.insertOne({ text: "hello" });
    const monitoring = db.stats().connections.byAppName[APP] - monitor.snapshot().total;
    assert.ok(monitoring >= 1 && monitoring <= 2, `monitoring connections: ${monitoring}`);

    db.setLatency(400);
    // Six reads: one on the open connection while two more are made, then three at a time.
    const reads = Array.from({ length: 6 }, () => entries.findOne({}));
    const settled = Promise.allSettled(reads);
    await waitFor(() => monitor.snapshot().inUse === 3 && monitor.snapshot().waiting === 2, {
      what: "3 in use and 2 waiting",
    });
    const busy = monitor.snapshot();
    assert.equal(busy.total, 3);
    assert.equal(busy.idle, 0);
    assert.equal(busy.utilization, 1);
    assert.equal(db.stats().connections.byAppName[APP], busy.total + monitoring);

    db.setLatency(0);
    assert.ok((await settled).every((result) => result.status === "fulfilled"));
    await waitFor(() => monitor.snapshot().inUse === 0, { what: "every connection back" });
    const after = monitor.snapshot();
    assert.equal(after.waiting, 0);
    assert.equal(after.idle, 3);
    assert.equal(after.total, 3);
    assert.equal(after.connectionsCreated, 3);
    assert.ok(after.checkouts >= 6, `checkouts: ${after.checkouts}`);
    assert.ok(
      after.checkoutWaitMs.p99 >= 300,
      `the waiters waited about 400 ms: ${after.checkoutWaitMs.p99}`,
    );
    assert.equal(after.commands.started, after.commands.succeeded);
    assert.ok(after.commands.succeeded >= 6);
    assert.equal(db.stats().connections.byAppName[APP], after.total + monitoring);
  });
});

Deno.test("a connection held past the leak threshold is reported with its command and collection", async () => {
  await capturingLogs(async (records) => {
    await withPool({ leakThresholdMs: 100, checkIntervalMs: 20 }, async ({ db, client, monitor }) => {
      const changes: PoolWarningChange[] = [];
      monitor.onWarning((change) => changes.push(change));
      monitor.start();
      const entries = client.db("zien").collection("entries");
      await entries.insertOne({ text: "hello" });

      db.setLatency(1_000);
      const slow = entries.find({ text: "hello" }).toArray();
      await waitFor(() => monitor.warnings().some((w) => w.kind === "leak"), { what: "a leak warning" });
      const leak = monitor.warnings().find((w) => w.kind === "leak")!;
      assert.equal(leak.level, "warning");
      assert.equal(leak.details.command, "find");
      assert.equal(leak.details.database, "zien");
      assert.equal(leak.details.collection, "entries");
      assert.match(leak.message, /running find on zien\.entries/);

      db.setLatency(0);
      assert.equal((await slow).length, 1);
      await waitFor(() => !monitor.warnings().some((w) => w.kind === "leak"), { what: "the leak to clear" });
      assert.deepEqual(changes.map((c) => `${c.change}:${c.warning.kind}`), ["started:leak", "cleared:leak"]);
      const leakLogs = records.filter((r) => r.properties.kind === "leak");
      assert.equal(leakLogs.length, 2, "logged once when it started and once when it cleared");
      assert.equal(leakLogs[0].level, "warning");
      assert.match(rendered(leakLogs[0]), /find on zien\.entries/);
    });
  });
});

Deno.test("leak hints name the command when the seed address is a name the socket resolved", async () => {
  await withPool({
    leakThresholdMs: 50,
    url: (db) => `mongodb://localhost:${db.port}/?directConnection=true`,
  }, async ({ db, client, monitor }) => {
    const notes = client.db("zien").collection("notes");
    await notes.insertOne({ n: 1 });
    db.setLatency(600);
    const slow = notes.countDocuments({});
    await waitFor(() => {
      monitor.checkNow();
      return monitor.warnings().some((w) => w.kind === "leak");
    }, { what: "a leak warning" });
    const leak = monitor.warnings().find((w) => w.kind === "leak")!;
    assert.equal(leak.details.address, `localhost:${db.port}`, "the pool is keyed by the seed name");
    assert.equal(leak.details.command, "aggregate");
    assert.equal(leak.details.collection, "notes");
    db.setLatency(0);
    assert.equal(await slow, 1);
  });
});

Deno.test("without command monitoring the pool is still watched, and a leak hint says the command is unknown", async () => {
  await withPool(
    { leakThresholdMs: 50, client: { monitorCommands: false } },
    async ({ db, client, monitor }) => {
      const notes = client.db("zien").collection("notes");
      await notes.insertOne({ n: 1 });
      db.setLatency(600);
      const slow = notes.findOne({});
      await waitFor(() => {
        monitor.checkNow();
        return monitor.warnings().some((w) => w.kind === "leak");
      }, { what: "a leak warning" });
      const leak = monitor.warnings().find((w) => w.kind === "leak")!;
      assert.match(leak.message, /command unknown \(the client was made without monitorCommands\)/);
      assert.equal(monitor.snapshot().inUse, 1);
      assert.equal(monitor.snapshot().commands.started, 0);
      db.setLatency(0);
      assert.equal((await slow)?.n, 1);
    },
  );
});

Deno.test("utilization warns at 60% and turns critical at 80% only once sustained", async () => {
  let now = 1_000_000;
  await capturingLogs(async (records) => {
    await withPool(
      { maxPoolSize: 5, leakThresholdMs: 3_600_000, now: () => now, client: { minPoolSize: 5 } },
      async ({ db, client, monitor }) => {
        const entries = client.db("zien").collection("entries");
        await entries.insertOne({ text: "hello" });
        // Every connection open before the server slows down, handshakes included.
        await waitFor(() => monitor.snapshot().idle === 5, { what: "the pool to fill to minPoolSize" });
        db.setLatency(60_000);
        const reads = [entries.findOne({}), entries.findOne({}), entries.findOne({})];
        reads.forEach((read) => read.catch(() => {})); // they end when the connections are dropped
        await waitFor(() => monitor.snapshot().inUse === 3, { what: "3 of 5 in use" });
        monitor.checkNow();
        assert.deepEqual(monitor.warnings(), [], "not yet sustained");

        now += 29_000;
        monitor.checkNow();
        assert.deepEqual(monitor.warnings(), [], "still under the 30 s default");
        now += 1_000;
        monitor.checkNow();
        assert.deepEqual(monitor.warnings().map((w) => [w.kind, w.level]), [["utilization", "warning"]]);

        reads.push(entries.findOne({}));
        reads[3].catch(() => {});
        await waitFor(() => monitor.snapshot().inUse === 4, { what: "4 of 5 in use" });
        monitor.checkNow();
        assert.equal(monitor.warnings()[0].level, "warning", "80% not sustained yet");
        now += 30_000;
        monitor.checkNow();
        assert.equal(monitor.warnings()[0].level, "critical");
        assert.match(monitor.warnings()[0].message, /4 of 5 in use/);

        db.dropConnections(); // end the slow reads without waiting a minute
        db.setLatency(0);
        await Promise.allSettled(reads);
        await waitFor(() => monitor.snapshot().inUse === 0, { what: "connections back" });
        monitor.checkNow();
        assert.deepEqual(monitor.warnings().filter((w) => w.kind === "utilization"), []);
        const logged = records.filter((r) => r.properties.kind === "utilization").map((r) => r.level);
        // The escalation clears the warning level before the critical one starts: every start has its clear.
        assert.deepEqual(logged, ["warning", "info", "error", "info"], "each level started and cleared once");
      },
    );
  });
});

Deno.test("churn: growing the pool or reusing it is not churn", async () => {
  let now = 0;
  await withPool(
    {
      maxPoolSize: 20,
      churnWindowMs: 1_000,
      churnMinCreated: 8,
      now: () => now,
      client: { minPoolSize: 12 },
    },
    async ({ client, monitor }) => {
      const entries = client.db("zien").collection("entries");
      monitor.checkNow(); // opens the first window
      await waitFor(() => monitor.snapshot().idle === 12, { what: "the pool to grow to minPoolSize" });
      now += 1_000;
      monitor.checkNow();
      for (let i = 0; i < 20; i++) await entries.findOne({});
      now += 1_000;
      monitor.checkNow();
      assert.equal(monitor.snapshot().connectionsCreated, 12);
      assert.deepEqual(monitor.warnings(), []);
    },
  );
});

Deno.test("churn: many connections created while the total stays flat, cleared by a quiet window", async () => {
  let now = 0;
  await withPool({
    maxPoolSize: 20,
    churnWindowMs: 1_000,
    churnMinCreated: 8,
    now: () => now,
    client: { maxIdleTimeMS: 2 },
  }, async ({ client, monitor }) => {
    const entries = client.db("zien").collection("entries");
    await entries.findOne({});
    monitor.checkNow(); // opens the first window
    const before = monitor.snapshot();
    // Every connection idles out before the next read, so each read opens a new one.
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10)); // the idle time under test
      await entries.findOne({});
    }
    const after = monitor.snapshot();
    assert.ok(after.connectionsCreated - before.connectionsCreated >= 8, "connections were recreated");
    assert.ok(Math.abs(after.total - before.total) <= 1, "while the total stayed flat");
    now += 1_000;
    monitor.checkNow();
    const churn = monitor.warnings().find((w) => w.kind === "churn");
    assert.ok(churn, "churn reported");
    assert.ok(Number(churn.details.createdInWindow) >= 8);
    assert.match(churn.message, /connections created in 1 s/);

    now += 1_000;
    monitor.checkNow();
    assert.equal(monitor.warnings().find((w) => w.kind === "churn"), undefined, "a quiet window clears it");
  });
});

Deno.test("history keeps one sample per interval for the configured span, oldest first", async () => {
  let now = 0;
  await withPool(
    { sampleIntervalMs: 10_000, historyMs: 50_000, now: () => now },
    async ({ client, monitor }) => {
      await client.db("zien").collection("entries").insertOne({ text: "hello" });
      for (let i = 0; i < 8; i++) {
        now += 10_000;
        monitor.sampleNow();
      }
      const history = monitor.history();
      assert.deepEqual(history.map((s) => s.at), [40_000, 50_000, 60_000, 70_000, 80_000]);
      assert.equal(history.at(-1)!.total, monitor.snapshot().total);
      assert.equal(history.at(-1)!.commandsSucceeded, monitor.snapshot().commands.succeeded);
      now += 25_000;
      assert.deepEqual(
        monitor.history().map((s) => s.at),
        [60_000, 70_000, 80_000],
        "older than the span: gone",
      );
    },
  );
});

Deno.test("start() samples and logs on its timers, stop() clears them and detaches", async () => {
  await capturingLogs(async (records) => {
    await withPool({ sampleIntervalMs: 20, logIntervalMs: 20 }, async ({ client, monitor }) => {
      const entries = client.db("zien").collection("entries");
      await entries.insertOne({ text: "hello" });
      monitor.start();
      monitor.start(); // idempotent
      await waitFor(() => monitor.history().length >= 3, { what: "three samples" });
      await waitFor(() => records.some((r) => r.properties.utilizationPct !== undefined), {
        what: "a log line",
      });
      const line = records.find((r) => r.properties.utilizationPct !== undefined)!;
      assert.equal(line.level, "info");
      assert.match(
        rendered(line),
        /pool: \d+ open \(\d+ in use, \d+ idle, \d+ connecting\), \d+ waiting, max 3/,
      );

      // Deno's sanitizer fails this test if an interval survives stop().
      monitor.stop();
      monitor.stop();
      const frozen = monitor.snapshot().commands.succeeded;
      await entries.findOne({});
      assert.equal(monitor.snapshot().commands.succeeded, frozen, "no longer listening");
    });
  });
});

Deno.test("severed connections show as a pool clear, and the figures recover with the driver", async () => {
  await withPool({}, async ({ db, client, monitor }) => {
    const entries = client.db("zien").collection("entries");
    await entries.insertOne({ text: "hello" });
    const before = monitor.snapshot();
    assert.equal(before.poolClears, 0);

    db.dropConnections();
    await waitFor(async () => {
      await entries.findOne({}).catch(() => null);
      return monitor.snapshot().poolClears >= 1;
    }, { what: "a pool clear" });
    assert.equal(await entries.countDocuments({}), 1, "the driver recovered");
    const after = monitor.snapshot();
    assert.equal(after.poolClears, 1);
    assert.ok(after.commands.failed >= 1, "the command on the severed socket failed");
    assert.ok(after.connectionsClosed > before.connectionsClosed, "the severed connection was closed");
    assert.ok(after.connectionsCreated > before.connectionsCreated, "and replaced");
    await waitFor(() => monitor.snapshot().total === db.stats().connections.byAppName[APP] - 1, {
      what: "our count to match the server's again (less its one monitoring connection)",
    });
  });
});

Deno.test("failing heartbeats raise a critical warning that clears when the server is back", async () => {
  let db = await startDevDb();
  const port = db.port;
  const client = new MongoClient(db.url, { appName: APP, monitorCommands: true, heartbeatFrequencyMS: 200 });
  const monitor = new PoolMonitor(client, {
    maxPoolSize: 10,
    leakThresholdMs: 30_000,
    logIntervalMs: 60_000,
  });
  const changes: PoolWarningChange[] = [];
  monitor.onWarning((change) => changes.push(change));
  try {
    await client.connect();
    await db.stop();
    await waitFor(() => monitor.warnings().some((w) => w.kind === "heartbeat"), {
      what: "a heartbeat warning",
    });
    const warning = monitor.warnings().find((w) => w.kind === "heartbeat")!;
    assert.equal(warning.level, "critical");
    assert.equal(warning.details.address, `127.0.0.1:${port}`);
    assert.ok(monitor.snapshot().heartbeatFailures >= 1);

    db = await startDevDb({ port });
    await waitFor(() => !monitor.warnings().some((w) => w.kind === "heartbeat"), {
      what: "the warning to clear",
    });
    assert.deepEqual(changes.map((c) => c.change), ["started", "cleared"], "logged and told once each way");
  } finally {
    await client.close();
    monitor.stop();
    await db.stop();
  }
});

Deno.test("checkout timeouts are counted by reason and raise a critical warning", async () => {
  await withPool({ maxPoolSize: 1, client: { waitQueueTimeoutMS: 100 } }, async ({ db, client, monitor }) => {
    const entries = client.db("zien").collection("entries");
    await entries.insertOne({ text: "hello" });
    db.setLatency(500);
    const results = await Promise.allSettled([entries.findOne({}), entries.findOne({})]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    const snapshot = monitor.snapshot();
    assert.equal(snapshot.checkoutFailures.timeout, 1);
    assert.equal(snapshot.checkoutFailures.connectionError, 0);
    assert.equal(snapshot.waiting, 0);
    monitor.checkNow();
    const warning = monitor.warnings().find((w) => w.kind === "checkoutTimeout");
    assert.equal(warning?.level, "critical");
  });
});
