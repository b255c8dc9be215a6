/**
 * The call leases this instance holds, as the call-scheduler worker's status and `/metrics` show them: up
 * while calls ring, back to 0 when they complete, and when the worker stops and the leases are released.
 */
import assert from "node:assert/strict";
import type { CallDoc } from "../../src/concepts/CallScheduler/mod.ts";
import { HeldLeases } from "../../src/calls/mod.ts";
import { createMetrics } from "../../src/server/metrics/mod.ts";
import { ManualClock } from "../concepts/harness.ts";
import { promtoolCheck } from "../helpers/promtool.ts";
import { waitFor } from "../helpers/wait.ts";
import { seedPerson, zoneInsideItsDay } from "../workers/seed.ts";
import { type CallHarness, openCallHarness } from "./harness.ts";

const INSTANCE = "zien-backend:leases-test:1";

/** The call-scheduler worker's `leasesHeld`, as main.ts hands it to the admin report and the dashboard. */
function leasesHeld(h: CallHarness): number | undefined {
  return h.workers.find((w) => w.name === "call-scheduler")?.status().leasesHeld;
}

/** The calls whose lease the database says this instance holds. */
function leasedInDb(h: CallHarness): Promise<number> {
  return h.db.collection<CallDoc>("CallScheduler.calls")
    .countDocuments({ status: "IN_PROGRESS", "lease.owner": INSTANCE });
}

async function seedTwo(h: CallHarness): Promise<string[]> {
  const { timezone } = zoneInsideItsDay();
  return [await seedPerson(h.concepts, { timezone }), await seedPerson(h.concepts, { timezone })];
}

Deno.test("the leases held rise while calls ring, show on /metrics, and return to 0 as the calls complete", async () => {
  // Long enough a ring to watch, short enough that the calls complete well within the test.
  const h = await openCallHarness({ instance: INSTANCE, env: { TELEPHONY_SIM_RING_MS: "2500" } });
  try {
    const users = await seedTwo(h);
    assert.equal(leasesHeld(h), 0, "none before anything is claimed");
    h.start();
    await waitFor(() => leasesHeld(h) === 2, { what: "two leases held while the calls ring" });
    assert.equal(await leasedInDb(h), 2, "the database agrees");

    const metrics = createMetrics({ workers: () => h.workers.map((w) => w.status()) });
    try {
      const text = await metrics.registry.metrics();
      const checked = await promtoolCheck(text);
      assert.equal(checked.code, 0, checked.output);
      assert.equal(checked.output.trim(), "", "no lint problems");
      assert.match(text, /^zien_calls_leases_held\{worker="call-scheduler"\} 2$/m);
      assert.doesNotMatch(text, /zien_calls_leases_held\{worker="call-window"\}/, "it takes no call leases");
    } finally {
      metrics.close();
    }

    const calls = h.db.collection<CallDoc>("CallScheduler.calls");
    await waitFor(
      async () => await calls.countDocuments({ user: { $in: users }, status: "COMPLETED" }) === 2,
      {
        what: "both calls to complete",
        timeoutMs: 20_000,
      },
    );
    assert.equal(leasesHeld(h), 0, "completions give the leases back");
    assert.equal(await leasedInDb(h), 0);
  } finally {
    await h.close();
  }
});

Deno.test("stopping the worker keeps the leases until the runtime releases them, then 0", async () => {
  // The calls ring for the whole test: only the stop ends their leases here.
  const h = await openCallHarness({ instance: INSTANCE, env: { TELEPHONY_SIM_RING_MS: "60000" } });
  try {
    await seedTwo(h);
    h.start();
    await waitFor(() => leasesHeld(h) === 2, { what: "two leases held while the calls ring" });
    await Promise.all(h.workers.map((w) => w.stop()));
    assert.equal(leasesHeld(h), 2, "a stopped worker's calls are still leased until the release");
    await h.runtime.close();
    assert.equal(leasesHeld(h), 0, "released at shutdown");
    assert.equal(await leasedInDb(h), 0, "the database agrees");
  } finally {
    await h.close();
  }
});

Deno.test("a lease that is not renewed before its deadline is lost; an ended or stale attempt changes nothing else", () => {
  const time = new ManualClock();
  const leases = new HeldLeases({ leaseMs: 1_000, now: time.now });
  leases.claimed({ call: "a", attempt: 1 });
  leases.claimed({ call: "b", attempt: 1 });
  time.advance(900);
  leases.renewed([{ call: "a", attempt: 1 }, { call: "b", attempt: 2 }]);
  assert.equal(leases.count(), 2);
  time.advance(200);
  assert.equal(leases.count(), 1, "b was claimed 1.1 s ago and its renewal named another attempt");
  leases.renewed([{ call: "b", attempt: 1 }]);
  assert.equal(leases.count(), 1, "a lost lease is not taken back by a renewal");
  leases.ended({ call: "a", attempt: 0 });
  assert.equal(leases.count(), 1, "an earlier attempt's end leaves the current lease");
  leases.ended({ call: "a", attempt: 1 });
  assert.equal(leases.count(), 0);
});
