/**
 * Bearer tokens over HTTP: expiry (with an injected clock) and revocation, with and without the
 * per-process token cache.
 */
import assert from "node:assert/strict";
import { TOKEN_LIFETIME_MS } from "../../../src/concepts/UserAuth/mod.ts";
import { openApi } from "./harness.ts";

for (const tokenCacheMs of [0, 60_000]) {
  Deno.test(`bearer tokens (token cache ${tokenCacheMs} ms)`, async (t) => {
    const h = await openApi({ tokenCacheMs });
    try {
      const { token, user } = await h.account("tokens");

      await t.step("the token from login stands for its user", async () => {
        const res = await h.post("UserAuth/_getUser", {}, token);
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, [{ user, username: "tokens" }]);
      });

      await t.step("login answers with the token and user, never the hash", async () => {
        const res = await h.post("UserAuth/login", { username: "tokens", password: "tokens password" });
        assert.deepEqual(Object.keys(res.json).sort(), ["token", "user"]);
        assert.ok(!JSON.stringify(res.json).includes("PBKDF2"));
      });

      await t.step("expires 30 days after login, even when cached", async () => {
        const login = await h.post("UserAuth/login", { username: "tokens", password: "tokens password" });
        const fresh = login.json.token as string;
        assert.equal((await h.post("JournalEntry/_getEntries", {}, fresh)).status, 200);
        h.clock.advance(TOKEN_LIFETIME_MS - 1);
        assert.equal((await h.post("JournalEntry/_getEntries", {}, fresh)).status, 200);
        h.clock.advance(1);
        const expired = await h.post("JournalEntry/_getEntries", {}, fresh);
        assert.equal(expired.status, 401);
        assert.match(expired.json.error, /expired/);
      });

      await t.step("logout revokes that token at once, and only that one", async () => {
        const a =
          (await h.post("UserAuth/login", { username: "tokens", password: "tokens password" })).json.token;
        const b =
          (await h.post("UserAuth/login", { username: "tokens", password: "tokens password" })).json.token;
        assert.equal((await h.post("JournalEntry/_getEntries", {}, a)).status, 200); // now cached, if caching
        assert.equal((await h.post("UserAuth/logout", {}, a)).status, 200);
        assert.equal((await h.post("JournalEntry/_getEntries", {}, a)).status, 401);
        assert.equal((await h.post("UserAuth/logout", {}, a)).status, 401);
        assert.equal((await h.post("JournalEntry/_getEntries", {}, b)).status, 200);
      });

      await t.step("the first token has expired with the moved clock too", async () => {
        // It was made before the clock moved on by 30 days.
        assert.equal((await h.post("UserAuth/_getUser", {}, token)).status, 401);
      });
    } finally {
      await h.close();
    }
  });
}
