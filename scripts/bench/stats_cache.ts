/**
 * The stats cache's hit rate under the walkthrough's mix of requests (seed 003's target: above 80%).
 *
 * People sign up, set a profile and a call window, then come back to the app again and again: each visit
 * opens the home screen (`GET /api/stats`, their profile, active prompts and newest entries) and every
 * fourth visit also writes a reflection (start, answer each prompt, complete) and goes home again. Run twice
 * on the same requests against a devdb in its own process, the concept and stats routes mounted as the app
 * mounts them:
 *
 * - now: the cache is dropped only after the actions that change the figures (`StatsCache.afterAction`);
 * - before: it was dropped after every action of the person, reads included.
 *
 * Usage: `deno run -P=bench scripts/bench/stats_cache.ts [--people 40] [--visits 20]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { MongoClient } from "mongodb";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { createConcepts, ensureConceptIndexes, platformStats, userStats } from "../../src/concepts/mod.ts";
import { type ActionDone, conceptRoutes } from "../../src/server/concepts/mod.ts";
import { StatsCache, statsRoutes } from "../../src/server/stats.ts";
import { errorHandler, requestId } from "../../src/server/request_context.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { people: { type: "string", default: "40" }, visits: { type: "string", default: "20" } },
});
const PEOPLE = Number(args.people);
const VISITS = Number(args.visits);

type Variant = "now" | "before";

async function run(url: string, variant: Variant) {
  const client = new MongoClient(url, { maxPoolSize: 10 });
  const db = client.db(`zien_bench_stats_${variant}`);
  await db.dropDatabase();
  const concepts = createConcepts(db);
  await ensureConceptIndexes(concepts);
  let queries = 0;
  const stats = new StatsCache({
    userStats: (user) => (queries++, userStats(concepts, user)),
    platformStats: () => platformStats(concepts),
  });
  const before = ({ user }: ActionDone) => user && stats.invalidate(user);
  // deno-lint-ignore no-explicit-any -- route modules declare their own variables
  const app = new Hono<any>();
  app.use(requestId());
  // Every person registers from the one in-process address here: lift the per-address limits.
  const throttle = { registerPerAddress: PEOPLE * 2, loginFailuresPerAddress: PEOPLE * 2 };
  app.route(
    "/",
    conceptRoutes({ concepts, throttle, onAction: variant === "now" ? stats.afterAction : before }),
  );
  app.route("/", statsRoutes(stats, concepts));
  app.onError(errorHandler());

  const call = async (path: string, body: unknown, token?: string) => {
    const res = await app.request(`/api/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return await res.json();
  };
  const home = async (token: string) => {
    const res = await app.request("/api/stats", { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`stats: ${res.status}`);
    await res.body?.cancel();
    await call("Profile/_getProfile", {}, token);
    await call("JournalPrompt/_getActivePrompts", {}, token);
    await call("JournalEntry/_getEntries", { limit: 5 }, token);
  };
  const person = async (n: number) => {
    const username = `bench-${variant}-${n}`;
    await call("UserAuth/register", { username, password: "correct horse battery" });
    const { token } = await call("UserAuth/login", { username, password: "correct horse battery" });
    await call(
      "Profile/setProfile",
      { phoneNumber: "+31612345678", displayName: username, timezone: "UTC" },
      token,
    );
    await call("CallWindow/addRecurringWindow", { dayOfWeek: 1, start: "09:00", end: "10:00" }, token);
    for (let visit = 0; visit < VISITS; visit++) {
      await home(token);
      if (visit % 4 !== 3) continue;
      const { session } = await call("ReflectionSession/startSession", { mode: "text" }, token);
      for (const prompt of await call("JournalPrompt/_getActivePrompts", {}, token)) {
        await call(
          "ReflectionSession/recordResponse",
          { session, promptId: prompt._id, text: "A walk." },
          token,
        );
      }
      await call("ReflectionSession/completeSession", { session }, token);
      await home(token);
    }
  };
  await Promise.all(Array.from({ length: PEOPLE }, (_, n) => person(n)));
  const { hits, misses } = stats.stats();
  await db.dropDatabase();
  await client.close();
  return { variant, lookups: hits + misses, hits, misses, queries };
}

const devdb = await spawnDevDb();
try {
  const rows = [];
  for (const variant of ["now", "before"] as const) rows.push(await run(devdb.url, variant));
  console.log(
    `${PEOPLE} people x ${VISITS} visits (a reflection every 4th), ${
      new Date().toISOString().slice(0, 10)
    }, ` +
      `${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores\n`,
  );
  console.log(
    "| cache dropped by                    | GET /api/stats | person's figures: queries, hit rate | all lookups (+ platform): hit rate |",
  );
  console.log(
    "| ----------------------------------- | -------------- | ----------------------------------- | ---------------------------------- |",
  );
  for (const r of rows) {
    const label = r.variant === "now" ? "the actions that change the figures" : "every action (before)";
    const requests = r.lookups / 2; // each answer looks up the person's figures and the platform's
    const userRate = `${r.queries}, ${(100 * (requests - r.queries) / requests).toFixed(1)}%`;
    const allRate = `${(100 * r.hits / r.lookups).toFixed(1)}%`;
    console.log(
      `| ${label.padEnd(35)} | ${String(requests).padStart(14)} | ${userRate.padStart(35)} | ${
        allRate.padStart(34)
      } |`,
    );
  }
} finally {
  await devdb.stop();
}
