/**
 * The database going away under load, as it does in production: stopped gracefully (its sockets end with
 * a FIN, not a reset) and started again on the same port. Every request gets a proper answer in time.
 */
import assert from "node:assert/strict";
import { type DevDb, startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { callAction, signUp } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";
import { tempDataDir } from "../devdb/harness.ts";
import { scrapeMetric } from "../helpers/metrics.ts";
import { MongoClient } from "mongodb";

/** A status seen under load, with how long the request took. */
interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
}

/** A request that takes this long is held, whatever the reason. */
const HELD_MS = 10_000;

/** Runs `workers` loops of `request` into `answers` while `body` runs. */
async function underLoad(
  answers: Answer[],
  workers: number,
  request: (worker: number, i: number) => Promise<{ status: number; headers: Headers }>,
  body: () => Promise<void>,
): Promise<void> {
  let running = true;
  const loops = Array.from({ length: workers }, async (_, worker) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      // A request held past this is a failure in itself (status 0), not a hung test.
      const answer = await request(worker, i).catch(() => ({ status: 0, headers: new Headers() }));
      const { status, headers } = answer;
      answers.push({ status, ms: performance.now() - started, retryAfter: headers.get("retry-after") });
    }
  });
  try {
    await body();
  } finally {
    running = false;
    await Promise.all(loops);
  }
}

