/**
 * Benchmarks `POST /api/JournalEntry/_getEntries` for a person with 1,000 entries, 100 concurrent clients
 * from a separate load process, against the devdb in its own process:
 *
 * - full stack: the real server (`src/main.ts`, as `deno task start` runs it): request ids, metrics,
 *   logging, bearer-token auth, body checks, zod validation, the concept query;
 * - concept routes: the routes alone, mounted as the app mounts them (request ids, logging, the error
 *   handler, auth and validation), to tell our layer's cost from the app's metrics and pool watchers;
 * - minimal: a bare `Deno.serve` running the same driver query (same filter, sort, limit, pool size), and
 *   nothing else.
 *
 * They are measured in interleaved rounds (rotating which goes first), so background load on a small
 * machine hits all alike; each keeps its median round, and a ratio is the median of the per-round ratios.
 * Prints a markdown table.
 *
 * Usage: `deno run -P=bench scripts/bench/entries.ts [--seconds 6] [--rounds 5] [--clients 100]`
 *
 * The same file is also the child programs: `--role bare` (the minimal server), `--role routes` (the
 * concept routes alone) and `--role load` (the load generator).
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { scrapeInstances } from "./lib/proc.ts";
import { MongoClient } from "mongodb";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { spawnServer } from "../../tests/helpers/server_process.ts";
import { Hono } from "hono";
import { createConcepts, ensureConceptIndexes, registerUser } from "../../src/concepts/mod.ts";
import { conceptRoutes } from "../../src/server/concepts/mod.ts";
import { errorHandler, requestId } from "../../src/server/request_context.ts";
import { setupLogging } from "../../src/log.ts";

const ENTRIES = 1_000;
const PAGE = 20;
const POOL = 10; // the server's default DB_MAX_POOL_SIZE, given to the minimal handler too
const DB_NAME = "zien_bench";
const SELF = new URL(import.meta.url).pathname;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    role: { type: "string", default: "main" },
    seconds: { type: "string", default: "6" },
    warmup: { type: "string", default: "2" },
    rounds: { type: "string", default: "5" },
    clients: { type: "string", default: "100" },
    url: { type: "string" },
    mongo: { type: "string" },
    user: { type: "string" },
    token: { type: "string" },
  },
});

/** What one load run measured. */
interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU (user + system) per request over the run, warm-up included, µs; set by the orchestrator. */
  cpuPerRequest?: number;
}

// ---- children: the servers of this file --------------------------------------------------------

/** Serves `handler` on a free loopback port, prints its URL as stdout's first line; SIGTERM stops both. */
function serveChild(client: MongoClient, handler: (req: Request) => Response | Promise<Response>): void {
  // The same process figures the full stack's /metrics has, so the orchestrator reads CPU alike for all.
  const figures = () => {
    const { user, system } = process.cpuUsage();
    return `process_cpu_seconds_total ${(user + system) / 1e6}\n` +
      `process_resident_memory_bytes ${Deno.memoryUsage().rss}\n` +
      `process_start_time_seconds ${performance.timeOrigin / 1000}\n`;
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => new URL(req.url).pathname === "/metrics" ? new Response(figures()) : handler(req),
  );
  console.log(`http://127.0.0.1:${server.addr.port}`);
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    await client.close();
    Deno.exit(0);
  });
}

async function connect(): Promise<MongoClient> {
  const client = new MongoClient(args.mongo!, { maxPoolSize: POOL });
  return await client.connect();
}

// The minimal handler: the same driver query as `_getEntries`, and nothing else.
async function bare(): Promise<void> {
  const client = await connect();
  const entries = client.db(DB_NAME).collection("JournalEntry.entries");
  const user = args.user!;
  serveChild(client, async () => {
    const docs = await entries.find({ user }, { sort: { date: -1, _id: -1 }, limit: PAGE }).toArray();
    return Response.json(docs);
  });
}

// The concept routes alone, mounted as the app mounts them (request ids, logging, the error handler; auth
// and validation inside), without the app's metrics and pool watchers.
async function routes(): Promise<void> {
  await setupLogging({ level: "info", format: "json", stream: "stderr" });
  const client = await connect();
  // deno-lint-ignore no-explicit-any
  const app = new Hono<any>();
  app.use(requestId());
  app.route("/", conceptRoutes({ concepts: createConcepts(client.db(DB_NAME)) }));
  app.onError(errorHandler());
  serveChild(client, app.fetch);
}

