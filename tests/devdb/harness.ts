/**
 * Test harness: an embedded server and a driver client, both closed when the test body ends.
 *
 * @module
 */
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { type DevDb, type DevDbOptions, startDevDb } from "../../src/devdb/mod.ts";

/** What a test body gets. */
export interface Harness {
  server: DevDb;
  client: MongoClient;
  db: Db;
}

/** Runs `body` against a fresh server and client, closing both afterwards. */
export async function withDevDb(
  body: (harness: Harness) => Promise<void>,
  options: DevDbOptions = {},
  clientOptions: MongoClientOptions = {},
): Promise<void> {
  const server = await startDevDb(options);
  const client = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000, ...clientOptions });
  try {
    await body({ server, client, db: client.db("test") });
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A fresh directory under `.data/tmp/` (the only place tests may write). */
export async function tempDataDir(): Promise<string> {
  await Deno.mkdir(".data/tmp", { recursive: true });
  return await Deno.makeTempDir({ dir: ".data/tmp", prefix: "devdb-" });
}

/** A document whose `_id` is a number or a string, for tests that choose their ids. */
// deno-lint-ignore no-explicit-any
export type AnyDoc = { _id: number | string; [field: string]: any };
