/**
 * The call-window worker: who is due (their own clock, one-off over recurring, the filters), one call per
 * occurrence however many instances tick at once, and a tick's cost that does not grow per person.
 */
import assert from "node:assert/strict";
import { type Concepts, startReflection } from "../../src/concepts/mod.ts";
import { CallQueue, OccurrenceClaims } from "../../src/concepts/CallScheduler/mod.ts";
import { localMoment } from "../../src/concepts/CallWindow/mod.ts";
import { completeReflection } from "../../src/concepts/syncs.ts";
import { type CallWindowTickStats, createCallWindowTick } from "../../src/workers/mod.ts";
import { openCallsDb } from "./fixture.ts";
import { seedPeople, seedPeopleBulk, seedPerson, zoneInsideItsDay, zoneOtherwise } from "./seed.ts";

async function openDb() {
  const fixture = await openCallsDb({ dbName: "zien_window_test" });
  const { db, concepts } = fixture;
  const tick = (instance: string, options: { pageSize?: number; stats?: CallWindowTickStats[] } = {}) =>
    createCallWindowTick({
      concepts,
      queue: new CallQueue(db, { leaseMs: 60_000 }),
      occurrences: new OccurrenceClaims(db),
      instance,
      claimStaleMs: 60_000,
      pageSize: options.pageSize,
    }, (s) => options.stats?.push(s));
  return { ...fixture, tick };
}

const never = new AbortController().signal;

Deno.test("three instances ticking at once schedule one call, and start one session, per person", async () => {
  const t = await openDb();
  try {
    const { timezone } = zoneInsideItsDay();
    const users = await seedPeople(
      t.concepts,
      60,
      (i) => ({ timezone, window: i % 2 ? "oneoff" : "recurring" }),
    );
    const ticks = ["a", "b", "c"].map((name) => t.tick(`zien-backend:host:${name}`, { pageSize: 25 }));
    await Promise.all(ticks.map((tick) => tick(never)));
    const calls = await t.calls.find({}).toArray();
    assert.equal(calls.length, 60);
    assert.deepEqual(new Set(calls.map((c) => c.user)), new Set(users));
    assert.ok(
      calls.every((c) => c.status === "PENDING" && c.attempts === 0 && typeof c.occurrence === "string"),
    );
    const sessions = await t.db.collection("ReflectionSession.sessions").countDocuments({});
    assert.equal(sessions, 60, "the losers of a claim start no session");
    // Ticking again changes nothing: every occurrence has its call.
    await Promise.all(ticks.map((tick) => tick(never)));
    assert.equal(await t.calls.countDocuments({}), 60);
  } finally {
    await t.close();
  }
});

async function journalToday(concepts: Concepts, user: string): Promise<void> {
  const { session } = await startReflection(concepts, { user, mode: "text" });
  const [view] = await concepts.reflectionSession._getSession({ user, session });
  await concepts.reflectionSession.recordResponse({
    user,
    session,
    promptId: view.prompts[0].promptId,
    text: "typed it",
  });
  await completeReflection(concepts, { user, session });
}

Deno.test("only people whose window is open on their own clock, and who are due, are called", async () => {
  const t = await openDb();
  try {
    const { timezone, date } = zoneInsideItsDay();
    const due = await seedPerson(t.concepts, { timezone });
    // Their window is open now on `timezone`'s clock (so the query finds it), but not on their own.
    const elsewhere = await seedPerson(t.concepts, { timezone: zoneOtherwise(timezone), window: "none" });
    const hour = Math.floor(localMoment(new Date(), timezone).minutes / 60);
    await t.concepts.callWindow.addRecurringWindow({
      user: elsewhere,
      dayOfWeek: localMoment(new Date(), timezone).dayOfWeek,
      start: `${String(hour).padStart(2, "0")}:00`,
      end: `${String(hour + 1).padStart(2, "0")}:00`,
    });
    const journaled = await seedPerson(t.concepts, { timezone });
    await journalToday(t.concepts, journaled);
    const busy = await seedPerson(t.concepts, { timezone });
    const { session } = await startReflection(t.concepts, { user: busy, mode: "phone" });
    const manual = await t.concepts.callScheduler.scheduleCall({
      user: busy,
      reflectionSession: session,
      phoneNumber: "+15550000001",
      scheduledFor: new Date(Date.now() + 3_600_000).toISOString(),
    });
    // A one-off window today replaces the recurring ones; this one has closed.
    const overridden = await seedPerson(t.concepts, { timezone });
    await t.concepts.callWindow.addOneOffWindow({ user: overridden, date, start: "00:00", end: "00:30" });
    const noPrompts = await seedPerson(t.concepts, { timezone });
    for (const p of await t.concepts.journalPrompt._getPrompts({ user: noPrompts })) {
      await t.concepts.journalPrompt.updatePrompt({ user: noPrompts, prompt: p._id, active: false });
    }
    const stats: CallWindowTickStats[] = [];
    await t.tick("zien-backend:host:a", { stats })(never);
    const calls = await t.calls.find({}).toArray();
    assert.deepEqual(calls.map((c) => c.user).sort(), [busy, due].sort());
    assert.equal(
      calls.find((c) => c.user === busy)?._id,
      manual.call,
      "the busy person keeps only their own call",
    );
    const windowCall = calls.find((c) => c.user === due)!;
    const [windowSession] = await t.concepts.reflectionSession._getSession({
      user: due,
      session: windowCall.reflectionSession,
    });
    assert.equal(windowSession.mode, "phone");
    assert.equal(windowSession.prompts.length, 2);
    assert.equal(stats[0].scheduled, 1);
    assert.deepEqual(stats[0].skipped, {
      entryToday: 1,
      callPending: 1,
      outsideWindow: 2,
      retriesExhausted: 0,
      noPrompt: 1,
    });
    // A person whose call for this occurrence FAILED after its retries is not called again today.
    const exhausted = await seedPerson(t.concepts, { timezone });
    await t.tick("zien-backend:host:a", { stats })(never);
    assert.equal(stats[1].scheduled, 1);
    await t.calls.updateOne({ user: exhausted }, { $set: { status: "FAILED", active: false } });
    await t.tick("zien-backend:host:a", { stats })(never);
    assert.equal(stats[2].scheduled, 0);
    assert.deepEqual(stats[2].skipped, {
      entryToday: 1,
      callPending: 2,
      outsideWindow: 2,
      retriesExhausted: 1,
      noPrompt: 1,
    });
  } finally {
    await t.close();
  }
});

Deno.test("a tick with nobody due costs the same number of queries for 40 people as for 400", async () => {
  const t = await openDb();
  try {
    const { timezone } = zoneInsideItsDay();
    const opsOfSteadyTick = async () => {
      const tick = t.tick("zien-backend:host:a");
      await tick(never); // schedules whoever is new
      const before = t.server.stats().opcounters;
      await tick(never); // nobody is due any more
      const after = t.server.stats().opcounters;
      return Object.keys(before).map((k) => after[k as keyof typeof after] - before[k as keyof typeof before])
        .reduce((a, b) => a + b, 0);
    };
    await seedPeople(t.concepts, 40, () => ({ timezone }));
    const small = await opsOfSteadyTick();
    await seedPeopleBulk(t.db, 360, { timezone });
    const large = await opsOfSteadyTick();
    assert.equal(await t.calls.countDocuments({}), 400);
    assert.equal(large, small, `40 people: ${small} operations; 400 people: ${large}`);
    assert.ok(small <= 12, `a steady tick took ${small} operations`);
  } finally {
    await t.close();
  }
});
