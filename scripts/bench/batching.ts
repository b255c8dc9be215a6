/**
 * Benchmarks event tracking: 10,000 events through `POST /api/analytics/track` as fast as a separate load
 * process can send them, against the devdb in its own process, in two setups measured in the same run:
 *
 * - batched: the analytics route handing events to a `BatchWriter` (default settings: 50 per insertMany);
 * - one insertOne per event: the same route awaiting `insertOne` for each event (the seeds' pattern).
 *
 * Each setup runs in its own server process (Hono on `Deno.serve`, one MongoClient with maxPoolSize 10),
 * which is stopped with SIGTERM after the load so the batched writer writes its last partial batch.
 * Measured: insert commands (counted by the server process's command monitoring; the devdb's
 * `opcounters.insert` counts documents, as mongod's does), documents stored and distinct, events per second
 * (HTTP-accepted, and stored: load start to the server's exit with everything written), and connections:
 * the most checked out of the pool at once (what tracking holds) and the peak the devdb saw from that
 * server's appName (pool plus monitoring), sampled every 5 ms via `currentOp`.
 *
 * Usage: `deno run -P=bench scripts/bench/batching.ts [--events 10000] [--clients 50] [--rounds 3]
 * [--storage disk|memory]`. Setups run in interleaved rounds; each keeps its median round.
 * (`disk`, the default, gives the devdb a data directory under `.data/tmp/`, as `deno task start` does).
 *
 * The same file is also the child programs: `--role server --mode batched|single` and `--role load`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { MongoClient } from "mongodb";
import { BatchWriter } from "../../src/db/batch/mod.ts";
import { type AnalyticsEvent, analyticsRoutes } from "../../src/server/analytics.ts";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { describeMachine } from "./lib/devdb_report.ts";

const DB_NAME = "zien_bench";
const POOL = 10; // the app's default DB_MAX_POOL_SIZE
const SELF = new URL(import.meta.url).pathname;
const MODES = ["batched", "single", "none"] as const;
type Mode = typeof MODES[number];

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    role: { type: "string", default: "main" },
    mode: { type: "string", default: "batched" },
    events: { type: "string", default: "10000" },
    clients: { type: "string", default: "50" },
    storage: { type: "string", default: "disk" },
    rounds: { type: "string", default: "3" },
    url: { type: "string" },
    mongo: { type: "string" },
  },
});

/** What the server process reports when it stops. */
interface ServerReport {
  /** Epoch ms when everything accepted was in the database (after the writer's close). */
  writtenAt: number;
  insertCommands: number;
  maxCheckedOut: number;
  writer?: ReturnType<BatchWriter<AnalyticsEvent>["stats"]>;
}

/** What the load process measured. */
interface LoadReport {
  /** Epoch ms of the first request. */
  startedAt: number;
  accepted: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

const appName = (mode: string) => `bench-batching-${mode}`;

// ---- child: the server ----------------------------------------------------------------------------

async function server(mode: Mode): Promise<void> {
  const client = new MongoClient(args.mongo!, {
    maxPoolSize: POOL,
    appName: appName(mode),
    monitorCommands: true,
  });
  let insertCommands = 0;
  let checkedOut = 0;
  let maxCheckedOut = 0;
  client.on("commandStarted", (event) => {
    if (event.commandName === "insert") insertCommands++;
  });
  client.on("connectionCheckedOut", () => maxCheckedOut = Math.max(maxCheckedOut, ++checkedOut));
  client.on("connectionCheckedIn", () => checkedOut--);
  await client.connect();
  const collection = client.db(DB_NAME).collection(`analytics_${mode}`);
  const writer = mode === "batched"
    ? new BatchWriter<AnalyticsEvent>(collection, { name: "analytics_events" })
    : undefined;
  writer?.start();
  const sink = writer ?? {
    add: mode === "single"
      ? async (event: AnalyticsEvent) => void await collection.insertOne(event)
      : () => Promise.resolve(),
  };
  const app = new Hono().route("/", analyticsRoutes(sink));
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  console.log(`http://127.0.0.1:${http.addr.port}`);
  Deno.addSignalListener("SIGTERM", async () => {
    await http.shutdown();
    await writer?.close({ deadline: Date.now() + 10_000 });
    const report: ServerReport = {
      writtenAt: Date.now(),
      insertCommands,
      maxCheckedOut,
      writer: writer?.stats(),
    };
    await client.close();
    console.log(JSON.stringify(report));
    Deno.exit(0);
  });
}

// ---- child: the load generator --------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function load(): Promise<void> {
  const url = `${args.url}/api/analytics/track`;
  const total = Number(args.events);
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const startedAt = Date.now();
  const started = performance.now();
  await Promise.all(Array.from({ length: Number(args.clients) }, async () => {
    for (let i = next++; i < total; i = next++) {
      const sent = performance.now();
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "bench.event", properties: { i, source: "load" } }),
      });
      await response.body?.cancel();
      if (response.status === 202) latencies.push(performance.now() - sent);
      else errors++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const report: LoadReport = {
    startedAt,
    accepted: latencies.length,
    errors,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
  console.log(JSON.stringify(report));
}

// ---- the orchestrator -----------------------------------------------------------------------------

async function lines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n")) {
      onLine(text.slice(0, at));
      text = text.slice(at + 1);
    }
  }
}

function child(role: string, extra: string[]): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "-P=bench", "--quiet", SELF, `--role=${role}`, ...extra],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Samples the connections the devdb sees from `app` every 5 ms until stopped; returns the peak. */
function sampleConnections(monitor: MongoClient, app: string): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { inprog } = await monitor.db("admin").command({ currentOp: 1, $all: true });
      peak = Math.max(peak, (inprog as { appName?: string }[]).filter((op) => op.appName === app).length);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

