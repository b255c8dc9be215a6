import assert from "node:assert/strict";
import {
  completeReflection,
  createConcepts,
  currentStreak,
  ensureConceptIndexes,
  platformStats,
  registerUser,
  startReflection,
  userStats,
} from "../../src/concepts/mod.ts";
import { StatsCache } from "../../src/server/stats.ts";
import { testDb } from "../helpers/db.ts";

Deno.test("the streak counts consecutive local days ending today, or yesterday before today's entry", () => {
  assert.equal(currentStreak([], "2026-11-23"), 0);
  assert.equal(currentStreak(["2026-11-23", "2026-11-22", "2026-11-20"], "2026-11-23"), 2);
  assert.equal(currentStreak(["2026-11-22", "2026-11-21"], "2026-11-23"), 2);
  assert.equal(currentStreak(["2026-11-21"], "2026-11-23"), 0);
  assert.equal(currentStreak(["2026-03-01", "2026-02-28"], "2026-03-01"), 2, "across a month end");
});

Deno.test("the stats cache: a hit, an invalidation after a new entry, an expiry", async () => {
  const fixture = await testDb({ dbName: "stats" });
  try {
    const concepts = createConcepts(fixture.db);
    await ensureConceptIndexes(concepts);
    const { user } = await registerUser(concepts, {
      username: "stats-person",
      password: "correct horse battery",
    });
    const [prompt] = await concepts.journalPrompt._getActivePrompts({ user });
    const writeEntry = async () => {
      const { session } = await startReflection(concepts, { user, mode: "text" });
      await concepts.reflectionSession.recordResponse({
        user,
        session,
        promptId: prompt._id,
        text: "A walk.",
      });
      await completeReflection(concepts, { user, session });
    };
    await writeEntry();

    const clock = { ms: 1_000_000, now: () => clock.ms };
    let userQueries = 0;
    let platformQueries = 0;
    const cache = new StatsCache({
      userStats: (u) => (userQueries++, userStats(concepts, u)),
      platformStats: () => (platformQueries++, platformStats(concepts)),
    }, { userTtlMs: 5 * 60_000, clock });

    const first = await cache.forUser(user);
    assert.equal(first.entries, 1);
    assert.equal(first.currentStreak, 1);
    assert.equal(first.lastEntryDate, new Date().toISOString().slice(0, 10));
    assert.deepEqual(cache.stats(), { hits: 0, misses: 1, hitRate: 0, cachedUsers: 1 });

    assert.deepEqual(await cache.forUser(user), first, "a hit returns the cached figures");
    assert.equal(userQueries, 1);
    assert.equal(cache.stats().hits, 1);
    assert.equal(cache.stats().hitRate, 0.5);

    for (const read of ["_getEntries", "_getEntry", "_getEntryForDate"]) {
      cache.afterAction({ concept: "JournalEntry", action: read, user });
    }
    cache.afterAction({ concept: "JournalPrompt", action: "addPrompt", user });
    cache.afterAction({ concept: "ReflectionSession", action: "startSession", user });
    await cache.forUser(user);
    assert.equal(userQueries, 1, "reads and writes that change no figure keep the cache");

    await writeEntry();
    assert.equal((await cache.forUser(user)).entries, 1, "stale until invalidated");
    cache.afterAction({ concept: "ReflectionSession", action: "completeSession", user });
    assert.equal((await cache.forUser(user)).entries, 2, "a new entry is seen after completeSession");
    assert.equal(userQueries, 2);
    for (const action of ["JournalEntry.deleteEntry", "Profile.setProfile"]) {
      const [concept, name] = action.split(".");
      cache.afterAction({ concept, action: name, user });
      assert.equal(cache.stats().cachedUsers, 0, `${action} drops the person's figures`);
      await cache.forUser(user);
    }
    cache.afterAction({ concept: "Profile", action: "setProfile" });
    assert.equal(cache.stats().cachedUsers, 1, "an action without a person drops nothing");

    clock.ms += 5 * 60_000 + 1;
    await cache.forUser(user);
    assert.equal(userQueries, 5, "an expired entry is queried again");

    const platform = await cache.platform();
    assert.deepEqual(platform, { users: 1, entries: 2, callsCompleted: 0 });
    await cache.platform();
    assert.equal(platformQueries, 1, "platform totals are cached");

    const [a, b] = await Promise.all([cache.forUser("nobody"), cache.forUser("nobody")]);
    assert.deepEqual(a, b);
    assert.equal(userQueries, 6, "concurrent misses share one query");
  } finally {
    await fixture.close();
  }
});
