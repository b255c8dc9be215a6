/**
 * The one database fixture: an embedded devdb and a driver client over a real socket, both closed when the
 * test's scope ends (`await using`). Every harness that needs a database builds on it.
 *
 * @example
 * ```ts
 * await using fixture = await testDb();
 * await fixture.db.collection("notes").insertOne({ text: "hello" });
 * ```
 *
 * @module
 */
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { type DevDb, type DevDbOptions, startDevDb } from "../../src/devdb/mod.ts";

/** A running devdb, a client on it and one database, disposed in that order: the client, then the server. */
export interface TestDb extends AsyncDisposable {
  server: DevDb;
  client: MongoClient;
  db: Db;
  /** Closes the client, then the server; safe to call twice. */
  close(): Promise<void>;
}

/** Options for `testDb`. */
export interface TestDbOptions {
  /** The database's name. @default "test" */
  dbName?: string;
  devdb?: DevDbOptions;
  client?: MongoClientOptions;
  /** The address the client dials, from the started server (e.g. by host name). @default server.url */
  url?: (server: DevDb) => string;
}

/** Starts a fresh devdb and a client on it. */
export async function testDb(options: TestDbOptions = {}): Promise<TestDb> {
  const server = await startDevDb(options.devdb);
  const client = new MongoClient(options.url?.(server) ?? server.url, {
    serverSelectionTimeoutMS: 5_000,
    ...options.client,
  });
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      try {
        await client.close();
      } finally {
        await server.stop();
      }
    })();
  return { server, client, db: client.db(options.dbName ?? "test"), close, [Symbol.asyncDispose]: close };
}