interface Row {
  mode: Mode;
  load: LoadReport;
  server: ServerReport;
  storedSeconds: number;
  documents: number;
  distinct: number;
  opcounterInserts: number;
  peakConnections: number;
}

async function measure(mode: Mode, mongo: string, monitor: MongoClient): Promise<Row> {
  const events = monitor.db(DB_NAME).collection(`analytics_${mode}`);
  await events.deleteMany({});
  const before = await monitor.db("admin").command({ serverStatus: 1 });
  const srv = child("server", [`--mode=${mode}`, `--mongo=${mongo}`]);
  const out: string[] = [];
  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => listening = resolve);
  const reading = lines(
    srv.stdout,
    (line) => out.length === 0 ? (out.push(line), listening(line)) : out.push(line),
  );
  const sampler = sampleConnections(monitor, appName(mode));
  const loader = child("load", [
    `--url=${await url}`,
    `--events=${args.events}`,
    `--clients=${args.clients}`,
  ]);
  const loadOut: string[] = [];
  await Promise.all([lines(loader.stdout, (line) => loadOut.push(line)), loader.status]);
  srv.kill("SIGTERM");
  await Promise.all([srv.status, reading]);
  const peakConnections = await sampler.stop();
  const after = await monitor.db("admin").command({ serverStatus: 1 });
  const ids = await events.distinct("properties.i");
  const loadReport: LoadReport = JSON.parse(loadOut.at(-1)!);
  const serverReport: ServerReport = JSON.parse(out.at(-1)!);
  return {
    mode,
    load: loadReport,
    server: serverReport,
    storedSeconds: (serverReport.writtenAt - loadReport.startedAt) / 1000,
    documents: await events.countDocuments(),
    distinct: ids.length,
    opcounterInserts: Number(after.opcounters.insert) - Number(before.opcounters.insert),
    peakConnections,
  };
}

function median(results: Row[]): Row {
  const speed = (r: Row) => r.load.accepted / r.load.seconds;
  return [...results].sort((a, b) => speed(a) - speed(b))[Math.floor(results.length / 2)];
}

const LABELS: Record<Mode, string> = {
  batched: "batched: BatchWriter, 50 per insertMany",
  single: "one insertOne per event",
  none: "reference: no database write (the HTTP ceiling)",
};

function table(rows: Row[]): string {
  const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
  const rate = (r: Row) => r.documents / r.storedSeconds;
  const out = [
    "| setup | insert commands | stored (distinct) | opcounters.insert | events/s accepted | events/s stored " +
    "| p50 / p99 ms | max checked out | peak server connections | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${LABELS[r.mode]} | ${fmt(r.server.insertCommands)} | ${fmt(r.documents)} (${fmt(r.distinct)}) | ` +
      `${fmt(r.opcounterInserts)} | ${fmt(r.load.accepted / r.load.seconds)} | ` +
      `${r.mode === "none" ? "-" : fmt(rate(r))} | ${fmt(r.load.p50, 1)} / ${fmt(r.load.p99, 1)} | ` +
      `${r.server.maxCheckedOut} | ${r.peakConnections} | ${r.load.errors} |`
    ),
  ];
  const batched = rows.find((r) => r.mode === "batched")!;
  const single = rows.find((r) => r.mode === "single")!;
  const ceiling = rows.find((r) => r.mode === "none");
  const ofCeiling = ceiling ? rate(batched) / (ceiling.load.accepted / ceiling.load.seconds) : NaN;
  out.push(
    "",
    `Insert commands: ${fmt(single.server.insertCommands / batched.server.insertCommands, 1)}x fewer ` +
      `(goal: at least 40x). Stored event rate: ${fmt(rate(batched) / rate(single), 1)}x ` +
      `(goal: at least 5x). Connections tracking held at once, batched: ${batched.server.maxCheckedOut} (goal: 1).` +
      (ceiling
        ? ` Batched events stored against the no-write ceiling: ${
          fmt(ofCeiling, 2)
        }x (goal: at least 0.9x, ` +
          `${ofCeiling >= 0.9 ? "met" : "not met"}).`
        : ""),
  );
  return out.join("\n");
}

async function main(): Promise<void> {
  let dataDir: string | undefined;
  if (args.storage === "disk") {
    await Deno.mkdir(".data/tmp", { recursive: true });
    dataDir = await Deno.makeTempDir({ dir: ".data/tmp", prefix: "bench-batching-" });
  }
  const devdb = await spawnDevDb({ dataDir });
  const monitor = new MongoClient(devdb.url, { appName: "bench-sampler", maxPoolSize: 2 });
  try {
    await monitor.connect();
    // Interleaved rounds, each setup keeping its median round: the machine is shared, so one round can be unlucky.
    const rounds: Row[][] = [];
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const [i, mode] of MODES.entries()) {
        (rounds[i] ??= []).push(await measure(mode, devdb.url, monitor));
      }
    }
    const rows = rounds.map((results) => median(results));
    const storage = dataDir ? "the devdb journaling to a data directory" : "an in-memory devdb";
    const setup = `${args.events} events, ${args.clients} concurrent HTTP clients, ${storage}.`;
    console.log(`${await describeMachine()}\n${setup} Median of ${args.rounds} interleaved rounds.\n`);
    console.log(table(rows));
  } finally {
    await monitor.close();
    await devdb.stop();
    if (dataDir) await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  if (args.role === "server") await server(args.mode as Mode);
  else if (args.role === "load") await load();
  else await main();
}
