/**
 * Test harness: the shared database fixture (`tests/helpers/db.ts`) around a test body.
 *
 * @module
 */
import type { Db, MongoClient, MongoClientOptions } from "mongodb";
import type { DevDb, DevDbOptions } from "../../src/devdb/mod.ts";
import { testDb } from "../helpers/db.ts";

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
  await using fixture = await testDb({ devdb: options, client: clientOptions });
  await body(fixture);
}

/** A fresh directory under `.data/tmp/` (the only place tests may write). */
export async function tempDataDir(): Promise<string> {
  await Deno.mkdir(".data/tmp", { recursive: true });
  return await Deno.makeTempDir({ dir: ".data/tmp", prefix: "devdb-" });
}

/** A document whose `_id` is a number or a string, for tests that choose their ids. */
// deno-lint-ignore no-explicit-any
export type AnyDoc = { _id: number | string; [field: string]: any };
