/**
 * The error table of the concept API, one test per row.
 */
import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../../../src/server/concepts/mod.ts";
import { FREE_ATTEMPTS } from "../../../src/concepts/UserAuth/mod.ts";
import { type ApiHarness, openApi } from "./harness.ts";

const json = { "content-type": "application/json" };

Deno.test("concept API error table", async (t) => {
  const h: ApiHarness = await openApi();
  try {
    const { token, user } = await h.account("errors");
    const auth = { ...json, authorization: `Bearer ${token}` };

    await t.step("a valid request answers 200 with the result", async () => {
      const res = await h.post("JournalPrompt/_getPrompts", {}, token);
      assert.equal(res.status, 200);
      assert.equal(res.json.length, 2);
      assert.ok(res.headers.get("x-request-id"));
    });

    await t.step("an empty body counts as {}", async () => {
      const res = await h.send("Profile/_getProfile", {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, []);
    });

    await t.step("malformed JSON: 400, without echoing the body", async () => {
      const res = await h.send("UserAuth/login", {
        method: "POST",
        headers: json,
        body: '{"username": "x", "password": "s3cret',
      });
      assert.equal(res.status, 400);
      assert.equal(res.json.error, "The request body is not valid JSON.");
      assert.ok(res.json.requestId);
      assert.ok(!JSON.stringify(res.json).includes("s3cret"));
    });

    await t.step("schema violation: 400 naming each field", async () => {
      const res = await h.post(
        "CallWindow/addRecurringWindow",
        { dayOfWeek: 9, start: "9am", end: "10:00" },
        token,
      );
      assert.equal(res.status, 400);
      assert.deepEqual(res.json.issues.map((i: { field: string }) => i.field).sort(), ["dayOfWeek", "start"]);
      assert.match(res.json.error, /dayOfWeek: .*start: /);
      const missing = await h.post("UserAuth/register", {});
      assert.deepEqual(missing.json.issues.map((i: { field: string }) => i.field), ["username", "password"]);
      const notObject = await h.post("UserAuth/register", [1, 2]);
      assert.equal(notObject.status, 400);
      assert.equal(notObject.json.issues[0].field, "(body)");
    });

    await t.step("a `user` in the body is refused: the person comes from the token only", async () => {
      const res = await h.post("JournalEntry/_getEntries", { user: "0".repeat(24) }, token);
      assert.equal(res.status, 400);
      assert.deepEqual(res.json.issues, [{ field: "user", message: "is not a field of this action" }]);
    });

    await t.step("a `$` key anywhere: 400", async () => {
      const res = await h.post(
        "JournalPrompt/reorderPrompts",
        { order: ["a", { nested: { $gt: "" } }] },
        token,
      );
      assert.equal(res.status, 400);
      assert.equal(res.json.issues[0].field, "order[1].nested.$gt");
    });

    await t.step("a key containing `.` anywhere: 400", async () => {
      const res = await h.post("UserAuth/login", {
        username: "errors",
        password: "x",
        "profile.admin": true,
      });
      assert.equal(res.status, 400);
      assert.equal(res.json.issues[0].field, "profile.admin");
    });

    await t.step("a body over 64 KiB: 413, with or without Content-Length", async () => {
      const big = JSON.stringify({ text: "x".repeat(MAX_BODY_BYTES) });
      const declared = await h.send("JournalPrompt/addPrompt", {
        method: "POST",
        headers: { ...auth, "content-length": String(big.length) },
        body: big,
      });
      assert.equal(declared.status, 413);
      const streamed = await h.send("JournalPrompt/addPrompt", {
        method: "POST",
        headers: auth,
        body: ReadableStream.from([new TextEncoder().encode(big)]),
      });
      assert.equal(streamed.status, 413);
      assert.match(streamed.json.error, /64 KiB/);
    });

    await t.step("not JSON: 415", async () => {
      for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
        const res = await h.send("UserAuth/login", {
          method: "POST",
          headers: { "content-type": type },
          body: "username=a",
        });
        assert.equal(res.status, 415, type);
      }
      const untyped = await h.send("UserAuth/login", {
        method: "POST",
        body: '{"username":"a","password":"b"}',
      });
      assert.equal(untyped.status, 415);
      const vendor = await h.send("JournalPrompt/_getPrompts", {
        method: "POST",
        headers: { ...auth, "content-type": "application/vnd.api+json; charset=utf-8" },
        body: "{}",
      });
      assert.equal(vendor.status, 200);
    });

    await t.step("unknown concept or action: 404", async () => {
      const concept = await h.post("Nope/register", {});
      assert.equal(concept.status, 404);
      assert.match(concept.json.error, /no concept named Nope/);
      const action = await h.post("UserAuth/deleteEverything", {});
      assert.equal(action.status, 404);
      assert.match(action.json.error, /UserAuth has no action or query named deleteEverything/);
    });

    await t.step("a method other than POST: 405 with Allow", async () => {
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const res = await h.send("JournalEntry/_getEntries", {
          method,
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "POST");
      }
    });

    await t.step("no token, a malformed header, or a bad token: 401", async () => {
      const none = await h.post("JournalEntry/_getEntries", {});
      assert.equal(none.status, 401);
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      for (
        const header of [`Basic ${btoa("a:b")}`, "Bearer", `Bearer ${"A".repeat(43)}`, `Bearer ${token}x`]
      ) {
        const res = await h.send("JournalEntry/_getEntries", {
          method: "POST",
          headers: { ...json, authorization: header },
          body: "{}",
        });
        assert.equal(res.status, 401, header);
      }
    });

    await t.step("someone else's thing: 404", async () => {
      const other = await h.account("errors-other");
      const { json: created } = await h.post("ReflectionSession/startSession", { mode: "text" }, other.token);
      const res = await h.post("ReflectionSession/_getSession", { session: created.session }, token);
      assert.equal(res.status, 404);
      assert.equal(res.json.error, "There is no such session.");
    });

    await t.step("domain conflict: 409 with a sentence", async () => {
      await h.post("CallWindow/addRecurringWindow", { dayOfWeek: 3, start: "18:00", end: "19:00" }, token);
      const res = await h.post("CallWindow/addRecurringWindow", {
        dayOfWeek: 3,
        start: "18:30",
        end: "20:00",
      }, token);
      assert.equal(res.status, 409);
      assert.equal(res.json.error, "That window overlaps your 18:00-19:00 window on Wednesdays.");
    });

    await t.step("repeated failed logins: 429 with Retry-After", async () => {
      await h.account("errors-locked");
      for (let i = 0; i < FREE_ATTEMPTS; i++) {
        const res = await h.post("UserAuth/login", { username: "errors-locked", password: "wrong password" });
        assert.equal(res.status, 401);
      }
      const locked = await h.post("UserAuth/login", {
        username: "errors-locked",
        password: "errors-locked password",
      });
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get("retry-after")) >= 1);
    });

    await t.step("refused requests touched nothing", async () => {
      assert.equal(await h.db.collection("JournalPrompt.prompts").countDocuments({ user }), 2);
      assert.equal(await h.db.collection("CallWindow.windows").countDocuments({ user }), 1);
      assert.equal(await h.db.collection("Profile.profiles").countDocuments({}), 0);
      assert.equal(await h.db.collection("JournalEntry.entries").countDocuments({}), 0);
    });
  } finally {
    await h.close();
  }
});