// ---- child: the load generator --------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function load(): Promise<void> {
  const url = `${args.url}/api/JournalEntry/_getEntries`;
  const init: RequestInit = {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${args.token}` },
    body: JSON.stringify({ limit: PAGE }),
  };
  const clients = Number(args.clients);
  const run = async (ms: number, latencies?: number[]) => {
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const res = await fetch(url, init);
        const body = await res.json();
        if (res.status !== 200 || !Array.isArray(body) || body.length !== PAGE) errors++;
        latencies?.push(performance.now() - started);
      }
    }));
    return errors;
  };
  await run(Number(args.warmup) * 1000);
  const latencies: number[] = [];
  const started = performance.now();
  const errors = await run(Number(args.seconds) * 1000, latencies);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
  console.log(JSON.stringify(result));
}

// ---- the orchestrator -----------------------------------------------------------------------------

async function seed(url: string): Promise<{ user: string; token: string }> {
  const client = new MongoClient(url);
  try {
    const concepts = createConcepts(client.db(DB_NAME));
    await ensureConceptIndexes(concepts);
    const password = crypto.randomUUID();
    const { user } = await registerUser(concepts, { username: "bench", password });
    const day = Temporal.PlainDate.from("2023-01-01");
    const prompts = await concepts.journalPrompt._getActivePrompts({ user });
    for (let i = 0; i < ENTRIES; i++) {
      await concepts.journalEntry.createEntry({
        user,
        reflectionSession: crypto.randomUUID().replaceAll("-", "").slice(0, 24),
        date: day.add({ days: i }).toString(),
        mode: i % 2 ? "phone" : "text",
        responses: prompts.map((p) => ({
          promptId: p._id,
          prompt: p.text,
          text: `Entry ${i}: ${"words ".repeat(30)}`,
        })),
      });
    }
    const { token } = await concepts.userAuth.login({ username: "bench", password });
    return { user, token };
  } finally {
    await client.close();
  }
}

async function runLoad(baseUrl: string, token: string): Promise<LoadResult> {
  const [before] = await scrapeInstances(baseUrl, 1);
  const result = await runLoadOnly(baseUrl, token);
  const [after] = await scrapeInstances(baseUrl, 1);
  // Warm-up requests are not counted in `requests`: scale by the measured rate over the whole run.
  const all = result.rps * (result.seconds + Number(args.warmup));
  result.cpuPerRequest = (after.cpuMicros - before.cpuMicros) / Math.max(1, all);
  return result;
}

async function runLoadOnly(baseUrl: string, token: string): Promise<LoadResult> {
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "-P=bench",
      "--quiet",
      SELF,
      "--role=load",
      `--url=${baseUrl}`,
      `--token=${token}`,
      `--clients=${args.clients}`,
      `--seconds=${args.seconds}`,
      `--warmup=${args.warmup}`,
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success) throw new Error(`load generator failed: ${new TextDecoder().decode(output.stderr)}`);
  return JSON.parse(text.split("\n").at(-1)!);
}

async function spawnChild(
  role: "bare" | "routes",
  mongo: string,
  user: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const child = new Deno.Command("deno", {
    args: ["run", "-P=bench", "--quiet", SELF, `--role=${role}`, `--mongo=${mongo}`, `--user=${user}`],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the ${role} server exited before it listened`);
    text += value;
  }
  reader.releaseLock();
  const drained = child.stdout.cancel().catch(() => {});
  return {
    url: text.slice(0, text.indexOf("\n")),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}

function median(results: LoadResult[]): LoadResult {
  return [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)];
}

async function describeMachine(): Promise<string> {
  let cpu = "";
  try {
    cpu = ", " + ((await Deno.readTextFile("/proc/cpuinfo")).match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "");
  } catch {
    // The bench permission set reads only .data/.
  }
  const when = new Date().toISOString().slice(0, 16).replace("T", " ");
  return `Measured ${when} UTC on ${navigator.hardwareConcurrency} cores${cpu}, ${Deno.build.os} ${Deno.build.arch}, ` +
    `Deno ${Deno.version.deno}; devdb, server and load generator each in their own process.`;
}

