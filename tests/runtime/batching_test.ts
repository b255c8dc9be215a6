/**
 * Buffered events and the shutdown: flushed before the client closes, or spilled and written at the next
 * start. Nothing acknowledged is lost.
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { waitFor } from "../helpers/wait.ts";
import { tempDataDir } from "../devdb/harness.ts";
import { scrapeMetric } from "../helpers/metrics.ts";

async function track(baseUrl: string, count: number, run: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl}/api/analytics/track`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "page.view", properties: { run, i } }),
    });
    assert.equal(response.status, 202);
    await response.body?.cancel();
  }
}

async function countEvents(url: string, run: string): Promise<{ total: number; distinct: number }> {
  const client = new MongoClient(url);
  try {
    const events = client.db("zien").collection("analytics_events");
    const docs = await events.find({ "properties.run": run }).toArray();
    return { total: docs.length, distinct: new Set(docs.map((d) => d.properties.i)).size };
  } finally {
    await client.close();
  }
}

Deno.test("SIGTERM with events buffered: they are in the database before the process exits", async () => {
  const devdb = await startDevDb();
  const spillDir = await tempDataDir();
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS: "600000",
      BATCH_SPILL_DIR: spillDir,
    },
  });
  try {
    await track(server.baseUrl, 30, "sigterm");
    assert.equal(
      (await countEvents(devdb.url, "sigterm")).total,
      0,
      "still buffered: below a batch, long interval",
    );
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    assert.deepEqual(await countEvents(devdb.url, "sigterm"), { total: 30, distinct: 30 });
    assert.deepEqual([...Deno.readDirSync(spillDir)], [], "nothing was spilled");
  } finally {
    await server.kill();
    await devdb.stop();
    await Deno.remove(spillDir, { recursive: true });
  }
});

Deno.test("a deadline too short to flush spills the events, and the next start writes them once", async () => {
  const dataDir = await tempDataDir();
  let devdb = await startDevDb({ dataDir });
  const port = devdb.port;
  const env = {
    MONGODB_URL: devdb.url,
    BATCH_SPILL_DIR: `${dataDir}/spill`,
    BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS: "600000",
    DB_SERVER_SELECTION_TIMEOUT_MS: "300",
  };
  const first = await spawnServer({ env: { ...env, SHUTDOWN_TIMEOUT_MS: "1500" } });
  let second;
  try {
    await track(first.baseUrl, 20, "spill");
    await devdb.stop(); // the database blinks just as the process is told to stop
    first.signal("SIGTERM");
    // The writers' own deadline comes a second before the shutdown's: they spill and the exit is clean.
    assert.equal(await first.exited, 0, dump(first));
    const spilled = first.logs().find((l) =>
      /analytics_events: shutdown deadline reached; spilled 20 events/.test(l.message)
    );
    assert.ok(spilled, dump(first));
    devdb = await startDevDb({ port, dataDir });
    assert.equal((await countEvents(devdb.url, "spill")).total, 0, "nothing reached the database before");
    second = await spawnServer({ env });
    await waitFor(async () => (await countEvents(devdb.url, "spill")).total >= 20, {
      what: "the spilled events to be written",
    });
    second.signal("SIGTERM");
    assert.equal(await second.exited, 0, dump(second));
    assert.deepEqual(await countEvents(devdb.url, "spill"), { total: 20, distinct: 20 });
  } finally {
    await first.kill();
    await second?.kill();
    await devdb.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("BATCH_ANALYTICS_EVENTS_MAX_BATCH sets the server's batch size: 20 events go in 4 inserts of 5", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, BATCH_ANALYTICS_EVENTS_MAX_BATCH: "5" },
  });
  try {
    const insertsBefore = devdb.stats().opcounters.insert;
    await track(server.baseUrl, 20, "batch-size");
    // Full batches are written at once; with the default (50, every 30 s) nothing would be written yet.
    await waitFor(async () => (await countEvents(devdb.url, "batch-size")).total === 20, {
      what: "four full batches of five",
    });
    const batches = await scrapeMetric(server.baseUrl, "zien_batch_batches_total", {
      writer: "analytics_events",
    });
    assert.equal(batches, 4, dump(server));
    assert.equal(
      devdb.stats().opcounters.insert - insertsBefore,
      20,
      "one insert command of 5 documents each",
    );
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});

Deno.test("a bad BATCH_ value exits 78 naming the variable", async () => {
  const devdb = await startDevDb();
  const cases: [Record<string, string>, RegExp][] = [
    [
      { BATCH_USAGE_EVENTS_MAX_BUFFER: "lots" },
      /^zien: Invalid BATCH_USAGE_EVENTS_MAX_BUFFER="lots": expected/m,
    ],
    [
      { BATCH_CALL_EVENTS_MAX_BATCH: "500", BATCH_CALL_EVENTS_MAX_BUFFER: "100" },
      /^zien: Invalid BATCH_CALL_EVENTS_MAX_BATCH="500": expected at most BATCH_CALL_EVENTS_MAX_BUFFER/m,
    ],
  ];
  try {
    for (const [env, expected] of cases) {
      const server = await spawnServer({ env: { MONGODB_URL: devdb.url, ...env }, waitReady: false });
      try {
        let code: number | undefined;
        server.exited.then((c) => (code = c));
        // A value that is ignored lets the server start and run: wait for the exit with a deadline.
        await waitFor(() => code !== undefined, {
          what: `an exit for ${JSON.stringify(env)}`,
          timeoutMs: 20_000,
        });
        assert.equal(code, 78, dump(server));
        assert.match(server.stderr(), expected);
      } finally {
        await server.kill();
      }
    }
  } finally {
    await devdb.stop();
  }
});
