import assert from "node:assert/strict";
import {
  FREE_ATTEMPTS,
  lockSeconds,
  PBKDF2_ITERATIONS,
  TOKEN_LIFETIME_MS,
} from "../../src/concepts/UserAuth/mod.ts";
import { registerUser } from "../../src/concepts/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

Deno.test("UserAuth", async (t) => {
  const h = await openConcepts();
  const auth = h.concepts.userAuth;
  try {
    const { user: ada } = await registerUser(h.concepts, { username: "Ada", password: "correct horse" });

    await t.step("stores a salted PBKDF2 hash, never the password", async () => {
      const doc = await h.db.collection("UserAuth.users").findOne({ _id: ada as never });
      assert.ok(doc);
      assert.equal(doc.password.algorithm, "PBKDF2-SHA256");
      assert.ok(doc.password.iterations >= 600_000 && doc.password.iterations === PBKDF2_ITERATIONS);
      assert.ok(atob(doc.password.salt).length >= 16);
      assert.ok(!JSON.stringify(doc).includes("correct horse"));
    });

    await t.step("refuses a username taken in any letter case", async () => {
      const err = await refusal(() => auth.register({ username: "ADA", password: "another one" }));
      assert.equal(err.kind, "conflict");
      assert.match(err.message, /taken/);
    });

    await t.step("login hands out a token that stands for the user; only its hash is stored", async () => {
      const { token, user } = await auth.login({ username: "ada", password: "correct horse" });
      assert.equal(user, ada);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(await auth.authenticate({ token }), { user: ada });
      const stored = await h.db.collection("UserAuth.tokens").find({ user: ada }).toArray();
      assert.equal(stored.length, 1);
      assert.match(String(stored[0]._id), /^[0-9a-f]{64}$/);
      assert.ok(!JSON.stringify(stored).includes(token));
    });

    await t.step("a token expires after 30 days", async () => {
      const { token } = await auth.login({ username: "ada", password: "correct horse" });
      h.clock.advance(TOKEN_LIFETIME_MS - 1000);
      assert.deepEqual(await auth.authenticate({ token }), { user: ada });
      h.clock.advance(1000);
      assert.equal((await refusal(() => auth.authenticate({ token }))).kind, "unauthorized");
    });

    await t.step("logout revokes the token and nothing else", async () => {
      const first = await auth.login({ username: "ada", password: "correct horse" });
      const second = await auth.login({ username: "ada", password: "correct horse" });
      await auth.logout({ token: first.token });
      assert.equal((await refusal(() => auth.authenticate({ token: first.token }))).kind, "unauthorized");
      assert.deepEqual(await auth.authenticate({ token: second.token }), { user: ada });
      await auth.logout({ token: first.token }); // twice is fine
    });

    await t.step("garbage tokens are refused without a lookup", async () => {
      for (const token of ["", "short", "x".repeat(43) + "!", "a".repeat(200)]) {
        assert.equal((await refusal(() => auth.authenticate({ token }))).kind, "unauthorized");
      }
    });

    await t.step("wrong password and unknown user get the same refusal", async () => {
      const wrong = await refusal(() => auth.login({ username: "ada", password: "wrong horse" }));
      const unknown = await refusal(() => auth.login({ username: "nobody", password: "wrong horse" }));
      assert.deepEqual(wrong, unknown);
      assert.equal(wrong.kind, "unauthorized");
    });

    await t.step("_getUser shows the username only", async () => {
      assert.deepEqual(await auth._getUser({ user: ada }), [{ user: ada, username: "Ada" }]);
      assert.deepEqual(await auth._getUser({ user: "0".repeat(24) }), []);
    });

    await t.step("the lock grows exponentially and is capped", () => {
      assert.equal(lockSeconds(FREE_ATTEMPTS - 1), 0);
      assert.equal(lockSeconds(FREE_ATTEMPTS), 1);
      assert.equal(lockSeconds(FREE_ATTEMPTS + 3), 8);
      assert.equal(lockSeconds(100), 15 * 60);
    });

    await t.step("repeated failures lock the username, in the database, until the lock passes", async () => {
      await auth.register({ username: "grace", password: "right password" });
      for (let i = 1; i < FREE_ATTEMPTS; i++) {
        assert.equal(
          (await refusal(() => auth.login({ username: "grace", password: "nope-nope" }))).kind,
          "unauthorized",
        );
      }
      // The fifth failure locks the name for a second, in the database.
      await refusal(() => auth.login({ username: "grace", password: "nope-nope" }));
      const locked = await refusal(() => auth.login({ username: "GRACE", password: "right password" }));
      assert.equal(locked.kind, "rate_limited");
      const record = await h.db.collection("UserAuth.loginAttempts").findOne({ username: "grace" });
      assert.equal(record?.attempts, FREE_ATTEMPTS);
      h.clock.advance(1000);
      const ok = await auth.login({ username: "grace", password: "right password" });
      assert.ok(ok.token);
      assert.equal(await h.db.collection("UserAuth.loginAttempts").countDocuments({ username: "grace" }), 0);
    });

    await t.step("parallel guesses on one username run one at a time", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => auth.login({ username: "ada", password: "parallel guess" })),
      );
      const kinds = results.map((r) => r.status === "rejected" ? (r.reason as { kind: string }).kind : "ok");
      assert.equal(kinds.filter((k) => k === "unauthorized").length, 1);
      assert.equal(kinds.filter((k) => k === "rate_limited").length, 3);
    });
  } finally {
    await h.close();
  }
});
