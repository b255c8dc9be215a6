import assert from "node:assert/strict";
import { newId } from "../../src/concepts/mod.ts";
import { SetProfileInput } from "../../src/concepts/Profile/mod.ts";
import { openConcepts } from "./harness.ts";

Deno.test("Profile", async (t) => {
  const h = await openConcepts();
  const profile = h.concepts.profile;
  const user = newId();
  try {
    await t.step("no profile until one is set", async () => {
      assert.deepEqual(await profile._getProfile({ user }), []);
    });

    await t.step("setProfile fills the defaults and canonicalises the time zone", async () => {
      const input = SetProfileInput.parse({
        phoneNumber: "+31612345678",
        displayName: " Ada ",
        timezone: "europe/amsterdam",
      });
      await profile.setProfile({ user, ...input });
      const [got] = await profile._getProfile({ user });
      assert.equal(got.user, user);
      assert.equal(got.displayName, "Ada");
      assert.equal(got.timezone, "Europe/Amsterdam");
      assert.equal(got.maxRetries, 3);
      assert.equal(got.includeRating, false);
      assert.equal(got.namePronunciation, "");
    });

    await t.step("setProfile again replaces the whole profile", async () => {
      const input = SetProfileInput.parse({
        phoneNumber: "+14155550100",
        displayName: "Ada L.",
        namePronunciation: "AY-da",
        timezone: "America/Los_Angeles",
        maxRetries: 0,
        includeRating: true,
      });
      await profile.setProfile({ user, ...input });
      const got = await profile._getProfile({ user });
      assert.equal(got.length, 1);
      assert.equal(got[0].phoneNumber, "+14155550100");
      assert.equal(got[0].maxRetries, 0);
      assert.equal(got[0].includeRating, true);
      assert.equal(await h.db.collection("Profile.profiles").countDocuments({}), 1);
    });

    await t.step("profiles are per person", async () => {
      assert.deepEqual(await profile._getProfile({ user: newId() }), []);
    });

    await t.step("the schema refuses bad phone numbers, zones and retry counts, naming the field", () => {
      const base = { phoneNumber: "+31612345678", displayName: "Ada", timezone: "UTC" };
      const cases: [Record<string, unknown>, string][] = [
        [{ phoneNumber: "0612345678" }, "phoneNumber"],
        [{ phoneNumber: "+0612345678" }, "phoneNumber"],
        [{ phoneNumber: "+3161234567890123" }, "phoneNumber"],
        [{ timezone: "Mars/Olympus_Mons" }, "timezone"],
        [{ timezone: "+01:00" }, "timezone"],
        [{ maxRetries: 6 }, "maxRetries"],
        [{ maxRetries: -1 }, "maxRetries"],
        [{ maxRetries: 1.5 }, "maxRetries"],
        [{ displayName: "  " }, "displayName"],
      ];
      for (const [change, field] of cases) {
        const result = SetProfileInput.safeParse({ ...base, ...change });
        assert.equal(result.success, false, JSON.stringify(change));
        assert.deepEqual(result.error!.issues.map((i) => i.path.join(".")), [field]);
      }
    });
  } finally {
    await h.close();
  }
});
