/**
 * One person cannot see or change another's things: every id-taking action answers 404 for someone else's
 * id, and the owner's data is unchanged afterwards.
 */
import assert from "node:assert/strict";
import { openApi } from "./harness.ts";
import { recordFilters, unindexed } from "./index_coverage.ts";

Deno.test("cross-user access answers 404 and changes nothing", async () => {
  const h = await openApi({ clientOptions: { monitorCommands: true } });
  const sent = recordFilters(h.client);
  try {
    const alice = await h.account("alice");
    const bob = await h.account("bob");
    const asAlice = (path: string, body: unknown = {}) => h.post(path, body, alice.token);
    await asAlice("Profile/setProfile", {
      phoneNumber: "+31612345678",
      displayName: "Alice",
      timezone: "Europe/Amsterdam",
    });
    const [prompt] = (await asAlice("JournalPrompt/_getPrompts")).json;
    const { window } =
      (await asAlice("CallWindow/addRecurringWindow", { dayOfWeek: 1, start: "09:00", end: "10:00" })).json;
    const { session: textSession } = (await asAlice("ReflectionSession/startSession", { mode: "text" })).json;
    await asAlice("ReflectionSession/recordResponse", {
      session: textSession,
      promptId: prompt._id,
      text: "Private.",
    });
    const { entry } = (await asAlice("ReflectionSession/completeSession", { session: textSession })).json;
    const { session: phoneSession } =
      (await asAlice("ReflectionSession/startSession", { mode: "phone" })).json;
    const { call } = (await asAlice("CallScheduler/scheduleCall", {
      reflectionSession: phoneSession,
      scheduledFor: new Date(h.clock.now().getTime() + 60_000).toISOString(),
    })).json;
    assert.ok(prompt && window && entry && call);

    // Everything of Alice's that Bob's attempts below must leave as it is.
    const aliceSees = async () =>
      JSON.stringify(
        await Promise.all([
          asAlice("JournalPrompt/_getPrompts"),
          asAlice("CallWindow/_getWindows"),
          asAlice("ReflectionSession/_getSession", { session: phoneSession }),
          asAlice("CallScheduler/_getScheduledCall", { call }),
          asAlice("JournalEntry/_getEntry", { entry }),
        ]).then((all) => all.map((r) => r.json)),
      );
    const before = await aliceSees();

    const attempts: [string, unknown][] = [
      ["JournalPrompt/updatePrompt", { prompt: prompt._id, text: "Bob was here" }],
      ["JournalPrompt/deletePrompt", { prompt: prompt._id }],
      ["CallWindow/removeWindow", { window }],
      ["ReflectionSession/_getSession", { session: phoneSession }],
      ["ReflectionSession/recordResponse", { session: phoneSession, promptId: prompt._id, text: "Bob" }],
      ["ReflectionSession/completeSession", { session: phoneSession }],
      ["ReflectionSession/abandonSession", { session: phoneSession }],
      ["CallScheduler/scheduleCall", {
        reflectionSession: phoneSession,
        scheduledFor: h.clock.now().toISOString(),
      }],
      ["CallScheduler/_getScheduledCall", { call }],
      ["CallScheduler/cancelCall", { call }],
      ["JournalEntry/_getEntry", { entry }],
      ["JournalEntry/deleteEntry", { entry }],
    ];
    for (const [path, body] of attempts) {
      const res = await h.post(path, body, bob.token);
      assert.equal(res.status, 404, `${path}: ${JSON.stringify(res.json)}`);
    }
    // Lists simply do not show Alice's things to Bob.
    for (
      const path of [
        "JournalEntry/_getEntries",
        "CallScheduler/_getActiveCallsForUser",
        "CallWindow/_getWindows",
      ]
    ) {
      assert.deepEqual((await h.post(path, {}, bob.token)).json, [], path);
    }
    assert.deepEqual(
      (await h.post("JournalEntry/_getEntryForDate", { date: "2025-06-02" }, bob.token)).json,
      [],
    );
    assert.deepEqual((await h.post("Profile/_getProfile", {}, bob.token)).json, []);

    const after = await aliceSees();
    assert.equal(after, before);
    assert.deepEqual(await unindexed(h.db, sent), []);
  } finally {
    await h.close();
  }
});
