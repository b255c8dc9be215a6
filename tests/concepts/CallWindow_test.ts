import assert from "node:assert/strict";
import { newId } from "../../src/concepts/mod.ts";
import {
  AddRecurringWindowInput,
  findActiveWindow,
  localMoment,
  type WindowSpec,
} from "../../src/concepts/CallWindow/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

const AMS = "Europe/Amsterdam";
const weekly = (dayOfWeek: number, start: string, end: string): WindowSpec => ({
  _id: `w${dayOfWeek}${start}`,
  kind: "recurring",
  dayOfWeek,
  start,
  end,
});
const once = (date: string, start: string, end: string): WindowSpec => ({
  _id: `o${date}${start}`,
  kind: "oneoff",
  date,
  start,
  end,
});

Deno.test("findActiveWindow: local time of the person's zone, start inclusive, end exclusive", () => {
  const mondays = [weekly(1, "09:00", "10:00")];
  // 2025-06-02 is a Monday; Amsterdam is UTC+2 in summer.
  assert.equal(findActiveWindow(mondays, "2025-06-02T06:59:59Z", AMS), undefined);
  const open = findActiveWindow(mondays, "2025-06-02T07:00:00Z", AMS);
  assert.equal(open?.window, mondays[0]._id);
  assert.equal(open?.localDate, "2025-06-02");
  assert.equal(open?.startsAt, "2025-06-02T07:00:00Z");
  assert.equal(open?.endsAt, "2025-06-02T08:00:00Z");
  assert.equal(open?.occurrence, `${mondays[0]._id}:2025-06-02`);
  assert.equal(findActiveWindow(mondays, "2025-06-02T08:00:00Z", AMS), undefined);
  // The same instant is Monday 07:30 in London, outside the window.
  assert.equal(findActiveWindow(mondays, "2025-06-02T06:30:00Z", "Europe/London"), undefined);
});

Deno.test("findActiveWindow: the local day decides the weekday, across the date line", () => {
  // 2025-06-01T20:30Z is Sunday in UTC but Monday 08:30 in Auckland.
  const at = "2025-06-01T20:30:00Z";
  assert.deepEqual(localMoment(at, "Pacific/Auckland"), {
    date: "2025-06-02",
    dayOfWeek: 1,
    minutes: 8 * 60 + 30,
  });
  assert.ok(findActiveWindow([weekly(1, "08:00", "09:00")], at, "Pacific/Auckland"));
  assert.equal(findActiveWindow([weekly(1, "08:00", "09:00")], at, "UTC"), undefined);
});

Deno.test("findActiveWindow: a one-off window replaces that date's recurring windows", () => {
  const windows = [weekly(1, "09:00", "10:00"), once("2025-06-02", "14:00", "15:00")];
  assert.equal(findActiveWindow(windows, "2025-06-02T07:30:00Z", AMS), undefined);
  assert.equal(findActiveWindow(windows, "2025-06-02T12:30:00Z", AMS)?.kind, "oneoff");
  // A week later there is no one-off, so the recurring window is back.
  assert.equal(findActiveWindow(windows, "2025-06-09T07:30:00Z", AMS)?.kind, "recurring");
});

Deno.test("findActiveWindow: keeps wall-clock hours across daylight saving", () => {
  const sundays = [weekly(7, "09:00", "10:00")];
  // Amsterdam springs forward on Sunday 2025-03-30: 09:30 local is 08:30Z the week before, 07:30Z that day.
  assert.equal(findActiveWindow(sundays, "2025-03-23T08:30:00Z", AMS)?.startsAt, "2025-03-23T08:00:00Z");
  assert.equal(findActiveWindow(sundays, "2025-03-30T07:30:00Z", AMS)?.startsAt, "2025-03-30T07:00:00Z");
  assert.equal(findActiveWindow(sundays, "2025-03-30T08:30:00Z", AMS), undefined);
  // The skipped hour 02:00-03:00 never happens that day.
  const skipped = [weekly(7, "02:00", "03:00")];
  for (const at of ["2025-03-30T00:59:00Z", "2025-03-30T01:00:00Z", "2025-03-30T01:30:00Z"]) {
    assert.equal(findActiveWindow(skipped, at, AMS), undefined, at);
  }
  // Autumn (2025-10-26): 02:00-03:00 happens twice, and both are inside the window.
  assert.ok(findActiveWindow(skipped, "2025-10-26T00:30:00Z", AMS));
  assert.ok(findActiveWindow(skipped, "2025-10-26T01:30:00Z", AMS));
  assert.equal(findActiveWindow(skipped, "2025-10-26T02:00:00Z", AMS), undefined);
});

Deno.test("findActiveWindow: a window may run to 24:00", () => {
  const late = [weekly(1, "23:00", "24:00")];
  const open = findActiveWindow(late, "2025-06-02T21:59:00Z", AMS);
  assert.equal(open?.endsAt, "2025-06-02T22:00:00Z");
  assert.equal(findActiveWindow(late, "2025-06-02T22:00:00Z", AMS), undefined);
});

