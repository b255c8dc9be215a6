import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Db } from "mongodb";
import { BatchWriter } from "../../src/db/batch_writer.ts";
import { UserAuth } from "../../src/concepts/UserAuth/mod.ts";
import { type AnalyticsEvent, analyticsRoutes, MAX_TRACK_BODY_BYTES } from "../../src/server/analytics.ts";
import { errorHandler, requestId } from "../../src/server/request_context.ts";
import { withDevDb } from "../devdb/harness.ts";

// Mounted as the app mounts it: request ids, the person from a real token, the app's error handler.
function appWith(writer: BatchWriter<AnalyticsEvent>, auth: UserAuth): Hono {
  // deno-lint-ignore no-explicit-any -- the routes declare their own variables
  const app = new Hono<any>();
  app.use(requestId());
  app.route("/", analyticsRoutes(writer, auth));
  app.onError(errorHandler());
  return app;
}

async function withAnalytics(
  body: (app: Hono, writer: BatchWriter<AnalyticsEvent>, db: Db, auth: UserAuth) => Promise<void>,
) {
  await withDevDb(async ({ db }) => {
    const writer = new BatchWriter<AnalyticsEvent>(db.collection("analytics_events"), {
      name: "analytics_events",
    });
    const auth = new UserAuth(db);
    try {
      await body(appWith(writer, auth), writer, db, auth);
    } finally {
      await writer.close({ deadline: Date.now() + 2_000 });
    }
  });
}

function track(app: Hono, body: string | ReadableStream, headers: Record<string, string> = {}) {
  return app.request("/api/analytics/track", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const manyProperties = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));

Deno.test("a valid event answers 202 and is stored with its name, properties, time and the token's person", async () => {
  await withAnalytics(async (app, writer, db, auth) => {
    const { user } = await auth.register({ username: "tracked", password: "tracked password" });
    const { token } = await auth.login({ username: "tracked", password: "tracked password" });
    const response = await track(
      app,
      JSON.stringify({
        name: "entry.saved",
        properties: { words: 120, mood: "calm", draft: false, tag: null },
      }),
      { authorization: `Bearer ${token}` },
    );
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { accepted: true });
    assert.equal((await track(app, JSON.stringify({ name: "app:opened" }))).status, 202);
    assert.equal(
      (await track(app, JSON.stringify({ name: "x", properties: manyProperties(50) }))).status,
      202,
    );
    await writer.flush();
    const events = await db.collection<AnalyticsEvent>("analytics_events").find().sort({ _id: 1 }).toArray();
    assert.equal(events.length, 3);
    assert.equal(events[0].name, "entry.saved");
    assert.deepEqual(events[0].properties, { words: 120, mood: "calm", draft: false, tag: null });
    assert.equal(events[0].user, user);
    assert.ok(events[0].at instanceof Date);
    assert.deepEqual(events[1].properties, {});
    assert.equal(events[1].user, undefined);
  });
});

Deno.test("refusals name what was wrong and write nothing", async () => {
  await withAnalytics(async (app, writer, db) => {
    const json = (value: unknown) => JSON.stringify(value);
    const cases: [string, string | ReadableStream, Record<string, string>, number, RegExp][] = [
      ["no name", json({}), {}, 400, /name: is required/],
      ["empty name", json({ name: "" }), {}, 400, /name: may not be empty/],
      ["long name", json({ name: "a".repeat(101) }), {}, 400, /name: is at most 100/],
      ["name with a space", json({ name: "entry saved" }), {}, 400, /name: may contain only/],
      ["name not a string", json({ name: 5 }), {}, 400, /name: is required, as a string/],
      [
        "properties not an object",
        json({ name: "a", properties: [1] }),
        {},
        400,
        /properties: must be an object/,
      ],
      [
        "51 properties",
        json({ name: "a", properties: manyProperties(51) }),
        {},
        400,
        /properties: at most 50/,
      ],
      ["$ key", json({ name: "a", properties: { $where: "1" } }), {}, 400, /properties\.\$where: .*'\$'/],
      ["dotted key", json({ name: "a", properties: { "a.b": 1 } }), {}, 400, /properties\.a\.b: .*'\.'/],
      ["NUL in a key", json({ name: "a", properties: { "a\u0000b": 1 } }), {}, 400, /properties\.a.b: .*NUL/],
      ["a body of null", "null", {}, 400, /\(body\)/],
      [
        "a token that is not valid",
        json({ name: "a" }),
        { authorization: `Bearer ${"A".repeat(43)}` },
        401,
        /token/,
      ],
      [
        "nested value",
        json({ name: "a", properties: { deep: { x: 1 } } }),
        {},
        400,
        /properties\.deep: must be a string/,
      ],
      ["person in the body", json({ name: "a", user: "someone-else" }), {}, 400, /user: is not a field/],
      ["body not an object", json(["a"]), {}, 400, /\(body\)/],
      ["malformed JSON", '{"name": "a",', {}, 400, /not valid JSON/],
      ["empty body", "", {}, 400, /not valid JSON/],
      ["not JSON", "name=a", { "content-type": "application/x-www-form-urlencoded" }, 415, /as JSON/],
      [
        "too large",
        json({ name: "a", properties: { text: "x".repeat(MAX_TRACK_BODY_BYTES) } }),
        {},
        413,
        /8192/,
      ],
      [
        "too large, streamed without a length",
        new Blob([json({ name: "a", properties: { text: "x".repeat(MAX_TRACK_BODY_BYTES) } })]).stream(),
        {},
        413,
        /8192/,
      ],
    ];
    for (const [label, body, headers, status, message] of cases) {
      const response = await track(app, body, headers);
      const answer = await response.json();
      assert.equal(response.status, status, `${label}: ${JSON.stringify(answer)}`);
      assert.match(answer.error, message, label);
    }
    const invalid = await (await track(app, json({ name: "a b", properties: { $x: 1 } }))).json();
    assert.deepEqual(invalid.issues.map((issue: { field: string }) => issue.field), [
      "name",
      "properties.$x",
    ]);
    assert.equal(writer.stats().buffered, 0);
    await writer.flush();
    assert.equal(await db.collection("analytics_events").countDocuments(), 0);
  });
});

Deno.test("while the writer is closed (shutdown) the route answers 503 with Retry-After", async () => {
  await withAnalytics(async (app, writer) => {
    await writer.close({ deadline: Date.now() + 1_000 });
    const response = await track(app, JSON.stringify({ name: "late" }));
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
  });
});

Deno.test("10,000 events through HTTP are each stored exactly once, in 200 insert commands", async () => {
  await withAnalytics(async (app, writer, db) => {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    try {
      const url = `http://127.0.0.1:${server.addr.port}/api/analytics/track`;
      const total = 10_000;
      let next = 0;
      const statuses: number[] = [];
      await Promise.all(Array.from({ length: 50 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "load.event", properties: { i } }),
          });
          await response.body?.cancel();
          statuses.push(response.status);
        }
      }));
      assert.equal(statuses.filter((status) => status === 202).length, total);
      await writer.flush();
      const events = db.collection("analytics_events");
      assert.equal(await events.countDocuments(), total);
      assert.equal((await events.distinct("properties.i")).length, total);
      assert.equal((await events.distinct("_id")).length, total);
      assert.equal(writer.stats().batches, total / 50);
    } finally {
      await server.shutdown();
    }
  });
});
