/**
 * The account throttles over HTTP: a stranger's failures lock the stranger, not the owner; guessing across
 * unknown usernames and registering in bulk are both slowed per client address; each refusal is a 429
 * with Retry-After in the one error shape.
 */
import assert from "node:assert/strict";
import { FREE_ATTEMPTS } from "../../../src/concepts/UserAuth/mod.ts";
import { loadConfig } from "../../../src/config.ts";
import { addressKey, REGISTER_PER_ADDRESS } from "../../../src/server/throttle.ts";
import { type ApiResponse, openApi } from "./harness.ts";

const OWNER = "198.51.100.10";
const STRANGER = "203.0.113.66";

function assertThrottled(res: ApiResponse, message: RegExp): void {
  assert.equal(res.status, 429, JSON.stringify(res.json));
  assert.ok(Number(res.headers.get("retry-after")) >= 1, `Retry-After: ${res.headers.get("retry-after")}`);
  assert.match(res.json.error, message);
  assert.ok(res.json.requestId);
}

Deno.test("a stranger's failed logins lock the stranger out, never the owner", async () => {
  const h = await openApi();
  try {
    const password = "owner's password";
    assert.equal(
      (await h.post("UserAuth/register", { username: "owner", password }, undefined, OWNER)).status,
      200,
    );
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      const res = await h.post(
        "UserAuth/login",
        { username: "owner", password: "guess" },
        undefined,
        STRANGER,
      );
      assert.equal(res.status, 401);
    }
    // Even the right password is refused to the stranger now...
    const stranger = await h.post("UserAuth/login", { username: "owner", password }, undefined, STRANGER);
    assertThrottled(stranger, /from your address/);
    // ...while the owner, from their own address, logs in at once.
    const owner = await h.post("UserAuth/login", { username: "owner", password }, undefined, OWNER);
    assert.equal(owner.status, 200, JSON.stringify(owner.json));
    assert.ok(owner.json.token);
  } finally {
    await h.close();
  }
});

Deno.test("failed logins on usernames that do not exist are throttled per address", async () => {
  const limit = 6;
  const h = await openApi({ throttle: { loginFailuresPerAddress: limit } });
  try {
    // A new username each time, so no per-username counter ever reaches its limit.
    for (let i = 0; i < limit; i++) {
      const res = await h.post(
        "UserAuth/login",
        { username: `nobody-${i}`, password: "guess" },
        undefined,
        STRANGER,
      );
      assert.equal(res.status, 401, `attempt ${i + 1}`);
    }
    const next = await h.post(
      "UserAuth/login",
      { username: "nobody-x", password: "guess" },
      undefined,
      STRANGER,
    );
    assertThrottled(next, /failed logins from your address/);
    // Another address is not affected.
    const other = await h.post(
      "UserAuth/login",
      { username: "nobody-x", password: "guess" },
      undefined,
      OWNER,
    );
    assert.equal(other.status, 401);
  } finally {
    await h.close();
  }
});

Deno.test("register is throttled per address, taken usernames included", async () => {
  const h = await openApi();
  try {
    const register = (username: string, from: string) =>
      h.post("UserAuth/register", { username, password: "a good password" }, undefined, from);
    assert.equal((await register("bulk-0", STRANGER)).status, 200);
    assert.equal((await register("bulk-0", STRANGER)).status, 409, "a taken name counts too");
    for (let i = 2; i < REGISTER_PER_ADDRESS; i++) {
      assert.equal((await register(`bulk-${i}`, STRANGER)).status, 200);
    }
    assertThrottled(await register("bulk-late", STRANGER), /registered from your address/);
    assert.equal(await h.db.collection("UserAuth.users").countDocuments(), REGISTER_PER_ADDRESS - 1);
    assert.equal((await register("someone-else", OWNER)).status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("a burst of parallel registers from one address gets no more than the allowance", async () => {
  const h = await openApi();
  try {
    const statuses = await Promise.all(
      Array.from(
        { length: REGISTER_PER_ADDRESS + 3 },
        (_, i) =>
          h.post(
            "UserAuth/register",
            { username: `burst-${i}`, password: "a good password" },
            undefined,
            STRANGER,
          )
            .then((res) => res.status),
      ),
    );
    assert.equal(statuses.filter((s) => s === 200).length, REGISTER_PER_ADDRESS, String(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 3, String(statuses));
  } finally {
    await h.close();
  }
});

Deno.test("the client is the socket's peer, or what a trusted proxy forwarded; IPv6 counts by /64", async () => {
  const proxy = "10.0.0.2";
  const config = loadConfig({ APP_TRUSTED_PROXIES: `${proxy}, 10.0.0.3` }, { isTerminal: false });
  assert.deepEqual(config.http.trustedProxies, [proxy, "10.0.0.3"]);
  assert.throws(
    () => loadConfig({ APP_TRUSTED_PROXIES: "proxy.local" }, { isTerminal: false }),
    /APP_TRUSTED/,
  );
  assert.equal(addressKey("2001:db8:1:2:aaaa::1"), "2001:0db8:0001:0002::/64");
  assert.equal(addressKey("203.0.113.5"), "203.0.113.5");

  const h = await openApi({ trustedProxies: config.http.trustedProxies });
  try {
    let n = 0;
    const register = (from: string, forwardedFor?: string) =>
      h.send("UserAuth/register", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
        },
        body: JSON.stringify({ username: `client-${n++}`, password: "a good password" }),
      }, from);
    const fill = async (send: () => Promise<ApiResponse>) => {
      for (let i = 0; i < REGISTER_PER_ADDRESS; i++) {
        assert.equal((await send()).status, 200, `register ${i + 1}`);
      }
      return await send();
    };
    // Through the trusted proxy, each client has its own allowance (a spoofed hop on the left is skipped).
    assertThrottled(await fill(() => register(proxy, "198.18.0.1, 203.0.113.5")), /your address/);
    assert.equal((await register(proxy, "203.0.113.6")).status, 200);
    // From anyone else the header is ignored: a new forwarded address each time does not help.
    assertThrottled(await fill(() => register(STRANGER, `198.18.0.${n}`)), /your address/);
    // Every address of one IPv6 /64 shares one allowance.
    assertThrottled(await fill(() => register(`2001:db8:0:7::${n.toString(16)}`)), /your address/);
  } finally {
    await h.close();
  }
});
