/**
 * The frontend's flow over real HTTP: register, log in, set the profile, add windows, do a text
 * reflection, and see the entry in `_getEntries`. Every query it makes must be served by an index.
 */
import assert from "node:assert/strict";
import { openApi } from "./harness.ts";
import { recordFilters, unindexed } from "./index_coverage.ts";

Deno.test("the frontend flow, over a real socket", async () => {
  const h = await openApi({ clientOptions: { monitorCommands: true } });
  const sent = recordFilters(h.client);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, h.app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}/api`;
  let token = "";
  const call = async (path: string, body: unknown = {}) => {
    const res = await fetch(`${base}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
    return json;
  };
  try {
    h.clock.set("2025-06-02T07:30:00Z"); // Monday 09:30 in Amsterdam
    const { user } = await call("UserAuth/register", { username: "frontend", password: "a good password" });
    const login = await call("UserAuth/login", { username: "frontend", password: "a good password" });
    assert.equal(login.user, user);
    token = login.token;

    await call("Profile/setProfile", {
      phoneNumber: "+31612345678",
      displayName: "Frontend Person",
      timezone: "Europe/Amsterdam",
      includeRating: true,
    });
    await call("CallWindow/addRecurringWindow", { dayOfWeek: 1, start: "09:00", end: "10:00" });
    await call("CallWindow/addOneOffWindow", { date: "2025-06-07", start: "11:00", end: "12:00" });
    assert.equal((await call("CallWindow/_getWindows")).length, 2);
    const [active] = await call("CallWindow/_getActiveWindow", { at: h.clock.now().toISOString() });
    assert.equal(active.start, "09:00");

    const { session } = await call("ReflectionSession/startSession", { mode: "text" });
    const [started] = await call("ReflectionSession/_getSession", { session });
    assert.equal(started.prompts.length, 2);
    for (const [i, prompt] of started.prompts.entries()) {
      await call("ReflectionSession/recordResponse", {
        session,
        promptId: prompt.promptId,
        text: `Answer ${i + 1}`,
      });
    }
    const { entry } = await call("ReflectionSession/completeSession", { session, rating: 4 });

    const entries = await call("JournalEntry/_getEntries", { limit: 10 });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]._id, entry);
    assert.equal(entries[0].date, "2025-06-02");
    assert.equal(entries[0].rating, 4);
    assert.deepEqual(entries[0].responses.map((r: { text: string }) => r.text), ["Answer 1", "Answer 2"]);
    assert.equal((await call("JournalEntry/_getEntryForDate", { date: "2025-06-02" }))[0]._id, entry);
    assert.deepEqual(await call("JournalEntry/_getEntries", { limit: 10, after: entries[0].cursor }), []);

    await call("UserAuth/logout");
    const after = await fetch(`${base}/JournalEntry/_getEntries`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: "{}",
    });
    assert.equal(after.status, 401);
    await after.body?.cancel();

    assert.ok(sent.length > 10);
    assert.deepEqual(await unindexed(h.db, sent), []);
    // The check itself notices a filter no index serves.
    const scan = { command: "find", collection: "JournalEntry.entries", filter: { mode: "text" } };
    assert.deepEqual(await unindexed(h.db, [scan]), [scan]);
  } finally {
    await server.shutdown();
    await h.close();
  }
});
