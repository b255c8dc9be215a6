import assert from "node:assert/strict";
import { newId } from "../../src/concepts/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

Deno.test("ReflectionSession", async (t) => {
  const h = await openConcepts();
  const sessions = h.concepts.reflectionSession;
  const user = newId();
  const stranger = newId();
  const p1 = { promptId: newId(), text: "What went well?" };
  const p2 = { promptId: newId(), text: "What is next?" };
  const start = async () => (await sessions.startSession({ user, mode: "text", prompts: [p1, p2] })).session;
  try {
    await t.step("needs at least one prompt", async () => {
      assert.equal(
        (await refusal(() => sessions.startSession({ user, mode: "text", prompts: [] }))).kind,
        "invalid",
      );
    });

    await t.step("records answers (the latest one wins) only for the session's prompts", async () => {
      const session = await start();
      await sessions.recordResponse({ user, session, promptId: p1.promptId, text: "first try" });
      await sessions.recordResponse({ user, session, promptId: p1.promptId, text: "A walk in the sun." });
      const err = await refusal(() =>
        sessions.recordResponse({ user, session, promptId: newId(), text: "x" })
      );
      assert.equal(err.kind, "invalid");
      const [got] = await sessions._getSession({ user, session });
      assert.equal(got.status, "IN_PROGRESS");
      assert.deepEqual(got.prompts.map((p) => [p.text, p.response]), [
        ["What went well?", "A walk in the sun."],
        ["What is next?", undefined],
      ]);
    });

    await t.step("IN_PROGRESS -> COMPLETED, needing an answer, and then nothing else", async () => {
      const session = await start();
      assert.equal((await refusal(() => sessions.completeSession({ user, session }))).kind, "invalid");
      await sessions.recordResponse({ user, session, promptId: p2.promptId, text: "Sleep." });
      await sessions.completeSession({ user, session, rating: 4 });
      const [got] = await sessions._getSession({ user, session });
      assert.equal(got.status, "COMPLETED");
      assert.equal(got.rating, 4);
      assert.ok(got.endedAt instanceof Date);
      for (
        const again of [
          () => sessions.completeSession({ user, session }),
          () => sessions.abandonSession({ user, session }),
          () => sessions.recordResponse({ user, session, promptId: p1.promptId, text: "late" }),
        ]
      ) {
        const err = await refusal(again);
        assert.equal(err.kind, "conflict");
        assert.equal(err.message, "This session is already completed.");
      }
    });

    await t.step("IN_PROGRESS -> ABANDONED, and then nothing else", async () => {
      const session = await start();
      await sessions.abandonSession({ user, session });
      assert.equal((await sessions._getSession({ user, session }))[0].status, "ABANDONED");
      const err = await refusal(() => sessions.completeSession({ user, session }));
      assert.equal(err.kind, "conflict");
      assert.match(err.message, /abandoned/);
    });

    await t.step("completing and abandoning at once: exactly one wins", async () => {
      const session = await start();
      await sessions.recordResponse({ user, session, promptId: p1.promptId, text: "Yes." });
      const results = await Promise.allSettled([
        sessions.completeSession({ user, session }),
        sessions.abandonSession({ user, session }),
      ]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const [got] = await sessions._getSession({ user, session });
      const winner = results[0].status === "fulfilled" ? "COMPLETED" : "ABANDONED";
      assert.equal(got.status, winner);
    });

    await t.step("someone else's session is not found, and untouched", async () => {
      const session = await start();
      for (
        const attempt of [
          () => sessions._getSession({ user: stranger, session }),
          () => sessions.recordResponse({ user: stranger, session, promptId: p1.promptId, text: "x" }),
          () => sessions.completeSession({ user: stranger, session }),
          () => sessions.abandonSession({ user: stranger, session }),
        ]
      ) {
        assert.equal((await refusal(attempt)).kind, "not_found");
      }
      const [got] = await sessions._getSession({ user, session });
      assert.equal(got.status, "IN_PROGRESS");
      assert.ok(got.prompts.every((p) => p.response === undefined));
    });

    await t.step("_getSessions: newest first, filtered by status", async () => {
      h.clock.advance(60_000);
      const newest = await start();
      const all = await sessions._getSessions({ user, limit: 100 });
      assert.equal(all[0]._id, newest);
      assert.ok(all.every((s, i) => i === 0 || s.startedAt <= all[i - 1].startedAt));
      const done = await sessions._getSessions({ user, status: "COMPLETED", limit: 100 });
      assert.ok(done.length >= 1 && done.every((s) => s.status === "COMPLETED"));
      assert.equal((await sessions._getSessions({ user, limit: 2 })).length, 2);
    });
  } finally {
    await h.close();
  }
});
