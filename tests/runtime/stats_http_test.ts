/**
 * `GET /api/stats` on the real server: one endpoint, cached, and fresh again after the person's own action.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { callAction, signUp } from "../helpers/api.ts";

Deno.test("GET /api/stats: 401 without a token; the person's figures refresh after their new entry", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({ env: { MONGODB_URL: devdb.url } });
  try {
    const unauthorized = await fetch(`${server.baseUrl}/api/stats`);
    assert.equal(unauthorized.status, 401);
    await unauthorized.body?.cancel();
    const token = await signUp(server.baseUrl, "stats-http");
    const getStats = async () => {
      const response = await fetch(`${server.baseUrl}/api/stats`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200);
      return await response.json();
    };
    const before = await getStats();
    assert.deepEqual(before.user, {
      entries: 0,
      currentStreak: 0,
      callsCompleted: 0,
      callsFailed: 0,
      lastEntryDate: null,
    });
    assert.equal(before.platform.users, 1);

    const { body: started } = await callAction(server.baseUrl, "ReflectionSession/startSession", {
      mode: "text",
    }, token);
    const session = (started as { session: string }).session;
    const { body: prompts } = await callAction(server.baseUrl, "JournalPrompt/_getActivePrompts", {}, token);
    const promptId = (prompts as { _id: string }[])[0]._id;
    await callAction(
      server.baseUrl,
      "ReflectionSession/recordResponse",
      { session, promptId, text: "Fine." },
      token,
    );
    const done = await callAction(server.baseUrl, "ReflectionSession/completeSession", { session }, token);
    assert.equal(done.status, 200);

    const after = await getStats();
    assert.equal(after.user.entries, 1);
    assert.equal(after.user.currentStreak, 1);
    assert.match(after.user.lastEntryDate, /^\d{4}-\d{2}-\d{2}$/);
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
