import assert from "node:assert/strict";
import { newId } from "../../src/concepts/mod.ts";
import { ONE_ACTIVE_CALL_INDEX } from "../../src/concepts/CallScheduler/mod.ts";
import { openConcepts, refusal } from "./harness.ts";

Deno.test("CallScheduler", async (t) => {
  const h = await openConcepts();
  const calls = h.concepts.callScheduler;
  const user = newId();
  const phoneNumber = "+31612345678";
  const soon = () => new Date(h.clock.now().getTime() + 60_000).toISOString();
  const schedule = (who = user) =>
    calls.scheduleCall({ user: who, reflectionSession: newId(), phoneNumber, scheduledFor: soon() });
  try {
    let first = "";
    await t.step("a new call is PENDING and due at its time, with the worker's fields ready", async () => {
      ({ call: first } = await schedule());
      const [view] = await calls._getScheduledCall({ user, call: first });
      assert.equal(view.status, "PENDING");
      assert.equal(view.phoneNumber, phoneNumber);
      assert.equal(view.attempts, 0);
      assert.deepEqual(view.nextAttemptAt, view.scheduledFor);
      assert.ok(!("lease" in view) && !("active" in view));
      const raw = await h.db.collection("CallScheduler.calls").findOne({ _id: first as never });
      assert.equal(raw?.active, true);
      assert.equal(raw?.lease, null);
    });

    await t.step("a second active call is refused with a sentence", async () => {
      const err = await refusal(() => schedule());
      assert.equal(err.kind, "conflict");
      assert.match(err.message, /already have a call that is pending or in progress/);
      assert.deepEqual((await calls._getActiveCallsForUser({ user })).map((c) => c._id), [first]);
    });

    await t.step("the database itself refuses a second active call", async () => {
      const indexes = await h.db.collection("CallScheduler.calls").listIndexes().toArray();
      const index = indexes.find((i) => i.name === ONE_ACTIVE_CALL_INDEX);
      assert.equal(index?.unique, true);
      assert.deepEqual(index?.partialFilterExpression, { active: true });
      await assert.rejects(
        h.db.collection("CallScheduler.calls").insertOne({ _id: newId() as never, user, active: true }),
        (err: { code?: number }) => err.code === 11000,
      );
    });

    await t.step("ten racing requests for a new person: exactly one call", async () => {
      const racer = newId();
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => schedule(racer)));
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      assert.ok(
        results.every((r) => r.status === "fulfilled" || (r.reason as { kind: string }).kind === "conflict"),
      );
      assert.equal((await calls._getActiveCallsForUser({ user: racer })).length, 1);
    });

    await t.step("cancelCall: PENDING -> CANCELLED frees the slot; only once; only your own", async () => {
      assert.equal((await refusal(() => calls.cancelCall({ user: newId(), call: first }))).kind, "not_found");
      await calls.cancelCall({ user, call: first });
      const [view] = await calls._getScheduledCall({ user, call: first });
      assert.equal(view.status, "CANCELLED");
      assert.ok(view.endedAt instanceof Date);
      const again = await refusal(() => calls.cancelCall({ user, call: first }));
      assert.equal(again.kind, "conflict");
      assert.equal(again.message, "This call cannot be cancelled: it is cancelled.");
      assert.deepEqual(await calls._getActiveCallsForUser({ user }), []);
      await schedule(); // the slot is free again
    });

    await t.step("transition() keeps `active` in step and enforces the legal moves", async () => {
      const [call] = await calls._getActiveCallsForUser({ user });
      const claimed = await calls.transition({
        call: call._id,
        from: ["PENDING"],
        to: "IN_PROGRESS",
        inc: { attempts: 1 },
      });
      assert.equal(claimed?.status, "IN_PROGRESS");
      assert.equal(claimed?.active, true);
      assert.equal(claimed?.attempts, 1);
      assert.equal(await calls.transition({ call: call._id, from: ["PENDING"], to: "IN_PROGRESS" }), null);
      const cancel = await refusal(() => calls.cancelCall({ user, call: call._id }));
      assert.match(cancel.message, /in progress/);
      const done = await calls.transition({ call: call._id, from: ["IN_PROGRESS"], to: "COMPLETED" });
      assert.equal(done?.active, false);
      await assert.rejects(
        calls.transition({ call: call._id, from: ["COMPLETED"], to: "PENDING" }),
        /illegal/,
      );
      assert.deepEqual(await calls._getActiveCallsForUser({ user }), []);
    });

    await t.step("refuses times in the past or more than a year away", async () => {
      for (const offset of [-10 * 60_000, 400 * 24 * 3600_000]) {
        const scheduledFor = new Date(h.clock.now().getTime() + offset).toISOString();
        const err = await refusal(() =>
          calls.scheduleCall({ user: newId(), reflectionSession: newId(), phoneNumber, scheduledFor })
        );
        assert.equal(err.kind, "invalid");
      }
    });

    await t.step("someone else's call is not found", async () => {
      const [call] = await h.db.collection("CallScheduler.calls").find({ user }).limit(1).toArray();
      assert.equal(
        (await refusal(() => calls._getScheduledCall({ user: newId(), call: String(call._id) }))).kind,
        "not_found",
      );
    });
  } finally {
    await h.close();
  }
});
