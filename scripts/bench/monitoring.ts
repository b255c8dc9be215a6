/**
 * What watching the pool costs: the same workload (8 concurrent findOne-by-_id loops) through three clients
 * against one devdb in its own process, in alternating rounds:
 *
 * - off: a plain client, as the driver comes;
 * - driver command monitoring only: `monitorCommands: true` and nothing attached, to show what the driver
 *   itself spends on building command events;
 * - on: `monitorCommands: true` with the PoolMonitor (timers started) and the Prometheus metrics attached,
 *   and a scrape after every round.
 *
 * Prints a markdown table of ops/s and of this process's CPU time per operation, with ratios to "off". The
 * issue's goal: throughput with monitoring on within 3% of off. CPU time per operation is the steadier
 * figure on a shared machine: ops/s moves with whatever else runs, while the work this process does per
 * operation is what monitoring adds to.
 *
 * Last, the driver events of 2,000 real operations are recorded and replayed into a fresh PoolMonitor with
 * metrics, with no I/O: the cost of this project's own handlers alone, in microseconds per operation.
 *
 * Usage: `deno run -P=bench scripts/bench/monitoring.ts [--seconds 2] [--rounds 10]`
 *
 * @module
 */
import process from "node:process";
import { EventEmitter } from "node:events";
import { MongoClient, ObjectId } from "mongodb";
import { PoolMonitor } from "../../src/db/pool/mod.ts";
import { createMetrics } from "../../src/server/metrics/mod.ts";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { describeMachine } from "./lib/devdb_report.ts";

const CONCURRENCY = 8;
const MAX_POOL_SIZE = 10;
const SEED = 1_000;

function numberArg(name: string, fallback: number): number {
  const at = Deno.args.indexOf(name);
  const value = at >= 0 ? Number(Deno.args[at + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const ids = Array.from({ length: SEED }, () => new ObjectId());

/** One timed round: throughput, and this process's CPU microseconds (user + system) per operation. */
interface Round {
  opsPerSecond: number;
  cpuMicrosPerOp: number;
}

/** Runs CONCURRENCY findOne loops for `seconds`, after a short warm-up. */
async function findOneLoops(client: MongoClient, seconds: number): Promise<Round> {
  const docs = client.db("bench").collection("docs");
  const loops = async (until: number, each: () => void) => {
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let i = c; performance.now() < until; i += CONCURRENCY) {
        await docs.findOne({ _id: ids[i % SEED] });
        each();
      }
    }));
  };
  await loops(performance.now() + 200, () => {});
  let done = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await loops(start + seconds * 1000, () => done++);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { opsPerSecond: done / elapsed, cpuMicrosPerOp: (cpu.user + cpu.system) / done };
}

interface Variant {
  name: string;
  client: MongoClient;
  rounds: Round[];
  /** Per-round work the variant does in production (a Prometheus scrape). */
  afterRound?: () => Promise<unknown>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const percent = (ratio: number) => `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)}%`;
const medianOps = (v: Variant) => median(v.rounds.map((r) => r.opsPerSecond));
const medianCpu = (v: Variant) => median(v.rounds.map((r) => r.cpuMicrosPerOp));

function table(variants: Variant[]): string {
  const [off] = variants;
  const rows = variants.map((v) => {
    const ops = v.rounds.map((r) => r.opsPerSecond);
    const opsRatio = medianOps(v) / medianOps(off);
    const cpuRatio = medianCpu(v) / medianCpu(off);
    return `| ${v.name} | ${fmt(medianOps(v))} | ${fmt(Math.min(...ops))} to ${fmt(Math.max(...ops))} | ` +
      `${opsRatio.toFixed(3)} (${percent(opsRatio)}) | ${medianCpu(v).toFixed(1)} | ` +
      `${cpuRatio.toFixed(3)} (${percent(cpuRatio)}) |`;
  });
  return [
    "| client | median ops/s | range ops/s | ops/s vs off | median client CPU µs/op | CPU/op vs off |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

const WATCHED_EVENTS = [
  "connectionCheckOutStarted",
  "connectionCheckedOut",
  "connectionCheckedIn",
  "commandStarted",
  "commandSucceeded",
];

/** Records the driver events of `operations` findOnes, then times their replay into a monitor with metrics. */
async function replayCost(url: string, operations: number): Promise<{ eventsPerOp: number; micros: number }> {
  const recorder = new MongoClient(url, { maxPoolSize: MAX_POOL_SIZE, monitorCommands: true });
  const events: [string, unknown][] = [];
  for (const name of WATCHED_EVENTS) recorder.on(name, (event) => events.push([name, event]));
  try {
    const docs = recorder.db("bench").collection("docs");
    await docs.findOne({}); // connect outside the recording
    events.length = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let i = c; i < operations; i += CONCURRENCY) await docs.findOne({ _id: ids[i % SEED] });
    }));
  } finally {
    await recorder.close();
  }
  // The monitor reads only on/off and options.monitorCommands of its client.
  const emitter = Object.assign(new EventEmitter(), { options: { monitorCommands: true } });
  const monitor = new PoolMonitor(emitter as unknown as MongoClient, {
    maxPoolSize: MAX_POOL_SIZE,
    leakThresholdMs: 30_000,
    logIntervalMs: 60_000,
  });
  const metrics = createMetrics({ pool: monitor });
  const replays = 50;
  const cpuBefore = process.cpuUsage();
  for (let r = 0; r < replays; r++) for (const [name, event] of events) emitter.emit(name, event);
  const cpu = process.cpuUsage(cpuBefore);
  metrics.close();
  monitor.stop();
  return {
    eventsPerOp: events.length / operations,
    micros: (cpu.user + cpu.system) / (replays * operations),
  };
}

