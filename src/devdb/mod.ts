/**
 * An embedded MongoDB-compatible server for development and tests: the official `mongodb` driver
 * connects to it over real TCP sockets.
 *
 * @example
 * ```ts
 * import { MongoClient } from "mongodb";
 * import { startDevDb } from "./src/devdb/mod.ts";
 *
 * const db = await startDevDb();
 * const client = new MongoClient(db.url);
 * await client.db("app").collection("notes").insertOne({ text: "hello" });
 * await client.close();
 * await db.stop();
 * ```
 * @module
 */
export { startDevDb } from "./server.ts";
export type {
  DevDb,
  DevDbAtlasM0Options,
  DevDbMember,
  DevDbOptions,
  DevDbReplicaSetOptions,
  DevDbRole,
  DevDbStats,
  DevDbUser,
  DevDbWorkerRequest,
  DevDbWorkerResponse,
} from "./types.ts";
