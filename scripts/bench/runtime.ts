/**
 * The runtime benchmark of issue 3: one process with one pool-limited client against the seeds' "before",
 * in one run against one devdb in its own process, the same endpoint (`POST /api/JournalEntry/_getEntries`,
 * one find per request once the token lookup is cached), 100 and 1000 concurrent clients from a separate
 * load process:
 *
 * - (a) this server: one `src/main.ts` (DB_MAX_POOL_SIZE 10, the default);
 *   (at most 64 requests inside the app at once, `APP_MAX_CONCURRENT_REQUESTS`' default);
 * - (a0) the same with admission off (`APP_MAX_CONCURRENT_REQUESTS=0`): every waiting request inside;
 * - (a2) this server twice on one port (`APP_REUSE_PORT=true`), DB_MAX_POOL_SIZE 5 each, so HTTP uses both
 *   cores while each process keeps its one pool;
 * - (b) the seeds' before: three `src/main.ts` processes, each its own MongoClient at the driver's defaults
 *   (DB_MAX_POOL_SIZE=100, DB_MIN_POOL_SIZE=0), the load spread round-robin over them;
 * - (c) a new MongoClient per request (`lib/runtime_client_per_request.ts`).
 *
 * While the load runs, the devdb's `currentOp` (`$all`) is read every ~100 ms and only the setup's own
 * connections (by appName) are counted. Then SIGTERM to (a) under load, timed to exit, with the connections
 * left; and monitoring on versus off in alternating rounds. Each row reports its servers' CPU per request
 * (from `/proc`, summed over the setup's processes) and, at the end, their peak resident memory. Prints markdown to stdout, progress to stderr.
 *
 * Usage: `deno run -P=bench scripts/bench/runtime.ts [--seconds 5] [--warmup 1] [--repeat 3] [--rounds 6]
 * [--round-seconds 2]`: `--repeat` rounds of every setup and load, interleaved; `--rounds` of monitoring on
 * and off each, `--round-seconds` long.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { signUp } from "../../tests/helpers/api.ts";
import { describeMachine } from "./lib/devdb_report.ts";
import { seedEntries } from "./lib/runtime_seed.ts";
import { spawnBenchServer } from "./lib/runtime_children.ts";
import { CLIENT_PER_REQUEST_APP } from "./lib/runtime_client_per_request.ts";
import {
  type BenchContext,
  measureMonitoring,
  measurePhase,
  measureSigterm,
  type Setup,
  startAppServer,
} from "./lib/runtime_measure.ts";
import { freePort } from "../../tests/helpers/runtime.ts";
import {
  A2_INSTANCES,
  A2_MAX_POOL_SIZE,
  APP_MAX_POOL_SIZE,
  goals,
  type MemoryResult,
  memoryResults,
  memoryTable,
  MONITORING_CONNECTIONS,
  monitoringTable,
  performanceGoals,
  type PhaseResult,
  phasesTable,
  sigtermNotes,
  type SigtermResult,
  sigtermTable,
} from "./lib/runtime_report.ts";
import { appInstances, SAMPLER_APP } from "./lib/runtime_sampler.ts";

const DB_NAME = "zien_bench_runtime";
/**
 * The seeds' before: `new MongoClient(url)` with no options, so every pool setting at the driver's default
 * (maxPoolSize 100, minPoolSize 0, no idle limit, no wait-queue or socket timeout, 30 s connect and server
 * selection), not only the pool size: our own defaults (a 5 s wait-queue timeout answering 503) would
 * otherwise change how the before behaves under load.
 */
const DRIVER_DEFAULTS = {
  DB_MAX_POOL_SIZE: "100",
  DB_MIN_POOL_SIZE: "0",
  DB_MAX_IDLE_TIME_MS: "0",
  DB_MAX_CONNECTING: "2",
  DB_CONNECT_TIMEOUT_MS: "30000",
  DB_SERVER_SELECTION_TIMEOUT_MS: "30000",
  DB_SOCKET_TIMEOUT_MS: "0",
  DB_WAIT_QUEUE_TIMEOUT_MS: "0",
  // The seeds' processes let every request in.
  APP_MAX_CONCURRENT_REQUESTS: "0",
};
const ENTRIES = 50;
const CONCURRENCIES = [100, 1000];
const MONITORING_CONCURRENCY = 100;

/** One run's settings; each defaults to the command line's default. */
export interface RuntimeBenchOptions {
  /** Measured seconds per row. @default 5 */
  seconds?: number;
  /** Warmup seconds before each row's window. @default 1 */
  warmup?: number;
  /** Rounds of every row, interleaved. @default 3 */
  repeat?: number;
  /** Rounds of monitoring on and off each. @default 6 */
  rounds?: number;
  /** Seconds per monitoring round. @default 2 */
  roundSeconds?: number;
}

