/**
 * The one request the runtime benchmark's bench-only servers answer, done as the real server does it for
 * `POST /api/JournalEntry/_getEntries`: the bearer token's SHA-256 looked up in `UserAuth.tokens` (cached in
 * this process for 5 s, as UserAuth caches it, so a warm request is one find), then one find on
 * `JournalEntry.entries`, newest first. Also the small `Deno.serve` wrapper both bench-only servers share.
 *
 * @module
 */
import process from "node:process";
import type { Db } from "mongodb";
import { hashToken } from "../../../src/concepts/UserAuth/tokens.ts";

/** UserAuth's token cache lifetime; the bench servers keep theirs for as long. */
export const TOKEN_CACHE_MS = 5_000;
const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;
const NEWEST_FIRST = { date: -1, _id: -1 } as const;

/** Answers `_getEntries` against whichever `Db` the caller hands it (shared, or made for this request). */
export class EntriesFinder {
  readonly #cache = new Map<string, { user: string; until: number }>();

  /** The response for one request, reading through `db`. */
  async answer(request: Request, db: Db): Promise<Response> {
    const token = BEARER.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token) return Response.json({ error: "unauthorized" }, { status: 401 });
    const input = await request.json().catch(() => ({})) as { limit?: unknown };
    const limit = typeof input.limit === "number" ? Math.min(100, Math.max(1, input.limit)) : 20;
    const user = await this.#user(token, db);
    if (!user) return Response.json({ error: "unauthorized" }, { status: 401 });
    const docs = await db.collection("JournalEntry.entries")
      .find({ user }, { sort: NEWEST_FIRST, limit })
      .toArray();
    // The same view the concept returns: no owner, a cursor to continue after.
    return Response.json(
      docs.map(({ user: _user, ...rest }) => ({ ...rest, cursor: `${rest.date}_${rest._id}` })),
    );
  }

  async #user(token: string, db: Db): Promise<string | undefined> {
    const id = await hashToken(token);
    const now = Date.now();
    const cached = this.#cache.get(id);
    if (cached && cached.until > now) return cached.user;
    const doc = await db.collection<{ _id: string; user: string }>("UserAuth.tokens").findOne(
      { _id: id },
      { projection: { user: 1 } },
    );
    if (!doc) return undefined;
    this.#cache.set(id, { user: doc.user, until: now + TOKEN_CACHE_MS });
    return doc.user;
  }
}

/** A bench-only server's request handler, and what to close when it is told to stop. */
export interface BenchServerParts {
  handle(request: Request): Promise<Response>;
  /** Extra routes, by path (GET `/metrics` for the monitored variant). */
  routes?: Record<string, () => Promise<Response>>;
  close(): Promise<void>;
}

/**
 * Serves `parts` on a free loopback port, prints the URL as the first stdout line (the parent reads it),
 * answers `GET /_bench/stats` with this process's CPU time and request count (CPU per request is steadier
 * than req/s on a shared machine), and exits 0 on SIGTERM after the requests in flight are answered.
 */
export function serveBench(parts: BenchServerParts): void {
  let requests = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => console.log(`http://127.0.0.1:${addr.port}`),
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/_bench/stats") {
      const cpu = process.cpuUsage();
      return Response.json({ cpuMicros: cpu.user + cpu.system, requests });
    }
    const route = parts.routes?.[path];
    if (route) return await route();
    requests++;
    try {
      return await parts.handle(request);
    } catch (err) {
      // Counted by the load generator as an HTTP 500; the name says which failure it was.
      return Response.json({ error: err instanceof Error ? err.name : String(err) }, { status: 500 });
    }
  });
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    await parts.close();
    Deno.exit(0);
  });
}

/** Reads `--name value` from the command line, failing loudly when a required one is missing. */
export function argument(name: string, fallback?: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  const value = at >= 0 ? Deno.args[at + 1] : fallback;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}