Deno.test("AddRecurringWindowInput: end after start, named on end", () => {
  for (const w of [{ start: "10:00", end: "10:00" }, { start: "10:00", end: "09:00" }]) {
    const result = AddRecurringWindowInput.safeParse({ dayOfWeek: 1, ...w });
    assert.equal(result.success, false);
    assert.deepEqual(result.error!.issues.map((i) => i.path.join(".")), ["end"]);
  }
  for (
    const bad of [{ dayOfWeek: 0 }, { dayOfWeek: 8 }, { start: "24:00" }, { start: "9:00" }, { end: "24:01" }]
  ) {
    assert.equal(
      AddRecurringWindowInput.safeParse({ dayOfWeek: 1, start: "09:00", end: "10:00", ...bad }).success,
      false,
    );
  }
});

Deno.test("CallWindow", async (t) => {
  const h = await openConcepts();
  const windows = h.concepts.callWindow;
  const user = newId();
  try {
    let monday = "";
    await t.step("adds weekly and one-off windows and lists them", async () => {
      ({ window: monday } = await windows.addRecurringWindow({
        user,
        dayOfWeek: 1,
        start: "09:00",
        end: "10:00",
      }));
      await windows.addRecurringWindow({ user, dayOfWeek: 1, start: "10:00", end: "11:00" }); // touching is fine
      await windows.addRecurringWindow({ user, dayOfWeek: 2, start: "09:30", end: "10:30" });
      await windows.addOneOffWindow({ user, date: "2025-06-02", start: "09:30", end: "12:00" }); // overrides
      const got = await windows._getWindows({ user });
      assert.deepEqual(got.map((w) => [w.kind, w.dayOfWeek ?? w.date, w.start, w.end]), [
        ["recurring", 1, "09:00", "10:00"],
        ["recurring", 1, "10:00", "11:00"],
        ["recurring", 2, "09:30", "10:30"],
        ["oneoff", "2025-06-02", "09:30", "12:00"],
      ]);
    });

    await t.step("refuses an overlapping window with a sentence that says which", async () => {
      const err = await refusal(() =>
        windows.addRecurringWindow({ user, dayOfWeek: 1, start: "09:30", end: "09:45" })
      );
      assert.equal(err.kind, "conflict");
      assert.equal(err.message, "That window overlaps your 09:00-10:00 window on Mondays.");
      const once = await refusal(() =>
        windows.addOneOffWindow({ user, date: "2025-06-02", start: "11:59", end: "13:00" })
      );
      assert.match(once.message, /on 2025-06-02/);
      assert.equal((await windows._getWindows({ user })).length, 4);
    });

    await t.step("refuses a window that ends before it starts", async () => {
      const err = await refusal(() =>
        windows.addRecurringWindow({ user, dayOfWeek: 3, start: "10:00", end: "09:00" })
      );
      assert.equal(err.kind, "invalid");
    });

    await t.step("two overlapping adds racing: never both stay", async () => {
      const racer = newId();
      const results = await Promise.allSettled([
        windows.addRecurringWindow({ user: racer, dayOfWeek: 5, start: "09:00", end: "10:00" }),
        windows.addRecurringWindow({ user: racer, dayOfWeek: 5, start: "09:30", end: "10:30" }),
        windows.addRecurringWindow({ user: racer, dayOfWeek: 5, start: "09:45", end: "11:00" }),
      ]);
      const kept = await windows._getWindows({ user: racer });
      assert.ok(kept.length <= 1);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, kept.length);
    });

    await t.step("_getActiveWindow reads the stored windows (the one-off overrides Monday)", async () => {
      await h.concepts.profile.setProfile({
        user,
        phoneNumber: "+31612345678",
        displayName: "Ada",
        namePronunciation: "",
        timezone: AMS,
        maxRetries: 3,
        includeRating: false,
      });
      const at = (iso: string) => windows._getActiveWindow({ user, at: iso, timezone: AMS });
      assert.equal((await at("2025-06-02T07:45:00Z"))[0]?.kind, "oneoff"); // 09:45 local
      assert.deepEqual(await at("2025-06-02T10:30:00Z"), []); // 12:30 local, one-off over
      assert.equal((await at("2025-06-09T07:15:00Z"))[0]?.window, monday); // next Monday
      assert.deepEqual(await at("2025-06-09T09:15:00Z"), []); // Monday 11:15
      assert.equal((await at("2025-06-03T07:45:00Z"))[0]?.start, "09:30"); // Tuesday
    });

    await t.step("removeWindow: only your own", async () => {
      assert.equal(
        (await refusal(() => windows.removeWindow({ user: newId(), window: monday }))).kind,
        "not_found",
      );
      await windows.removeWindow({ user, window: monday });
      assert.ok(!(await windows._getWindows({ user })).some((w) => w._id === monday));
    });
  } finally {
    await h.close();
  }
});
