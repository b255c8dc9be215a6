/**
 * The calls benchmark's measurements, each against a fresh database on one devdb in its own process, with
 * real `src/main.ts` children and the simulated provider, the server-side connections sampled throughout.
 *
 * @module
 */
import { MongoClient } from "mongodb";
import { createConcepts, ensureConceptIndexes, startReflection } from "../../../src/concepts/mod.ts";
import { type LogLine, type ServerProcess, spawnServer } from "../../../tests/helpers/server_process.ts";
import { waitFor } from "../../../tests/helpers/wait.ts";
import { seedPeopleBulk, seedPerson, zoneInsideItsDay } from "../../../tests/workers/seed.ts";
import { type ConnectionStats, connectionStats, SAMPLER_APP, startSampling } from "./runtime_sampler.ts";

/** What every measurement shares. */
export interface CallsBenchContext {
  url: string;
  /** The bench's client for seeding and polling (appName `bench-seed`). */
  client: MongoClient;
  /** The sampler's client: a pool of one (appName `bench-sampler`), never counted as the app's. */
  sampler: MongoClient;
}

/** Claims per second with `instances` servers. */
export interface ClaimsResult {
  instances: number;
  calls: number;
  seconds: number;
  perSecond: number;
  connections: ConnectionStats;
}

/** Calls completed end to end (window open -> journal entry) per second with `instances` servers. */
export interface EndToEndResult {
  instances: number;
  people: number;
  seconds: number;
  perSecond: number;
  connections: ConnectionStats;
}

/** The call-window tick with `people` people whose window is open. */
export interface WindowTickResult {
  people: number;
  /** The first tick: everyone is due, so it starts `people` reflections and schedules as many calls. */
  firstTickMs: number;
  /** The next tick: nobody is due any more, so it only reads. */
  steadyTickMs: number;
  /** Reads (find and getMore) the next tick sent: a fixed number per page of open windows. */
  steadyTickReads: number;
  connections: ConnectionStats;
}

const isApp = (name: string) => name.startsWith("zien-backend:");
const at = (line: LogLine) => Date.parse(String(line["@timestamp"]));

function linesOf(servers: ServerProcess[], pattern: RegExp): LogLine[] {
  return servers.flatMap((s) => s.logs().filter((l) => pattern.test(l.message)));
}

async function withServers<T>(
  context: CallsBenchContext,
  count: number,
  env: Record<string, string>,
  run: (servers: ServerProcess[]) => Promise<T>,
): Promise<{ result: T; connections: ConnectionStats }> {
  const sampling = startSampling(context.sampler, isApp, 100);
  const started = Date.now();
  const servers = await Promise.all(
    Array.from({ length: count }, () => spawnServer({ env: { MONGODB_URL: context.url, ...env } })),
  );
  try {
    const result = await run(servers);
    for (const server of servers) server.signal("SIGTERM");
    const codes = await Promise.all(servers.map((s) => s.exited));
    if (codes.some((code) => code !== 0)) throw new Error(`a server exited with ${codes}`);
    const samples = await sampling.stop();
    return { result, connections: connectionStats(samples, started, Date.now()) };
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    await sampling.stop();
  }
}

/**
 * `calls` PENDING calls that all fall due at one instant, once every instance is up; the rate is `calls`
 * over the time from that instant to the last placement. The simulated phone rings for an hour, so the
 * only callbacks are "initiated" and "ringing", as a real provider would send while the calls ring.
 */
export async function measureClaims(
  context: CallsBenchContext,
  instances: number,
  calls: number,
): Promise<ClaimsResult> {
  const dbName = `bench_claims_${instances}`;
  const db = context.client.db(dbName);
  const concepts = createConcepts(db);
  await ensureConceptIndexes(concepts);
  const { timezone } = zoneInsideItsDay();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < calls) {
      const user = await seedPerson(concepts, { timezone, window: "none" });
      const { session } = await startReflection(concepts, { user, mode: "phone" });
      await concepts.callScheduler.scheduleCall({
        user,
        reflectionSession: session,
        phoneNumber: `+1557${String(1_000_000 + next).slice(-7)}`,
        scheduledFor: later,
      });
    }
  }));
  const callsCollection = db.collection("CallScheduler.calls");
  const { result, connections } = await withServers(context, instances, {
    DB_NAME: dbName,
    CALL_WINDOW_INTERVAL_MS: "3600000",
    CALL_SCHEDULER_INTERVAL_MS: "100",
    CALL_LEASE_MS: "3600000",
    TELEPHONY_SIM_RING_MS: "3600000",
  }, async (servers) => {
    const due = new Date(Date.now() + 500);
    await callsCollection.updateMany({ status: "PENDING" }, { $set: { nextAttemptAt: due } });
    await waitFor(
      async () => await callsCollection.countDocuments({ providerCallId: { $ne: null } }) >= calls,
      {
        what: `${calls} placements`,
        timeoutMs: 300_000,
        intervalMs: 200,
      },
    );
    const last = Math.max(...linesOf(servers, /^call \S+ placed \(attempt/).map(at));
    return (last - due.getTime()) / 1000;
  });
  await db.dropDatabase();
  return { instances, calls, seconds: result, perSecond: calls / result, connections };
}

