/**
 * The database the call-worker tests share: the one fixture (`tests/helpers/db.ts`), the concepts over it with
 * their indexes, and the calls collection the workers claim from.
 *
 * @module
 */
import type { Collection } from "mongodb";
import { type Concepts, createConcepts, ensureConceptIndexes } from "../../src/concepts/mod.ts";
import type { CallDoc } from "../../src/concepts/CallScheduler/mod.ts";
import { type TestDb, testDb } from "../helpers/db.ts";

/** The fixture plus the concepts and the calls collection; disposing it closes the client, then the devdb. */
export interface CallsDb extends TestDb {
  concepts: Concepts;
  calls: Collection<CallDoc>;
}

/** Opens a fresh devdb with the concepts on `dbName`; `now` is the concepts' clock (default: the real one). */
export async function openCallsDb(options: { dbName: string; now?: () => Date }): Promise<CallsDb> {
  const fixture = await testDb({ dbName: options.dbName });
  const concepts = createConcepts(fixture.db, { tokenCacheMs: 0, now: options.now });
  try {
    await ensureConceptIndexes(concepts);
  } catch (err) {
    await fixture.close();
    throw err;
  }
  return { ...fixture, concepts, calls: fixture.db.collection<CallDoc>("CallScheduler.calls") };
}
