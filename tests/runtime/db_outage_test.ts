/**
 * The database going away under load, as it does in production: stopped gracefully (its sockets end with
 * a FIN, not a reset) and started again on the same port. Every request gets a proper answer in time.
 */
import assert from "node:assert/strict";
import { type DevDb, startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { callAction, signUp } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

/** A status seen under load, with how long the request took. */
interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
}

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
      const { status, headers } = await request(worker, i);
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
  await Deno.mkdir(".data/tmp", { recursive: true });
  const dataDir = await Deno.makeTempDir({ dir: ".data/tmp" });
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