/**
 * `people` people with a window open now and `instances` fresh servers; the rate is `people` over the time
 * from the first server ready to the last journal entry.
 */
export async function measureEndToEnd(
  context: CallsBenchContext,
  instances: number,
  people: number,
): Promise<EndToEndResult> {
  const dbName = `bench_e2e_${instances}`;
  const db = context.client.db(dbName);
  await ensureConceptIndexes(createConcepts(db));
  await seedPeopleBulk(db, people, { timezone: zoneInsideItsDay().timezone });
  const entries = db.collection("JournalEntry.entries");
  const { result, connections } = await withServers(context, instances, {
    DB_NAME: dbName,
    CALL_WINDOW_INTERVAL_MS: "2000",
    CALL_SCHEDULER_INTERVAL_MS: "200",
    TELEPHONY_SIM_RING_MS: "20",
  }, async (servers) => {
    await waitFor(async () => await entries.countDocuments({}) >= people, {
      what: `${people} journal entries`,
      timeoutMs: 600_000,
      intervalMs: 250,
    });
    const first = Math.min(...linesOf(servers, /ready on http/).map(at));
    const last = Math.max(...linesOf(servers, /^journal entry \S+ created/).map(at));
    return (last - first) / 1000;
  });
  await db.dropDatabase();
  return { instances, people, seconds: result, perSecond: people / result, connections };
}

/**
 * One server and `people` people with a window open now, the scheduler idle (its first tick is an hour
 * away), so the window ticks are measured alone: the first schedules everyone, the second finds nobody due.
 */
export async function measureWindowTick(
  context: CallsBenchContext,
  people: number,
): Promise<WindowTickResult> {
  const dbName = `bench_window_${people}`;
  const db = context.client.db(dbName);
  await ensureConceptIndexes(createConcepts(db));
  await seedPeopleBulk(db, people, { timezone: zoneInsideItsDay().timezone });
  const pattern = /^call-window tick: .* in (\d+) ms$/;
  const { result, connections } = await withServers(context, 1, {
    DB_NAME: dbName,
    CALL_WINDOW_INTERVAL_MS: "1000",
    CALL_SCHEDULER_INTERVAL_MS: "3600000",
  }, async ([server]) => {
    const ticks = (n: number) => () => server.logs().filter((l) => pattern.test(l.message)).length >= n;
    await waitFor(ticks(1), { what: "the first window tick", timeoutMs: 600_000, intervalMs: 50 });
    // The next tick starts about a second later; nothing else reads meanwhile (the sampler only runs commands).
    const before = await reads(context);
    await waitFor(ticks(2), { what: "the next window tick", timeoutMs: 600_000, intervalMs: 50 });
    const steadyReads = await reads(context) - before;
    const [first, steady] = server.logs().filter((l) => pattern.test(l.message))
      .map((l) => Number(pattern.exec(l.message)![1]));
    return { first, steady, steadyReads };
  });
  const scheduled = await db.collection("CallScheduler.calls").countDocuments({});
  if (scheduled !== people) {
    throw new Error(`the first tick scheduled ${scheduled} calls for ${people} people`);
  }
  await db.dropDatabase();
  return {
    people,
    firstTickMs: result.first,
    steadyTickMs: result.steady,
    steadyTickReads: result.steadyReads,
    connections,
  };
}

async function reads(context: CallsBenchContext): Promise<number> {
  const { opcounters } = await context.client.db("admin").command({ serverStatus: 1 });
  return Number(opcounters.query) + Number(opcounters.getmore);
}

/** Opens the bench's two clients on the devdb at `url`. */
export function benchContext(url: string): CallsBenchContext {
  return {
    url,
    client: new MongoClient(url, { appName: "bench-seed", maxPoolSize: 8 }),
    sampler: new MongoClient(url, { appName: SAMPLER_APP, maxPoolSize: 1 }),
  };
}