const progress = (message: string) => console.error(`[runtime bench] ${message}`);

/**
 * Runs the whole benchmark and resolves with the markdown report; progress goes to stderr. Every child
 * process it starts is stopped before it settles, whether it succeeded or not.
 */
export async function runtimeBench(options: RuntimeBenchOptions = {}): Promise<string> {
  const opts = { seconds: 5, warmup: 1, repeat: 3, rounds: 6, roundSeconds: 2, ...options };
  const cleanups: (() => Promise<void> | void)[] = [];
  const defer = (cleanup: () => Promise<void> | void) => void cleanups.push(cleanup);
  progress("starting the devdb in its own process");
  const devdb = await spawnDevDb();
  const sampler = new MongoClient(devdb.url, { appName: SAMPLER_APP, maxPoolSize: 1 });
  try {
    const serverEnv = { MONGODB_URL: devdb.url, DB_NAME };
    const beforeEnv = { ...serverEnv, ...DRIVER_DEFAULTS };
    progress("starting (a) one src/main.ts, (b) three src/main.ts, (c) the client-per-request server");
    const ctx: BenchContext = { sampler, token: "", seconds: opts.seconds, warmup: opts.warmup, defer };
    const [a, ...b] = await Promise.all(
      [serverEnv, beforeEnv, beforeEnv, beforeEnv].map((env) => startAppServer(ctx, env)),
    );
    const a0 = await startAppServer(ctx, { ...serverEnv, APP_MAX_CONCURRENT_REQUESTS: "0" });
    const sharedPort = { ...serverEnv, PORT: String(freePort()), APP_REUSE_PORT: "true" };
    const a2Env = { ...sharedPort, DB_MAX_POOL_SIZE: String(A2_MAX_POOL_SIZE), APP_INSTANCES: "2" };
    const a2 = await Promise.all(
      Array.from({ length: A2_INSTANCES }, () => startAppServer(ctx, a2Env)),
    );
    const c = await spawnBenchServer("runtime_client_per_request.ts", [
      "--mongo",
      devdb.url,
      "--db",
      DB_NAME,
    ]);
    defer(() => c.stop(1_000));

    await sampler.connect();
    ctx.token = await signUp(a.baseUrl, "bench-runtime");
    await seedEntries(sampler.db(DB_NAME), ctx.token, ENTRIES);

    const setups: Setup[] = [
      {
        key: "a",
        label: `(a) this server: 1 process, maxPoolSize ${APP_MAX_POOL_SIZE}`,
        baseUrls: [a.baseUrl],
        match: appInstances([a.pid]),
        targets: [{ baseUrl: a.baseUrl, instances: 1 }],
      },
      {
        key: "a0",
        label: "(a0) this server with admission off (APP_MAX_CONCURRENT_REQUESTS=0)",
        baseUrls: [a0.baseUrl],
        match: appInstances([a0.pid]),
        targets: [{ baseUrl: a0.baseUrl, instances: 1 }],
      },
      {
        key: "a2",
        label:
          `(a2) this server: ${A2_INSTANCES} instances on one port, maxPoolSize ${A2_MAX_POOL_SIZE} each`,
        baseUrls: [a2[0].baseUrl],
        match: appInstances(a2.map((s) => s.pid)),
        targets: [{ baseUrl: a2[0].baseUrl, instances: A2_INSTANCES }],
      },
      {
        key: "b",
        label: "(b) before: 3 processes, maxPoolSize 100 each",
        baseUrls: b.map((s) => s.baseUrl),
        match: appInstances(b.map((s) => s.pid)),
        targets: b.map((s) => ({ baseUrl: s.baseUrl, instances: 1 })),
      },
      {
        key: "c",
        label: "(c) new MongoClient per request",
        baseUrls: [c.url],
        match: (name) => name === CLIENT_PER_REQUEST_APP,
        targets: [],
      },
    ];
    // Rounds interleave the setups, so a busy moment on a shared machine does not fall on one setup alone.
    const phases: PhaseResult[] = CONCURRENCIES.flatMap((concurrency) =>
      setups.map((setup) => ({ setup: setup.key, label: setup.label, concurrency, rounds: [] }))
    );
    const repeat = opts.repeat;
    for (let round = 1; round <= repeat; round++) {
      for (const concurrency of CONCURRENCIES) {
        for (const setup of setups) {
          progress(`round ${round}/${repeat}: ${setup.label} at ${concurrency} clients`);
          const result = await measurePhase(ctx, setup, concurrency);
          phases.find((p) => p.setup === setup.key && p.concurrency === concurrency)!.rounds.push(result);
          progress(
            `  ${Math.round(result.load.rps)} req/s, p99 ${Math.round(result.load.p99Ms)} ms, ` +
              `${result.load.errors} errors, peak ${result.connections.peak} connections`,
          );
          // Let the connections a finished row is closing go before the next row counts handshakes.
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    }
    const memory: MemoryResult[] = memoryResults(phases, 1000, { a: 1, a2: A2_INSTANCES, b: b.length });
    await Promise.all([a, a0, ...a2, ...b].map(async (server) => {
      server.signal("SIGTERM");
      await server.exited;
    }));
    await c.stop();

    const sigterm: SigtermResult[] = [];
    for (const concurrency of CONCURRENCIES) {
      progress(`SIGTERM to a fresh (a) under ${concurrency} clients`);
      sigterm.push(await measureSigterm(ctx, serverEnv, concurrency));
    }

    progress("monitoring on versus off");
    const shared = (monitor: string) =>
      spawnBenchServer("runtime_shared_server.ts", [
        "--mongo",
        devdb.url,
        "--db",
        DB_NAME,
        "--monitor",
        monitor,
      ]);
    // One after the other, so a failure of the second still leaves the first registered for cleanup.
    const on = await shared("on");
    defer(() => on.stop(1_000));
    const off = await shared("off");
    defer(() => off.stop(1_000));
    const monitoring = await measureMonitoring(ctx, { on, off }, {
      rounds: opts.rounds,
      roundSeconds: opts.roundSeconds,
      concurrency: MONITORING_CONCURRENCY,
    });
    await Promise.all([on.stop(), off.stop()]);

    return report({ phases, sigterm, monitoring, memory }, await describeMachine(), { ...ctx, repeat });
  } finally {
    // Every child, by its own handle, whatever happened above; then our client and the devdb.
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Already gone.
      }
    }
    await sampler.close();
    await devdb.stop();
  }
}

