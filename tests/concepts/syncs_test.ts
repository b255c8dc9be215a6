import assert from "node:assert/strict";
import {
  completeReflection,
  getActiveWindow,
  newId,
  registerUser,
  scheduleReflectionCall,
  startReflection,
} from "../../src/concepts/mod.ts";
import { DEFAULT_PROMPTS } from "../../src/concepts/JournalPrompt/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

Deno.test("syncs", async (t) => {
  const h = await openConcepts();
  const c = h.concepts;
  try {
    const { user } = await registerUser(c, { username: "syncer", password: "long enough" });
    const setProfile = (timezone: string) =>
      c.profile.setProfile({
        user,
        phoneNumber: "+31612345678",
        displayName: "S",
        namePronunciation: "",
        timezone,
        maxRetries: 3,
        includeRating: false,
      });

    await t.step("registerUser gives the default prompts", async () => {
      assert.deepEqual((await c.journalPrompt._getActivePrompts({ user })).map((p) => p.text), [
        ...DEFAULT_PROMPTS,
      ]);
    });

    await t.step(
      "startReflection snapshots the active prompts; later edits leave the session alone",
      async () => {
        const { session } = await startReflection(c, { user, mode: "text" });
        const [p] = await c.journalPrompt._getPrompts({ user });
        await c.journalPrompt.updatePrompt({ user, prompt: p._id, text: "Changed later" });
        const [got] = await c.reflectionSession._getSession({ user, session });
        assert.deepEqual(got.prompts.map((x) => x.text), [...DEFAULT_PROMPTS]);
        await c.journalPrompt.updatePrompt({ user, prompt: p._id, text: DEFAULT_PROMPTS[0] });
      },
    );

    await t.step("completeReflection makes the entry once, dated by the person's local day", async () => {
      await setProfile("Pacific/Auckland");
      h.clock.set("2025-06-02T23:30:00Z"); // already 11:30 on June 3rd in Auckland
      const { session } = await startReflection(c, { user, mode: "text" });
      const [p1] = await c.journalPrompt._getActivePrompts({ user });
      await c.reflectionSession.recordResponse({ user, session, promptId: p1._id, text: "Good." });
      const { entry } = await completeReflection(c, { user, session, rating: 5 });
      const [got] = await c.journalEntry._getEntry({ user, entry });
      assert.equal(got.date, "2025-06-03");
      assert.equal(got.reflectionSession, session);
      assert.equal(got.rating, 5);
      assert.deepEqual(got.responses, [{ promptId: p1._id, prompt: p1.text, text: "Good." }]);

      const again = await refusal(() => completeReflection(c, { user, session }));
      assert.equal(again.kind, "conflict");
      assert.equal(
        await h.db.collection("JournalEntry.entries").countDocuments({ reflectionSession: session }),
        1,
      );
    });

    await t.step(
      "a flow that died between completing and the entry is healed by running it again",
      async () => {
        const { session } = await startReflection(c, { user, mode: "phone" });
        const [p1] = await c.journalPrompt._getActivePrompts({ user });
        await c.reflectionSession.recordResponse({
          user,
          session,
          promptId: p1._id,
          text: "Said on the phone.",
        });
        await c.reflectionSession.completeSession({ user, session }); // the entry step never ran
        assert.equal(
          await h.db.collection("JournalEntry.entries").countDocuments({ reflectionSession: session }),
          0,
        );
        assert.equal((await refusal(() => completeReflection(c, { user, session }))).kind, "conflict");
        assert.equal(
          await h.db.collection("JournalEntry.entries").countDocuments({ reflectionSession: session }),
          1,
        );
      },
    );

    await t.step(
      "scheduleReflectionCall: phone sessions in progress only, to the profile's number",
      async () => {
        h.clock.set("2025-06-02T08:00:00Z");
        const text = await startReflection(c, { user, mode: "text" });
        const scheduledFor = "2025-06-02T08:05:00Z";
        const notPhone = await refusal(() =>
          scheduleReflectionCall(c, { user, reflectionSession: text.session, scheduledFor })
        );
        assert.equal(notPhone.kind, "invalid");
        const phone = await startReflection(c, { user, mode: "phone" });
        const { call } = await scheduleReflectionCall(c, {
          user,
          reflectionSession: phone.session,
          scheduledFor,
        });
        const [view] = await c.callScheduler._getScheduledCall({ user, call });
        assert.equal(view.phoneNumber, "+31612345678");
        assert.equal(view.reflectionSession, phone.session);
        const notMine = await refusal(() =>
          scheduleReflectionCall(c, { user: newId(), reflectionSession: phone.session, scheduledFor })
        );
        assert.equal(notMine.kind, "not_found");
        await c.reflectionSession.abandonSession({ user, session: text.session });
      },
    );

    await t.step("without a profile there is no phone number and no time zone", async () => {
      const other = newId();
      await c.journalPrompt.addDefaultPrompts({ user: other });
      const { session } = await startReflection(c, { user: other, mode: "phone" });
      const noPhone = await refusal(() =>
        scheduleReflectionCall(c, {
          user: other,
          reflectionSession: session,
          scheduledFor: "2025-06-02T08:05:00Z",
        })
      );
      assert.equal(noPhone.kind, "invalid");
      assert.match(noPhone.message, /phone number/);
      const noZone = await refusal(() => getActiveWindow(c, { user: other, at: "2025-06-02T08:05:00Z" }));
      assert.equal(noZone.kind, "invalid");
    });

    await t.step("getActiveWindow judges by the profile's time zone", async () => {
      await setProfile("America/New_York");
      await c.callWindow.addRecurringWindow({ user, dayOfWeek: 1, start: "08:00", end: "09:00" });
      // Monday 2025-06-02 12:30Z is 08:30 in New York (UTC-4).
      assert.equal((await getActiveWindow(c, { user, at: "2025-06-02T12:30:00Z" })).length, 1);
      assert.deepEqual(await getActiveWindow(c, { user, at: "2025-06-02T08:30:00Z" }), []);
    });
  } finally {
    await h.close();
  }
});
