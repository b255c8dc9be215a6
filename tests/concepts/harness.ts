/**
 * Test harness for the concepts: a fresh embedded database, a driver client, the concepts over it with their
 * indexes, and a clock the test moves by hand.
 *
 * @module
 */
import type { MongoClientOptions } from "mongodb";
import { type TestDb, testDb } from "../helpers/db.ts";
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

/** What a test gets: the database fixture, a clock and the concepts over it. */
export interface ConceptHarness extends TestDb {
  clock: ManualClock;
  concepts: Concepts;
}

/** Starts a database and the concepts over it. `tokenCacheMs` defaults to 0 so tests see every change. */
export async function openConcepts(
  options: { tokenCacheMs?: number; clientOptions?: MongoClientOptions } = {},
): Promise<ConceptHarness> {
  const fixture = await testDb({ dbName: "zien_test", client: options.clientOptions });
  const clock = new ManualClock();
  const concepts = createConcepts(fixture.db, { now: clock.now, tokenCacheMs: options.tokenCacheMs ?? 0 });
  try {
    await ensureConceptIndexes(concepts);
  } catch (err) {
    await fixture.close();
    throw err;
  }
  return { ...fixture, clock, concepts };
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
