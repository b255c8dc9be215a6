/**
 * The runtime benchmarks' data: the signed-up person's journal entries, so each find returns real documents.
 *
 * @module
 */
import type { Db } from "mongodb";
import { JournalEntry } from "../../../src/concepts/JournalEntry/mod.ts";
import { hashToken } from "../../../src/concepts/UserAuth/tokens.ts";

/** Gives the signed-up person `count` entries, so each find returns a full page of real documents. */
export async function seedEntries(db: Db, token: string, count: number): Promise<void> {
  const doc = await db.collection<{ _id: string; user: string }>("UserAuth.tokens")
    .findOne({ _id: await hashToken(token) });
  if (!doc) throw new Error("the bench user's token is not in UserAuth.tokens");
  const entries = new JournalEntry(db);
  for (let i = 0; i < count; i++) {
    const day = new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    await entries.createEntry({
      user: doc.user,
      reflectionSession: `bench-session-${i}`,
      date: day,
      mode: "call",
      responses: [{ promptId: "p1", prompt: "What went well today?", text: "x".repeat(200) }],
      rating: 4,
    });
  }
}
