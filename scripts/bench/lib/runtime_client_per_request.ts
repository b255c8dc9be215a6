/**
 * Bench-only server for setup (c) of the runtime benchmark: a new MongoClient for every request, at the
 * driver's defaults (maxPoolSize 100, minPoolSize 0), closed before the response goes out — the
 * `getDb()`-per-call pattern behind the seeds' incidents. It answers the same `_getEntries` request as the
 * real server (token by SHA-256 in `UserAuth.tokens`, cached 5 s in this process, then one entries find).
 *
 * Usage (a child of `scripts/bench/runtime.ts`):
 * `deno run -P=bench scripts/bench/lib/runtime_client_per_request.ts --mongo URL --db NAME`
 *
 * @module
 */
import { MongoClient } from "mongodb";
import { argument, EntriesFinder, serveBench } from "./runtime_find.ts";

/** The appName its clients send, so the server's view can count exactly these connections. */
export const CLIENT_PER_REQUEST_APP = "bench-client-per-request";

if (import.meta.main) {
  const url = argument("mongo");
  const dbName = argument("db");
  const finder = new EntriesFinder();
  const open = new Set<MongoClient>();
  serveBench({
    async handle(request) {
      const client = new MongoClient(url, { appName: CLIENT_PER_REQUEST_APP });
      open.add(client);
      try {
        await client.connect();
        return await finder.answer(request, client.db(dbName));
      } finally {
        open.delete(client);
        await client.close();
      }
    },
    close: async () => void await Promise.allSettled([...open].map((c) => c.close())),
  });
}
