import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Db } from "mongodb";
import { BatchWriter } from "../../src/db/batch_writer.ts";
import { UserAuth } from "../../src/concepts/UserAuth/mod.ts";
import { optionalUser } from "../../src/server/auth.ts";
import { UNMATCHED_ROUTE, type UsageEvent, usageTracking } from "../../src/server/usage.ts";
import { withDevDb } from "../devdb/harness.ts";
import { waitFor } from "../helpers/wait.ts";

function appWith(writer: BatchWriter<UsageEvent>, db: Db): Hono {
  const app = new Hono();
  app.use(usageTracking(writer));
  // The person middleware runs inside usage tracking, as the routes' own `requireUser` does in the app.
  app.use(optionalUser(new UserAuth(db)));
  app.get("/api/entries/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/api/entries", (c) => c.json({ created: true }, 201));
  app.get("/api/boom", () => {
    throw new Error("boom");
  });
  const calls = new Hono();
  calls.get("/:callId/events", (c) => c.json([]));
  app.route("/api/calls", calls);
  app.get("/health/live", (c) => c.json({ status: "ok" }));
  app.notFound((c) => c.json({ error: "no route" }, 404));
  app.onError((_err, c) => c.json({ error: "internal" }, 500));
  return app;
}

Deno.test("each API request records its route pattern, method, status, duration and person; other paths are not tracked", async () => {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter<UsageEvent>(db.collection("usage_events"), { name: "usage_events" });
    try {
      const auth = new UserAuth(db);
      await auth.ensureIndexes();
      const { user } = await auth.register({ username: "usage", password: "usage password" });
      const { token } = await auth.login({ username: "usage", password: "usage password" });
      const app = appWith(writer, db);
      const authorization = `Bearer ${token}`;
      assert.equal((await app.request("/api/entries/42", { headers: { authorization } })).status, 200);
      assert.equal((await app.request("/api/entries/43")).status, 200);
      assert.equal((await app.request("/api/entries", { method: "POST" })).status, 201);
      assert.equal((await app.request("/api/boom")).status, 500);
      assert.equal((await app.request("/api/calls/c-9/events")).status, 200);
      assert.equal((await app.request("/api/no/such/thing")).status, 404);
      assert.equal((await app.request("/health/live")).status, 200);
      // Nothing is written per request: the events wait in the buffer.
      assert.equal(await db.collection("usage_events").countDocuments(), 0);
      assert.equal(writer.stats().buffered, 6);

      await writer.flush();
      const events = await db.collection<UsageEvent>("usage_events").find().sort({ _id: 1 }).toArray();
      assert.deepEqual(events.map((e) => [e.method, e.route, e.status]), [
        ["GET", "/api/entries/:id", 200],
        ["GET", "/api/entries/:id", 200],
        ["POST", "/api/entries", 201],
        ["GET", "/api/boom", 500],
        ["GET", "/api/calls/:callId/events", 200],
        ["GET", UNMATCHED_ROUTE, 404],
      ]);
      assert.equal(events[0].user, user);
      assert.ok(events.slice(1).every((e) => e.user === undefined));
      assert.ok(
        events.every((e) => e.at instanceof Date && typeof e.durationMs === "number" && e.durationMs >= 0),
      );
      assert.ok(!JSON.stringify(events).includes("/api/entries/42"), "raw paths are never stored");
    } finally {
      await writer.close({ deadline: Date.now() + 2_000 });
    }
  });
});

Deno.test("a request does not wait for the database, even when its event starts a write", async () => {
  await withDevDb(async ({ server, db }) => {
    const writer = new BatchWriter<UsageEvent>(db.collection("usage_events"), {
      name: "usage_events",
      maxBatch: 1,
    });
    try {
      await db.collection("usage_events").countDocuments();
      server.setLatency(1_000);
      const app = appWith(writer, db);
      const inserts = server.stats().opcounters.insert;
      const started = performance.now();
      const response = await app.request("/api/entries/1");
      const elapsed = performance.now() - started;
      assert.equal(response.status, 200);
      assert.ok(elapsed < 500, `the request took ${elapsed} ms while the write takes 1000 ms`);
      await waitFor(() => server.stats().opcounters.insert === inserts + 1, { what: "the event's write" });
      assert.equal(writer.stats().flushed, 0, "the write had not finished when the response came");
      server.setLatency(0);
      await waitFor(() => writer.stats().flushed === 1, { what: "the write to finish" });
    } finally {
      await writer.close({ deadline: Date.now() + 3_000 });
    }
  });
});

Deno.test("a writer that refuses (closed at shutdown) never fails the request", async () => {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter<UsageEvent>(db.collection("usage_events"), { name: "usage_events" });
    await writer.close({ deadline: Date.now() + 1_000 });
    const response = await appWith(writer, db).request("/api/entries/1");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { id: "1" });
  });
});