function report(
  results: {
    phases: PhaseResult[];
    sigterm: SigtermResult[];
    monitoring: Parameters<typeof monitoringTable>[0];
    memory: MemoryResult[];
  },
  machine: string,
  ctx: BenchContext & { repeat: number },
): string {
  const { phases, sigterm, monitoring, memory } = results;
  return [
    "## Runtime benchmark",
    "",
    machine,
    "",
    `Endpoint \`POST /api/JournalEntry/_getEntries\` with \`{ "limit": 5 }\` for one person with ${ENTRIES} ` +
    `entries; after the token lookup (cached 5 s in each process, in (c) too: the token's SHA-256 found in ` +
    `\`UserAuth.tokens\` through that request's client) each request is one find on \`JournalEntry.entries\`. ` +
    `Load from a separate process: ${ctx.warmup} s warmup, then ${ctx.seconds} s measured, ${ctx.repeat} ` +
    `round(s) per row interleaved with the other setups' (req/s, p50 and p99 are medians over the rounds; ` +
    `each client has one request in flight when a window closes, and those are not counted). Server ` +
    `connections: the devdb's \`currentOp\` (\`$all\`) every ~100 ms, counting only the setup's appNames ` +
    `and connections still in their handshake, which have none yet ` +
    `(peak over the whole row, mean over the measured window); (a)'s figure includes the driver's ` +
    `${MONITORING_CONNECTIONS} monitoring connections. (b) runs every pool setting at the driver's default ` +
    `(no wait-queue timeout: it queues where (a) would answer 503 after 5 s). A request that takes longer ` +
    `than 15 s is a timeout error.`,
    "",
    phasesTable(phases),
    "",
    "### Peak memory",
    "",
    memoryTable(memory),
    "",
    "### SIGTERM under load, (a)",
    "",
    sigtermTable(sigterm),
    "",
    sigtermNotes(sigterm, phases),
    "",
    `### Monitoring on versus off (${monitoring.concurrency} clients, ${monitoring.roundSeconds} s rounds, ` +
    "alternating)",
    "",
    monitoringTable(monitoring),
    "",
    "### Goals",
    "",
    goals(phases, sigterm, monitoring),
    performanceGoals(phases, memory),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      repeat: { type: "string", default: "3" },
      rounds: { type: "string", default: "6" },
      "round-seconds": { type: "string", default: "2" },
    },
  });
  console.log(
    await runtimeBench({
      seconds: Number(values.seconds),
      warmup: Number(values.warmup),
      repeat: Number(values.repeat),
      rounds: Number(values.rounds),
      roundSeconds: Number(values["round-seconds"]),
    }),
  );
}
