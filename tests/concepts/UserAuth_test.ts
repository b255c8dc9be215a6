import assert from "node:assert/strict";
import {
  FREE_ATTEMPTS,
  lockSeconds,
  PBKDF2_ITERATIONS,
  TOKEN_LIFETIME_MS,
  UserAuth,
  USERNAME_DOUBLING_ATTEMPTS,
  USERNAME_FREE_ATTEMPTS,
  usernameLockSeconds,
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
      // The username's own lock starts much later and grows more slowly.
      assert.equal(usernameLockSeconds(USERNAME_FREE_ATTEMPTS - 1), 0);
      assert.equal(usernameLockSeconds(USERNAME_FREE_ATTEMPTS), 1);
      assert.equal(usernameLockSeconds(USERNAME_FREE_ATTEMPTS + USERNAME_DOUBLING_ATTEMPTS - 1), 1);
      assert.equal(usernameLockSeconds(USERNAME_FREE_ATTEMPTS + 3 * USERNAME_DOUBLING_ATTEMPTS), 8);
      assert.equal(usernameLockSeconds(10_000), 15 * 60);
    });

    await t.step(
      "repeated failures from one place lock that place, in the database, until the lock passes",
      async () => {
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
        const counters = h.db.collection<{ _id: string; attempts: number }>("UserAuth.loginThrottle");
        assert.equal((await counters.findOne({ _id: "pair unknown grace" }))?.attempts, FREE_ATTEMPTS);
        assert.equal((await counters.findOne({ _id: "user grace" }))?.attempts, FREE_ATTEMPTS);
        // The owner, coming from somewhere else, is not locked out by the guesser.
        const owner = await auth.login({ username: "grace", password: "right password" }, {
          from: "192.0.2.1",
        });
        assert.ok(owner.token);
        await auth.login({ username: "grace", password: "wrong password" }, { from: "192.0.2.7" }).catch(
          () => {},
        );
        assert.equal(
          (await refusal(() => auth.login({ username: "grace", password: "x" }, { from: "unknown" }))).kind,
          "rate_limited",
          "the success elsewhere did not unlock the guesser",
        );
        h.clock.advance(1000);
        const ok = await auth.login({ username: "grace", password: "right password" });
        assert.ok(ok.token);
        assert.equal(
          await counters.countDocuments({ _id: { $in: ["pair unknown grace", "user grace"] } }),
          0,
        );
      },
    );

    await t.step("failures spread over many places lock the username itself, for everyone", async () => {
      const limited = new UserAuth(h.db, { now: h.clock.now, loginLimits: { perUsername: 3 } });
      await limited.register({ username: "hopper", password: "right password" });
      for (const from of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) {
        const err = await refusal(() => limited.login({ username: "hopper", password: "guess" }, { from }));
        assert.equal(err.kind, "unauthorized", from);
      }
      const locked = await refusal(() =>
        limited.login({ username: "hopper", password: "right password" }, { from: "192.0.2.1" })
      );
      assert.equal(locked.kind, "rate_limited");
      assert.match(locked.message, /this username/);
      h.clock.advance(1000);
      assert.ok(
        (await limited.login({ username: "hopper", password: "right password" }, { from: "192.0.2.1" }))
          .token,
      );
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
