import assert from "node:assert/strict";
import { newId } from "../../src/concepts/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

Deno.test("JournalEntry", async (t) => {
  const h = await openConcepts();
  const entries = h.concepts.journalEntry;
  const user = newId();
  const make = (date: string, session = newId()) =>
    entries.createEntry({
      user,
      reflectionSession: session,
      date,
      mode: "text",
      responses: [{ promptId: newId(), prompt: "How was it?", text: `On ${date}` }],
    });
  try {
    await t.step("one entry per session, however often and however concurrently it is made", async () => {
      const session = newId();
      const results = await Promise.all(Array.from({ length: 8 }, () => make("2025-05-01", session)));
      const ids = new Set(results.map((r) => r.entry));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(
        await h.db.collection("JournalEntry.entries").countDocuments({ reflectionSession: session }),
        1,
      );
    });

    // 30 more: two per day for 15 days in May, made in shuffled order.
    const days = Array.from({ length: 15 }, (_, i) => `2025-05-${String(i + 2).padStart(2, "0")}`);
    const plan = [...days, ...days].sort(() => Math.random() - 0.5);
    for (const date of plan) await make(date);

    await t.step("_getEntries pages newest first, with no gaps and no repeats", async () => {
      const seen: { date: string; _id: string }[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await entries._getEntries({ user, limit: 7, after });
        seen.push(...page);
        if (page.length < 7) break;
        after = page.at(-1)!.cursor;
      }
      assert.equal(seen.length, 31);
      assert.equal(new Set(seen.map((e) => e._id)).size, 31);
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [seen[i - 1], seen[i]];
        assert.ok(a.date > b.date || (a.date === b.date && a._id > b._id), `order at ${i}`);
      }
      assert.equal(seen[0].date, "2025-05-16");
    });

    await t.step("_getEntries between dates, inclusive, and paging within them", async () => {
      const first = await entries._getEntries({ user, from: "2025-05-03", to: "2025-05-05", limit: 4 });
      assert.deepEqual(first.map((e) => e.date), ["2025-05-05", "2025-05-05", "2025-05-04", "2025-05-04"]);
      const rest = await entries._getEntries({
        user,
        from: "2025-05-03",
        to: "2025-05-05",
        limit: 4,
        after: first[3].cursor,
      });
      assert.deepEqual(rest.map((e) => e.date), ["2025-05-03", "2025-05-03"]);
      assert.ok(!("user" in first[0]));
    });

    await t.step("_getEntryForDate", async () => {
      const got = await entries._getEntryForDate({ user, date: "2025-05-10" });
      assert.equal(got.length, 2);
      assert.ok(got.every((e) => e.responses[0].text === "On 2025-05-10"));
      assert.deepEqual(await entries._getEntryForDate({ user, date: "2025-04-10" }), []);
    });

    await t.step("someone else's entries: invisible and undeletable", async () => {
      const stranger = newId();
      const [mine] = await entries._getEntries({ user, limit: 1 });
      assert.deepEqual(await entries._getEntries({ user: stranger, limit: 100 }), []);
      assert.equal(
        (await refusal(() => entries._getEntry({ user: stranger, entry: mine._id }))).kind,
        "not_found",
      );
      assert.equal(
        (await refusal(() => entries.deleteEntry({ user: stranger, entry: mine._id }))).kind,
        "not_found",
      );
      assert.equal((await entries._getEntry({ user, entry: mine._id }))[0]._id, mine._id);
    });

    await t.step("deleteEntry", async () => {
      const [mine] = await entries._getEntries({ user, limit: 1 });
      await entries.deleteEntry({ user, entry: mine._id });
      assert.equal((await refusal(() => entries._getEntry({ user, entry: mine._id }))).kind, "not_found");
      assert.equal((await entries._getEntries({ user, limit: 100 })).length, 30);
    });
  } finally {
    await h.close();
  }
});