Deno.test("concept API: an unexpected error is a 500 with the request id and no internals", async () => {
  const h = await openApi();
  try {
    const { token } = await h.account("broken");
    await h.client.close(); // every database call now fails in a way no concept expects
    const res = await h.send("JournalEntry/_getEntries", {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${token}`, "x-request-id": "trace-me-123" },
      body: "{}",
    });
    assert.equal(res.status, 500);
    assert.deepEqual(res.json, { error: "Internal server error", requestId: "trace-me-123" });
  } finally {
    await h.server.stop();
  }
});

Deno.test("concept API: a pool checkout timeout reaches the app's handler as 503 + Retry-After", async () => {
  const h = await openApi({ clientOptions: { maxPoolSize: 1, waitQueueTimeoutMS: 100 } });
  try {
    const { token } = await h.account("pool");
    h.server.setLatency(400);
    const results = await Promise.all(
      Array.from({ length: 3 }, () => h.post("JournalPrompt/_getPrompts", {}, token)),
    );
    h.server.setLatency(0);
    const busy = results.filter((r) => r.status === 503);
    assert.ok(busy.length >= 1, `statuses ${results.map((r) => r.status)}`);
    assert.equal(busy[0].headers.get("retry-after"), "1");
    assert.ok(results.some((r) => r.status === 200));
  } finally {
    await h.close();
  }
});