Deno.test("the database stopped gracefully under load, five times: no 500, only 200 or 503 with Retry-After", async () => {
  const dataDir = await tempDataDir();
  let devdb: DevDb = await startDevDb({ dataDir });
  const port = devdb.port;
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      DB_SERVER_SELECTION_TIMEOUT_MS: "1000",
      DB_WAIT_QUEUE_TIMEOUT_MS: "1000",
      DB_MIN_POOL_SIZE: "4",
    },
  });
  try {
    const token = await signUp(server.baseUrl, "graceful");
    const profile = { phoneNumber: "+31612345678", displayName: "Graceful", timezone: "Europe/Amsterdam" };
    const answers: Answer[] = [];
    const okCount = () => answers.filter((a) => a.status === 200).length;
    await underLoad(
      answers,
      8,
      (worker, i) =>
        worker % 2 === 0
          ? callAction(server.baseUrl, "JournalEntry/_getEntries", { limit: 5 }, token)
          : callAction(server.baseUrl, "Profile/setProfile", { ...profile, displayName: `G${i}` }, token),
      async () => {
        for (let round = 0; round < 5; round++) {
          // The load has reached the restarted database before it goes away again.
          const before = okCount();
          await waitFor(() => okCount() >= before + 20, {
            what: `requests answered 200 before stop ${round + 1}`,
          });
          await devdb.stop();
          devdb = await startDevDb({ port, dataDir });
        }
        const before = okCount();
        await waitFor(() => okCount() >= before + 20, {
          what: "requests answered 200 after the last restart",
        });
      },
    );
    const statuses = Object.groupBy(answers, (a) => String(a.status));
    const summary = Object.entries(statuses).map(([s, list]) => `${s}: ${list!.length}`).join(", ");
    assert.equal(statuses["500"], undefined, `${summary}\n${dump(server)}`);
    for (const answer of answers) {
      assert.ok([200, 503].includes(answer.status), `${summary}\n${dump(server)}`);
      if (answer.status === 503) assert.equal(answer.retryAfter, "1");
    }
    assert.ok((statuses["200"]?.length ?? 0) > 0, summary);
  } finally {
    await server.kill();
    await devdb.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("an outage longer than the buffers last, under load: no request held past the timeouts, every 202 stored once", async () => {
  const dataDir = await tempDataDir();
  let devdb: DevDb = await startDevDb({ dataDir });
  const port = devdb.port;
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      DB_SERVER_SELECTION_TIMEOUT_MS: "1000",
      DB_WAIT_QUEUE_TIMEOUT_MS: "1000",
      // The writers' retry backoff: short, so the test need not wait out a long one after the restart.
      DB_RETRY_INITIAL_DELAY_MS: "100",
      DB_RETRY_MAX_DELAY_MS: "500",
      BATCH_SPILL_DIR: `${dataDir}/spill`,
      BATCH_USAGE_EVENTS_MAX_BATCH: "5",
      BATCH_USAGE_EVENTS_MAX_BUFFER: "20",
      BATCH_ANALYTICS_EVENTS_MAX_BATCH: "5",
      BATCH_ANALYTICS_EVENTS_MAX_BUFFER: "20",
      // Room for a few dozen events on disk: the outage outlasts memory and disk both.
      BATCH_ANALYTICS_EVENTS_MAX_SPILL_BYTES: "8000",
      BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS: "200",
      BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS: "200",
    },
  });
  const accepted = new Set<string>();
  const refused = new Set<string>();
  try {
    const token = await signUp(server.baseUrl, "outage");
    const answers: Answer[] = [];
    const track = async (id: string) => {
      const response = await fetch(`${server.baseUrl}/api/analytics/track`, {
        signal: AbortSignal.timeout(HELD_MS),
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "outage.probe", properties: { id } }),
      });
      await response.body?.cancel();
      if (response.status === 202) accepted.add(id);
      else if (response.status === 503) refused.add(id);
      return response;
    };
    const metric = (name: string, writer: string) => scrapeMetric(server.baseUrl, name, { writer });
    await underLoad(answers, 7, async (worker, i) => {
      // Paced, so the load stays steady on a shared machine.
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (worker < 3) return await track(`w${worker}-${i}`);
      if (worker < 5) {
        // Touches no database, yet its usage event goes to a writer that is full.
        const response = await fetch(`${server.baseUrl}/api/openapi.json`, {
          signal: AbortSignal.timeout(HELD_MS),
        });
        await response.body?.cancel();
        return response;
      }
      const signal = AbortSignal.timeout(HELD_MS);
      return await callAction(server.baseUrl, "JournalEntry/_getEntries", { limit: 5 }, token, signal);
    }, async () => {
      await waitFor(() => accepted.size >= 20, { what: "events accepted before the outage" });
      await devdb.stop();
      const stoppedAt = Date.now();
      // Full: events overflow (or, where a writer holds its callers, add() calls wait). Every request under
      // /api/ hands the usage writer an event, so it fills first.
      const full = async (writer: string) =>
        (await metric("zien_batch_spilled_total", writer)) > 0 ||
        (await metric("zien_batch_waiting_adds", writer)) > 0;
      await waitFor(() => full("usage_events"), {
        what: "the usage writer's memory to fill up",
        timeoutMs: 15_000,
      });
      // The outage lasts well past both timeouts, so a request held by a writer would show.
      await waitFor(() => Date.now() - stoppedAt >= 8_000, { what: "8 s of outage", timeoutMs: 20_000 });
      devdb = await startDevDb({ port, dataDir });
      const okBefore = answers.filter((a) => a.status === 200).length;
      await waitFor(() => answers.filter((a) => a.status === 200).length >= okBefore + 10, {
        what: "reads answered after the restart",
      });
      // What overflowed to disk is written back by itself once the database answers.
      await waitFor(async () => (await metric("zien_batch_spill_bytes", "analytics_events")) === 0, {
        what: "the analytics spill files to be written back",
        timeoutMs: 15_000,
      });
    });
    const slowest = Math.max(...answers.map((a) => a.ms));
    // Server selection (1 s) plus a checkout wait (1 s), with room for a busy machine.
    assert.ok(slowest < 5_000, `a request took ${Math.round(slowest)} ms\n${dump(server)}`);
    for (const answer of answers) {
      assert.ok([200, 202, 503].includes(answer.status), `status ${answer.status}\n${dump(server)}`);
      if (answer.status === 503) assert.equal(answer.retryAfter, "1");
    }
    assert.ok(refused.size > 0, "some events were refused once memory and disk were full");
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    const client = new MongoClient(devdb.url);
    try {
      const docs = await client.db("zien").collection("analytics_events")
        .find({ name: "outage.probe" }).toArray();
      const ids = docs.map((doc) => doc.properties.id as string);
      assert.equal(ids.length, new Set(ids).size, "no event stored twice");
      const missing = [...accepted].filter((id) => !ids.includes(id));
      assert.deepEqual(
        missing,
        [],
        `${missing.length} of ${accepted.size} acknowledged events lost\n${dump(server)}`,
      );
      assert.deepEqual(ids.filter((id) => refused.has(id)), [], "refused events are not stored");
    } finally {
      await client.close();
    }
  } finally {
    await server.kill();
    await devdb.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
