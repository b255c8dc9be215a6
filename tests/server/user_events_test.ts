/**
 * Through the real app (`src/main.ts` as a child process): the usage and analytics events of a request
 * made with a person's token carry that person's id, and anonymous ones carry none; so does its access line.
 */
import assert from "node:assert/strict";
import { callAction, signUp } from "../helpers/api.ts";
import { testDb } from "../helpers/db.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";

Deno.test("usage and analytics events carry the id of the person whose token the request had", async () => {
  await using fixture = await testDb({ dbName: "zien" });
  const server = await spawnServer({ env: { MONGODB_URL: fixture.server.url } });
  try {
    const token = await signUp(server.baseUrl, "events-person", "events password");
    const { body } = await callAction(server.baseUrl, "UserAuth/_getUser", {}, token);
    const [{ user }] = body as { user: string }[];
    const track = (name: string, headers: Record<string, string>) =>
      fetch(`${server.baseUrl}/api/analytics/track`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ name }),
      }).then(async (res) => (await res.body?.cancel(), res.status));
    assert.equal(await track("with.token", { authorization: `Bearer ${token}` }), 202);
    assert.equal(await track("anonymous", {}), 202);
    assert.equal((await callAction(server.baseUrl, "JournalEntry/_getEntries", {}, token)).status, 200);

    // The writers flush at shutdown, so every event is in the database once the process has exited.
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    const { db } = fixture;
    const analytics = await db.collection("analytics_events").find().toArray();
    assert.deepEqual(
      analytics.map((e) => [e.name, e.user]).sort(),
      [["anonymous", undefined], ["with.token", user]],
    );
    const usage = await db.collection("usage_events").find().toArray();
    const byRoute = (route: string) => usage.filter((e) => e.route === route).map((e) => e.user);
    assert.deepEqual(byRoute("/api/analytics/track").sort(), [user, undefined]);
    assert.deepEqual(byRoute("/api/JournalEntry/_getEntries"), [user]);
    assert.deepEqual(byRoute("/api/UserAuth/register"), [undefined]);

    // One access line per request, in the JSON log, with the same person and never the token.
    const access = server.logs().filter((line) => line.logger === "zien.http.access");
    assert.deepEqual(access.map((line) => [line.method, line.route, line.status, line.user]), [
      ["POST", "/api/UserAuth/register", 200, undefined],
      ["POST", "/api/UserAuth/login", 200, undefined],
      ["POST", "/api/UserAuth/_getUser", 200, user],
      ["POST", "/api/analytics/track", 202, user],
      ["POST", "/api/analytics/track", 202, undefined],
      ["POST", "/api/JournalEntry/_getEntries", 200, user],
    ]);
    assert.ok(
      access.every((line) => typeof line.durationMs === "number" && typeof line.requestId === "string"),
    );
    assert.ok(!JSON.stringify(server.logs()).includes(token), "the token reached the log");
  } finally {
    await server.kill();
  }
});
