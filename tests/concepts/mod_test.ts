import assert from "node:assert/strict";
import { ensureConceptIndexes } from "../../src/concepts/mod.ts";
import { openConcepts } from "./harness.ts";

const CONCEPTS = [
  "UserAuth",
  "Profile",
  "JournalPrompt",
  "CallWindow",
  "ReflectionSession",
  "CallScheduler",
  "JournalEntry",
];

Deno.test("ensureConceptIndexes is idempotent and every collection carries its concept's name", async () => {
  const h = await openConcepts(); // has run ensureConceptIndexes once already
  try {
    const indexes = async () => {
      const names = (await h.db.listCollections().toArray()).map((c) => c.name).sort();
      return await Promise.all(names.map(async (name) => ({
        name,
        indexes: (await h.db.collection(name).listIndexes().toArray()).map((i) => i.name).sort(),
      })));
    };
    const first = await indexes();
    await ensureConceptIndexes(h.concepts);
    await ensureConceptIndexes(h.concepts);
    assert.deepEqual(await indexes(), first);
    for (const { name, indexes } of first) {
      assert.ok(CONCEPTS.includes(name.split(".")[0]), `${name} is not prefixed by a concept name`);
      assert.ok(indexes.length >= 1);
    }
    for (const concept of CONCEPTS.filter((c) => c !== "Profile")) {
      assert.ok(first.some((c) => c.name.startsWith(`${concept}.`)), `${concept} made no indexes`);
    }
  } finally {
    await h.close();
  }
});
