/**
 * Test harness for the concepts: a fresh embedded database, a driver client, the concepts over it with their
 * indexes, and a clock the test moves by hand.
 *
 * @module
 */
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { type DevDb, startDevDb } from "../../src/devdb/mod.ts";
import { type Concepts, createConcepts, ensureConceptIndexes } from "../../src/concepts/mod.ts";

/** A clock that only moves when told to. */
export class ManualClock {
  #ms: number;

  constructor(start = "2025-06-02T08:00:00Z") {
    this.#ms = Date.parse(start);
  }

  /** The current time; pass as `now`. */
  readonly now = (): Date => new Date(this.#ms);

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.#ms += ms;
  }

  /** Jumps to an instant. */
  set(iso: string): void {
    this.#ms = Date.parse(iso);
  }
}

/** What a test gets. */
export interface ConceptHarness {
  server: DevDb;
  client: MongoClient;
  db: Db;
  clock: ManualClock;
  concepts: Concepts;
  /** Closes the client, then the server. */
  close(): Promise<void>;
}

/** Starts a database and the concepts over it. `tokenCacheMs` defaults to 0 so tests see every change. */
export async function openConcepts(
  options: { tokenCacheMs?: number; clientOptions?: MongoClientOptions } = {},
): Promise<ConceptHarness> {
  const server = await startDevDb();
  const client = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000, ...options.clientOptions });
  const db = client.db("zien_test");
  const clock = new ManualClock();
  const concepts = createConcepts(db, { now: clock.now, tokenCacheMs: options.tokenCacheMs ?? 0 });
  await ensureConceptIndexes(concepts);
  return {
    server,
    client,
    db,
    clock,
    concepts,
    async close() {
      await client.close();
      await server.stop();
    },
  };
}

/** Runs `body` and returns the ConceptError it throws, failing if it throws nothing or something else. */
export async function refusal(body: () => Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await body();
  } catch (err) {
    const e = err as { name?: string; kind?: string; message: string };
    if (e.name !== "ConceptError") throw err;
    return { kind: e.kind!, message: e.message };
  }
  throw new Error("expected a ConceptError, but the action succeeded");
}
