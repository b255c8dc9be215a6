import assert from "node:assert/strict";
import { newId } from "../../src/concepts/mod.ts";
import { DEFAULT_PROMPTS, MAX_PROMPTS } from "../../src/concepts/JournalPrompt/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

Deno.test("JournalPrompt", async (t) => {
  const h = await openConcepts();
  const prompts = h.concepts.journalPrompt;
  const user = newId();
  try {
    await t.step("a person starts with the two defaults, added once however often it is asked", async () => {
      await prompts.addDefaultPrompts({ user });
      await prompts.addDefaultPrompts({ user });
      const got = await prompts._getPrompts({ user });
      assert.deepEqual(got.map((p) => p.text), [...DEFAULT_PROMPTS]);
      assert.ok(got.every((p) => p.active));
    });

    await t.step("addPrompt appends", async () => {
      const { prompt } = await prompts.addPrompt({ user, text: "Who made you smile?" });
      const got = await prompts._getPrompts({ user });
      assert.equal(got.at(-1)?._id, prompt);
      assert.equal(got.length, 3);
    });

    await t.step("updatePrompt switches a prompt off; _getActivePrompts leaves it out", async () => {
      const [first] = await prompts._getPrompts({ user });
      await prompts.updatePrompt({ user, prompt: first._id, active: false, text: "Renamed" });
      const active = await prompts._getActivePrompts({ user });
      assert.ok(!active.some((p) => p._id === first._id));
      assert.equal(active.length, 2);
      const all = await prompts._getPrompts({ user });
      assert.equal(all[0].text, "Renamed");
      assert.equal(all[0].active, false);
    });

    await t.step(
      "reorderPrompts puts them in the given order and refuses anything but a permutation",
      async () => {
        const ids = (await prompts._getPrompts({ user })).map((p) => p._id);
        const reversed = [...ids].reverse();
        await prompts.reorderPrompts({ user, order: reversed });
        assert.deepEqual((await prompts._getPrompts({ user })).map((p) => p._id), reversed);
        for (const order of [ids.slice(1), [...ids, newId()], [ids[0], ids[0], ids[1]]]) {
          assert.equal((await refusal(() => prompts.reorderPrompts({ user, order }))).kind, "invalid");
        }
        assert.deepEqual((await prompts._getPrompts({ user })).map((p) => p._id), reversed);
      },
    );

    await t.step("another person's prompt is not found, and left alone", async () => {
      const stranger = newId();
      const [mine] = await prompts._getPrompts({ user });
      for (
        const attempt of [
          () => prompts.updatePrompt({ user: stranger, prompt: mine._id, text: "hijacked" }),
          () => prompts.deletePrompt({ user: stranger, prompt: mine._id }),
        ]
      ) {
        assert.equal((await refusal(attempt)).kind, "not_found");
      }
      assert.equal((await prompts._getPrompts({ user }))[0].text, mine.text);
      assert.deepEqual(await prompts._getPrompts({ user: stranger }), []);
    });

    await t.step("deletePrompt removes it", async () => {
      const [first] = await prompts._getPrompts({ user });
      await prompts.deletePrompt({ user, prompt: first._id });
      assert.ok(!(await prompts._getPrompts({ user })).some((p) => p._id === first._id));
      assert.equal(
        (await refusal(() => prompts.deletePrompt({ user, prompt: first._id }))).kind,
        "not_found",
      );
    });

    await t.step(`a person keeps at most ${MAX_PROMPTS} prompts`, async () => {
      const other = newId();
      for (let i = 0; i < MAX_PROMPTS; i++) await prompts.addPrompt({ user: other, text: `Prompt ${i}` });
      const err = await refusal(() => prompts.addPrompt({ user: other, text: "One too many" }));
      assert.equal(err.kind, "conflict");
      assert.equal((await prompts._getPrompts({ user: other })).length, MAX_PROMPTS);
    });
  } finally {
    await h.close();
  }
});
