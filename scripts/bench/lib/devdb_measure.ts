/**
 * Timing loops for the devdb benchmark: N clients each running one operation back to back.
 *
 * @module
 */
import type { MongoClient } from "mongodb";

/** One benchmarked operation; `i` is a per-call counter for picking keys. */
export type Operation = (client: MongoClient, i: number) => Promise<unknown>;

/** Runs `operation` on every client concurrently for `seconds` and returns operations per second. */
export async function opsPerSecond(
  clients: MongoClient[],
  operation: Operation,
  seconds: number,
): Promise<number> {
  // Warm up connections and JIT so the timed window measures the steady state.
  const warmupEnd = performance.now() + Math.min(300, seconds * 200);
  await Promise.all(clients.map(async (client, c) => {
    for (let i = c; performance.now() < warmupEnd; i += clients.length) await operation(client, i);
  }));
  let done = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(clients.map(async (client, c) => {
    for (let i = c * 1_000_000; performance.now() < end; i++) {
      await operation(client, i);
      done++;
    }
  }));
  return done / ((performance.now() - start) / 1000);
}