/** A server under test. */
interface Target {
  name: string;
  url: string;
  stop(): Promise<void>;
}

async function startTargets(devdbUrl: string, user: string): Promise<Target[]> {
  const full = await spawnServer({
    env: { MONGODB_URL: devdbUrl, DB_NAME, ADMIN_TOKEN: crypto.randomUUID(), LOG_LEVEL: "info" },
    // Its access lines are still written (and drained); parsing each one here would take CPU from the
    // server on a 2-core machine, in its rounds only.
    keepLogs: false,
  });
  const routes = await spawnChild("routes", devdbUrl, user);
  const minimal = await spawnChild("bare", devdbUrl, user);
  return [
    {
      name: "full stack (src/main.ts: + metrics, pool watchers, workers)",
      url: full.baseUrl,
      stop: async () => {
        full.signal("SIGTERM");
        await full.exited;
      },
    },
    { name: "concept routes (request ids, logging, auth, validation)", ...routes },
    { name: "minimal (bare Deno.serve + the same query)", ...minimal },
  ];
}

function table(targets: Target[], results: LoadResult[][], rounds: number, machine: string): string {
  const minimal = results.length - 1;
  const medianRatio = (t: number) => {
    const ratios = results[t].map((r, i) => r.rps / results[minimal][i].rps).sort((a, b) => a - b);
    return { ratio: ratios[Math.floor(ratios.length / 2)], ratios };
  };
  const medianCpu = (t: number) =>
    results[t].map((x) => x.cpuPerRequest ?? NaN).sort((a, b) => a - b)[Math.floor(results[t].length / 2)];
  const cpuMinimal = medianCpu(minimal);
  const rows = targets.map((target, t) => {
    const r = median(results[t]);
    const cpu = medianCpu(t);
    return `| ${target.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${
      r.p99.toFixed(1)
    } | ${r.errors} | ` +
      `${medianRatio(t).ratio.toFixed(2)}x | ${cpu.toFixed(0)} | ${(cpu / cpuMinimal).toFixed(2)}x |`;
  });
  const full = medianRatio(0);
  return [
    `### \`_getEntries\`: ${ENTRIES} entries, ${args.clients} concurrent clients, page of ${PAGE}`,
    "",
    machine,
    `Median of ${rounds} rounds of ${args.seconds} s (after ${args.warmup} s warm-up), the three servers taking ` +
    "turns in rotating order; a ratio is the median of the per-round ratios to the minimal handler.",
    "",
    "| handler | requests/s | p50 ms | p99 ms | errors | ratio to minimal | server CPU µs/req | CPU vs minimal |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    "Server CPU: user + system of the server process over each run (warm-up included, per request of the " +
    "run), from its `/metrics` `process_cpu_seconds_total`; median over the rounds.",
    "",
    `Full stack per-round ratios: ${full.ratios.map((r) => r.toFixed(2)).join(", ")}. ` +
    `Goal: full stack at 0.9x the minimal handler or better: ${full.ratio >= 0.9 ? "met" : "NOT met"}.`,
  ].join("\n");
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const devdb = await spawnDevDb();
  try {
    const { user, token } = await seed(devdb.url);
    const targets = await startTargets(devdb.url, user);
    const results: LoadResult[][] = targets.map(() => []);
    try {
      for (let round = 0; round < rounds; round++) {
        // Rotate who goes first, so a burst of background load does not always land on the same one.
        for (let k = 0; k < targets.length; k++) {
          const t = (round + k) % targets.length;
          results[t].push(await runLoad(targets[t].url, token));
        }
        const line = targets.map((target, t) =>
          `${target.name.split(" ")[0]} ${results[t][round].rps.toFixed(0)}/s`
        );
        console.error(`round ${round + 1}/${rounds}: ${line.join(", ")}`);
      }
    } finally {
      for (const target of targets) await target.stop();
    }
    console.log(table(targets, results, rounds, await describeMachine()));
  } finally {
    await devdb.stop();
  }
}

if (args.role === "bare") await bare();
else if (args.role === "routes") await routes();
else if (args.role === "load") await load();
else await main();
