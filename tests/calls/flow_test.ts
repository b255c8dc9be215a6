/**
 * One process, simulated provider, short intervals: open windows become calls, calls become journal entries,
 * and unanswered calls are retried, then failed.
 */
import assert from "node:assert/strict";
import { scheduleDueCalls } from "../../src/calls/mod.ts";
import type { CallDoc } from "../../src/concepts/CallScheduler/mod.ts";
import { openCallHarness } from "./harness.ts";
import { seedPerson, zoneInsideItsDay } from "../workers/seed.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("a window open now leads to a journal entry within seconds", async () => {
  const h = await openCallHarness();
  try {
    const { timezone, date } = zoneInsideItsDay();
    const user = await seedPerson(h.concepts, { timezone, window: "recurring" });
    h.start();
    await waitFor(async () => (await h.concepts.journalEntry._getEntries({ user, limit: 5 })).length > 0, {
      what: "the journal entry",
      timeoutMs: 10_000,
    });
    const [entry] = await h.concepts.journalEntry._getEntries({ user, limit: 5 });
    assert.equal(entry.date, date);
    assert.equal(entry.mode, "phone");
    assert.equal(entry.responses.length, 2);
    assert.match(entry.responses[0].text, /^Simulated answer to: /);
    const calls = await h.db.collection<CallDoc>("CallScheduler.calls").find({ user }).toArray();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].status, "COMPLETED");
    assert.equal(calls[0].attempts, 1);
    const story = h.events.filter((e) => e.call === calls[0]._id).map((e) => e.type);
    assert.deepEqual(story, ["scheduled", "placed", "answered", "completed", "entry_created"]);
  } finally {
    await h.close();
  }
});

Deno.test("no answer twice, then an answer: one entry, after three attempts", async () => {
  const h = await openCallHarness({ outcome: ["no-answer", "no-answer", "answer"] });
  try {
    const { timezone } = zoneInsideItsDay();
    const user = await seedPerson(h.concepts, { timezone, window: "oneoff", maxRetries: 3 });
    h.start();
    await waitFor(async () => (await h.concepts.journalEntry._getEntries({ user, limit: 5 })).length > 0, {
      what: "the journal entry",
      timeoutMs: 10_000,
    });
    const calls = await h.db.collection<CallDoc>("CallScheduler.calls").find({ user }).toArray();
    assert.equal(calls.length, 1, "retries reuse the call, the window makes no second one");
    assert.equal(calls[0].status, "COMPLETED");
    assert.equal(calls[0].attempts, 3);
    const story = h.events.filter((e) => e.call === calls[0]._id).map((e) => `${e.type}@${e.attempt}`);
    assert.deepEqual(story, [
      "scheduled@0",
      "placed@1",
      "attempt_failed@1",
      "placed@2",
      "attempt_failed@2",
      "placed@3",
      "answered@3",
      "completed@3",
      "entry_created@3",
    ]);
    const sessions = await h.concepts.reflectionSession._getSessions({ user, limit: 10 });
    assert.deepEqual(sessions.map((s) => s.status), ["COMPLETED"], "one session, completed once");
    assert.equal((await h.concepts.journalEntry._getEntries({ user, limit: 5 })).length, 1);
  } finally {
    await h.close();
  }
});

/** Seeds a person whose window is open now, starts the workers and waits for their call to end FAILED. */
async function untilTheCallFails(h: Awaited<ReturnType<typeof openCallHarness>>, maxRetries: number) {
  const { timezone } = zoneInsideItsDay();
  const user = await seedPerson(h.concepts, { timezone, maxRetries });
  h.start();
  const calls = h.db.collection<CallDoc>("CallScheduler.calls");
  await waitFor(async () => (await calls.findOne({ user }))?.status === "FAILED", {
    what: "the call to fail",
    timeoutMs: 10_000,
  });
  return { user, calls, call: (await calls.findOne({ user }))! };
}

Deno.test("retries exhausted: the call is FAILED and its session ABANDONED", async () => {
  const h = await openCallHarness({ outcome: "busy" });
  try {
    const { user, calls, call } = await untilTheCallFails(h, 1);
    assert.equal(call.attempts, 2, "maxRetries 1: placed once, retried once");
    assert.equal(call.active, false);
    assert.equal(call.lease, null);
    assert.equal(call.lastError, "busy");
    const [session] = await h.concepts.reflectionSession._getSession({
      user,
      session: call.reflectionSession,
    });
    assert.equal(session.status, "ABANDONED");
    assert.deepEqual(await h.concepts.journalEntry._getEntries({ user, limit: 5 }), []);
    assert.deepEqual(h.events.filter((e) => e.call === call._id).map((e) => e.type).slice(-1), ["failed"]);
    // The window is still open, but this occurrence had its call: no second call today.
    await h.workers[0].stop();
    await scheduleDueCalls(h.runtime.scheduling, new AbortController().signal);
    assert.equal(await calls.countDocuments({ user }), 1);
  } finally {
    await h.close();
  }
});

Deno.test("a number the provider refuses fails at once, without retries", async () => {
  const h = await openCallHarness({ outcome: "placement-rejected" });
  try {
    const { call } = await untilTheCallFails(h, 5);
    assert.equal(call.attempts, 1);
    assert.match(call.lastError ?? "", /placement failed: simulated rejection/);
  } finally {
    await h.close();
  }
});
