/**
 * Benchmarks the embedded server through the official driver: ping (the protocol floor), insertOne,
 * findOne by `_id`, findOne by an indexed field and updateOne, with 1 and 8 concurrent clients, in
 * memory and with a dataDir, all in one run. Prints a markdown table of ops/s and ratios to ping.
 *
 * Usage: `deno run -P=bench scripts/bench/devdb.ts [--seconds N] [--rounds N]` (N seconds per operation,
 * split over N interleaved rounds; the best round counts).
 *
 * @module
 */
import { MongoClient, ObjectId } from "mongodb";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { type Operation, opsPerSecond } from "./lib/devdb_measure.ts";
import { describeMachine, markdownTable, type Result } from "./lib/devdb_report.ts";

const SEED = 1_000;
const CONCURRENCY = [1, 8];
// Each operation is measured in interleaved rounds and its best round is kept, so a burst of background
// load on a small machine does not land on one operation only.
const DEFAULT_ROUNDS = 5;

function numberArg(flag: string, fallback: number): number {
  const at = Deno.args.indexOf(flag);
  const value = at >= 0 ? Number(Deno.args[at + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const ids = Array.from({ length: SEED }, () => new ObjectId());
const coll = (client: MongoClient) => client.db("bench").collection("docs");

const OPERATIONS: [string, Operation][] = [
  ["ping", (client) => client.db("admin").command({ ping: 1 })],
  [
    "insertOne",
    (client, i) => client.db("bench").collection("inserts").insertOne({ i, text: "x".repeat(100) }),
  ],
  ["findOne by _id", (client, i) => coll(client).findOne({ _id: ids[i % SEED] })],
  ["findOne by indexed field", (client, i) => coll(client).findOne({ email: `user${i % SEED}@example.com` })],
  ["updateOne by _id", (client, i) => coll(client).updateOne({ _id: ids[i % SEED] }, { $inc: { n: 1 } })],
];

async function seed(url: string): Promise<void> {
  const client = new MongoClient(url);
  try {
    await coll(client).createIndex({ email: 1 }, { unique: true });
    await coll(client).insertMany(ids.map((_id, i) => ({ _id, email: `user${i}@example.com`, n: 0 })));
  } finally {
    await client.close();
  }
}

async function measure(
  storage: Result["storage"],
  dataDir: string | undefined,
  seconds: number,
  rounds: number,
): Promise<Result[]> {
  const server = await spawnDevDb({ dataDir });
  const results: Result[] = [];
  try {
    await seed(server.url);
    for (const clients of CONCURRENCY) {
      const pool = Array.from({ length: clients }, () => new MongoClient(server.url, { maxPoolSize: 1 }));
      try {
        // Warm the server's JIT on every path first, so that ping (measured first) is not measured cold.
        for (const [, run] of OPERATIONS) await opsPerSecond(pool, run, 0.3);
        const best = new Map<string, number>();
        for (let round = 0; round < rounds; round++) {
          for (const [operation, run] of OPERATIONS) {
            const rate = await opsPerSecond(pool, run, seconds / rounds);
            best.set(operation, Math.max(best.get(operation) ?? 0, rate));
          }
        }
        const ping = best.get("ping")!;
        for (const [operation, rate] of best) {
          results.push({ storage, operation, clients, opsPerSecond: rate, ratioToPing: rate / ping });
          console.error(`${storage} ${clients} client(s) ${operation}: ${Math.round(rate)} ops/s`);
        }
      } finally {
        await Promise.all(pool.map((client) => client.close()));
      }
    }
  } finally {
    await server.stop();
  }
  return results;
}

if (import.meta.main) {
  const seconds = numberArg("--seconds", 3);
  const rounds = numberArg("--rounds", DEFAULT_ROUNDS);
  await Deno.mkdir(".data/tmp", { recursive: true });
  const dataDir = await Deno.makeTempDir({ dir: ".data/tmp", prefix: "bench-devdb-" });
  try {
    const results = [
      ...await measure("memory", undefined, seconds, rounds),
      ...await measure("dataDir", dataDir, seconds, rounds),
    ];
    console.log(await describeMachine());
    console.log();
    console.log(markdownTable(results));
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}