async function main(): Promise<void> {
  const seconds = numberArg("--seconds", 2);
  const rounds = numberArg("--rounds", 10);
  const server = await spawnDevDb();
  const client = (appName: string, monitorCommands: boolean) =>
    new MongoClient(server.url, { maxPoolSize: MAX_POOL_SIZE, appName, monitorCommands });
  const plain = client("bench-monitoring-off", false);
  const eventsOnly = client("bench-command-events", true);
  const watched = client("bench-monitoring-on", true);
  const monitor = new PoolMonitor(watched, {
    maxPoolSize: MAX_POOL_SIZE,
    leakThresholdMs: 30_000,
    logIntervalMs: 60_000,
  });
  const metrics = createMetrics({ pool: monitor });
  const clients = [plain, eventsOnly, watched];
  try {
    monitor.start();
    await Promise.all(clients.map((c) => c.connect()));
    await plain.db("bench").collection("docs").insertMany(
      ids.map((_id, i) => ({ _id, i, text: "x".repeat(200) })),
    );

    const variants: Variant[] = [
      { name: "off: plain client", client: plain, rounds: [] },
      { name: "driver command monitoring only", client: eventsOnly, rounds: [] },
      {
        name: "on: PoolMonitor + metrics (+ command monitoring)",
        client: watched,
        rounds: [],
        afterRound: () => metrics.registry.metrics(),
      },
    ];
    // ABC then CBA, so drift over the run (other work on the machine) falls on every variant alike.
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        variant.rounds.push(await findOneLoops(variant.client, seconds));
        await variant.afterRound?.();
      }
      const line = variants.map((v) => `${fmt(v.rounds.at(-1)!.opsPerSecond)}`).join(" / ");
      console.error(`round ${round + 1}/${rounds}: ${line} ops/s`);
    }
    console.log(await describeMachine());
    console.log(
      `Workload: ${CONCURRENCY} concurrent findOne-by-_id loops, maxPoolSize ${MAX_POOL_SIZE}, ${rounds} ` +
        `alternating rounds of ${seconds} s per client.\n`,
    );
    console.log(table(variants));
    const replay = await replayCost(server.url, 2_000);
    console.log(
      `\nThis project's handlers alone (real driver events of 2,000 findOnes, ${
        replay.eventsPerOp.toFixed(1)
      } per operation, replayed 50 times into a PoolMonitor with metrics, no I/O): ` +
        `${replay.micros.toFixed(2)} µs of CPU per operation, against ${
          medianCpu(variants[0]).toFixed(0)
        } µs per findOne for the plain client.`,
    );
    const s = monitor.snapshot();
    console.log(
      `\nThe monitored client counted ${fmt(s.checkouts)} checkouts and ${
        fmt(s.commands.succeeded)
      } commands ` +
        `over ${s.connectionsCreated} connections; checkout wait p50 ${s.checkoutWaitMs.p50} ms, ` +
        `p99 ${s.checkoutWaitMs.p99} ms.`,
    );
  } finally {
    metrics.close();
    await Promise.all(clients.map((c) => c.close()));
    monitor.stop();
    await server.stop();
  }
}

if (import.meta.main) await main();
