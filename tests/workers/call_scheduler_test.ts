/**
 * The call-scheduler worker and the worker side of CallScheduler: atomic claims across instances, bounded
 * concurrency, a graceful stop, lease release and recovery, and statuses that never go backwards.
 */
import assert from "node:assert/strict";
import { startReflection } from "../../src/concepts/mod.ts";
import { CallQueue } from "../../src/concepts/CallScheduler/mod.ts";
import {
  type PlaceCallRequest,
  PlacementError,
  type ProviderCallState,
  type TelephonyProvider,
} from "../../src/telephony/mod.ts";
import { createCallSchedulerTick } from "../../src/workers/mod.ts";
import { ManualClock } from "../concepts/harness.ts";
import { waitFor } from "../helpers/wait.ts";
import { openCallsDb } from "./fixture.ts";
import { seedPerson, zoneInsideItsDay } from "./seed.ts";

/** The provider call id `RecordingProvider` gives a call, so tests can set what it says about that call. */
const providerCallIdOf = (callId: string) => `CA${callId.padStart(32, "0")}`;

/**
 * A provider that records placements; `hold` keeps each one pending until `release()`. `states` is what it
 * says about a call (default unknown), and a call it cannot tell about rings at most `ringTimeoutMs`.
 */
class RecordingProvider implements TelephonyProvider {
  readonly name = "simulated" as const;
  readonly placed: PlaceCallRequest[] = [];
  readonly states = new Map<string, ProviderCallState>();
  ringTimeoutMs = 0;
  /** Placements that time out, as Twilio's may: the call may have been made anyway. */
  timeouts = 0;
  inFlight = 0;
  maxInFlight = 0;
  #gate = Promise.withResolvers<void>();

  constructor(readonly hold = false) {}

  async placeCall(request: PlaceCallRequest) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold) await this.#gate.promise;
      else await new Promise((resolve) => setTimeout(resolve, 2));
      if (this.timeouts > 0 && this.timeouts--) {
        throw new PlacementError("no answer within 15000 ms", {
          retryable: true,
          failure: "unreachable",
          mayHavePlaced: true,
        });
      }
      this.placed.push(request);
      return { providerCallId: providerCallIdOf(request.callId) };
    } finally {
      this.inFlight--;
    }
  }

  release(): void {
    this.#gate.resolve();
  }

  callStatus(providerCallId: string): Promise<ProviderCallState> {
    return Promise.resolve(this.states.get(providerCallId) ?? "unknown");
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function open(options: { clock?: ManualClock; leaseMs?: number } = {}) {
  const now = options.clock?.now;
  const fixture = await openCallsDb({ dbName: "zien_scheduler_test", now });
  const { db, concepts } = fixture;
  const queue = (leaseMs = options.leaseMs ?? 60_000) => new CallQueue(db, { now, leaseMs });
  const { timezone } = zoneInsideItsDay();
  /** `count` people, each with a PENDING call due now. */
  const pendingCalls = async (count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const user = await seedPerson(concepts, { timezone, window: "none" });
      const { session } = await startReflection(concepts, { user, mode: "phone" });
      const { call } = await concepts.callScheduler.scheduleCall({
        user,
        reflectionSession: session,
        phoneNumber: `+1555000${String(1000 + i)}`,
        scheduledFor: (options.clock?.now() ?? new Date()).toISOString(),
      });
      ids.push(call);
    }
    return ids;
  };
  const tick = (instance: string, provider: TelephonyProvider, concurrency = 4, leaseMs?: number) =>
    createCallSchedulerTick({
      concepts,
      queue: queue(leaseMs),
      backoff: { baseMs: 0, maxMs: 0 },
      instance,
      now,
      provider,
      concurrency,
      callbackBaseUrl: () => "http://127.0.0.1:9",
    });
  return { ...fixture, queue, pendingCalls, tick };
}

/** The lease tests' start: a hand-moved clock, 1 s leases and one PENDING call due now. */
async function openOneCall() {
  const clock = new ManualClock(new Date().toISOString());
  const t = await open({ clock, leaseMs: 1_000 });
  try {
    const [id] = await t.pendingCalls(1);
    return { t, clock, id };
  } catch (err) {
    await t.close();
    throw err;
  }
}

const never = new AbortController().signal;

Deno.test("three instances claiming at once place each due call exactly once, within CALL_CONCURRENCY", async () => {
  const t = await open();
  try {
    const ids = await t.pendingCalls(30);
    const providers = [new RecordingProvider(), new RecordingProvider(), new RecordingProvider()];
    await Promise.all(providers.map((p, i) => t.tick(`zien-backend:h:${i}`, p, 3)(never)));
    const placed = providers.flatMap((p) => p.placed.map((r) => r.callId));
    assert.deepEqual(placed.toSorted(), ids.toSorted(), "every call placed once");
    assert.ok(providers.every((p) => p.maxInFlight <= 3), "at most CALL_CONCURRENCY placements at once");
    const docs = await t.calls.find({}).toArray();
    assert.ok(docs.every((d) => d.status === "IN_PROGRESS" && d.attempts === 1 && d.providerCallId !== null));
    const owners = new Set(docs.map((d) => d.lease?.owner));
    assert.ok(owners.size >= 2, `claims spread over instances: ${[...owners]}`);
    const url = new URL(providers.flatMap((p) => p.placed)[0].statusCallbackUrl);
    assert.equal(url.pathname, "/webhooks/telephony/status");
    assert.equal(url.searchParams.get("attempt"), "1");
  } finally {
    await t.close();
  }
});

Deno.test("stopping during a tick: no new claims, placements in flight finish, leases are released", async () => {
  const t = await open();
  try {
    await t.pendingCalls(6);
    const provider = new RecordingProvider(true);
    const abort = new AbortController();
    const ticking = t.tick("zien-backend:h:a", provider, 2)(abort.signal);
    await waitFor(() => provider.inFlight === 2, { what: "two placements in flight" });
    abort.abort();
    provider.release();
    await ticking;
    assert.equal(provider.placed.length, 2, "the two in flight finished; nothing new was claimed");
    assert.equal(await t.calls.countDocuments({ status: "PENDING", attempts: 0, lease: null }), 4);
    const released = await t.queue().releaseLeases({ owner: "zien-backend:h:a" });
    assert.deepEqual(released, { requeued: 0, released: 2 });
    assert.equal(await t.calls.countDocuments({ "lease.owner": "zien-backend:h:a" }), 0);
    assert.equal(
      await t.calls.countDocuments({ status: "IN_PROGRESS", lease: null }),
      2,
      "placed calls go on",
    );
  } finally {
    await t.close();
  }
});

Deno.test("a claim never placed is requeued at release, and the attempt does not count", async () => {
  const t = await open();
  try {
    const [first, second] = await t.pendingCalls(2);
    const queue = t.queue();
    const mine = await queue.claimDueCall({ owner: "zien-backend:h:a" });
    const theirs = await queue.claimDueCall({ owner: "zien-backend:h:b" });
    assert.deepEqual(new Set([mine?._id, theirs?._id]), new Set([first, second]));
    assert.deepEqual(await queue.releaseLeases({ owner: "zien-backend:h:a" }), { requeued: 1, released: 0 });
    const requeued = (await t.calls.findOne({ _id: mine!._id }))!;
    assert.equal(requeued.status, "PENDING");
    assert.equal(requeued.attempts, 0);
    assert.equal(requeued.lease, null);
    assert.equal((await t.calls.findOne({ _id: theirs!._id }))!.lease?.owner, "zien-backend:h:b");
  } finally {
    await t.close();
  }
});

Deno.test("an instance that dies holding a lease: another recovers the call once it expires", async () => {
  const { t, clock, id } = await openOneCall();
  try {
    const dead = await t.queue().claimDueCall({ owner: "zien-backend:h:dead" });
    assert.equal(dead?._id, id);
    const provider = new RecordingProvider();
    await t.tick("zien-backend:h:alive", provider, 1)(never);
    assert.equal(provider.placed.length, 0, "the lease is still good");
    clock.advance(1_001);
    await t.tick("zien-backend:h:alive", provider, 1)(never);
    assert.equal(provider.placed.length, 1, "recovered, then placed again in the same tick");
    assert.equal(new URL(provider.placed[0].statusCallbackUrl).searchParams.get("attempt"), "2");
    const call = (await t.calls.findOne({ _id: id }))!;
    assert.equal(call.attempts, 2);
    assert.equal(call.lease?.owner, "zien-backend:h:alive");
    assert.match(call.lastError ?? "", /held by zien-backend:h:dead/);
  } finally {
    await t.close();
  }
});

Deno.test("a lease that runs out while the call still rings: held, never placed again under it", async () => {
  const { t, clock, id } = await openOneCall();
  try {
    const placer = new RecordingProvider();
    await t.tick("zien-backend:h:placer", placer, 1)(never);
    const sid = providerCallIdOf(id);
    placer.states.set(sid, "ringing");
    // The placer's heartbeat renews the lease while its provider says the call rings.
    clock.advance(800);
    await t.tick("zien-backend:h:placer", placer, 1)(never);
    clock.advance(800);
    const other = new RecordingProvider();
    other.states.set(sid, "ringing");
    await t.tick("zien-backend:h:other", other, 1)(never);
    assert.equal(other.placed.length, 0, "renewed by the heartbeat: nothing to recover");
    // With no heartbeat (the placer is gone), the lease runs out; the provider says it rings: held.
    clock.advance(1_001);
    await t.tick("zien-backend:h:other", other, 1)(never);
    assert.equal(other.placed.length, 0, "the provider says it rings: not placed again");
    let call = (await t.calls.findOne({ _id: id }))!;
    assert.equal(call.status, "IN_PROGRESS");
    assert.equal(call.attempts, 1);
    // Unknown to the provider, it may ring until its ring timeout: still not placed again.
    other.states.delete(sid);
    other.ringTimeoutMs = 10_000;
    clock.advance(1_001);
    await t.tick("zien-backend:h:other", other, 1)(never);
    assert.equal(other.placed.length, 0, "it may still ring: not placed again");
    // Past the ring timeout it is a failed attempt, and the next attempt is placed.
    clock.advance(10_000);
    await t.tick("zien-backend:h:other", other, 1)(never);
    assert.equal(other.placed.length, 1);
    call = (await t.calls.findOne({ _id: id }))!;
    assert.equal(call.attempts, 2);
    assert.match(call.lastError ?? "", /no progress within the lease/);
  } finally {
    await t.close();
  }
});

Deno.test("a placement that timed out may have rung: the next attempt waits out the ring timeout", async () => {
  const { t, clock, id } = await openOneCall();
  try {
    const provider = new RecordingProvider();
    provider.ringTimeoutMs = 10_000;
    provider.timeouts = 1;
    await t.tick("zien-backend:h:a", provider, 1)(never);
    assert.equal(provider.placed.length, 0);
    const call = (await t.calls.findOne({ _id: id }))!;
    assert.equal(call.status, "PENDING");
    assert.equal(call.nextAttemptAt.getTime(), call.attemptStartedAt!.getTime() + 10_000);
    clock.advance(9_999);
    await t.tick("zien-backend:h:a", provider, 1)(never);
    assert.equal(provider.placed.length, 0, "it may still ring");
    clock.advance(1);
    await t.tick("zien-backend:h:a", provider, 1)(never);
    assert.equal(provider.placed.length, 1);
    assert.equal((await t.calls.findOne({ _id: id }))!.attempts, 2);
  } finally {
    await t.close();
  }
});

Deno.test("a lease that runs out on a call the provider says ended: ended here the same way", async () => {
  const { t, clock, id } = await openOneCall();
  try {
    const placer = new RecordingProvider();
    await t.tick("zien-backend:h:placer", placer, 1)(never);
    const other = new RecordingProvider();
    other.ringTimeoutMs = 60_000;
    other.states.set(providerCallIdOf(id), "busy");
    clock.advance(1_001);
    await t.tick("zien-backend:h:other", other, 1)(never);
    assert.equal(other.placed.length, 1, "busy is over: retried at once (no backoff here)");
    const call = (await t.calls.findOne({ _id: id }))!;
    assert.equal(call.attempts, 2);
    assert.match(call.lastError ?? "", /the provider says busy/);
  } finally {
    await t.close();
  }
});

Deno.test("callbacks never move a status backwards, and only the current attempt's count", async () => {
  const t = await open();
  try {
    const [id] = await t.pendingCalls(1);
    const queue = t.queue();
    await queue.claimDueCall({ owner: "a" });
    await queue.recordPlacement({ call: id, attempt: 1, owner: "a", providerCallId: "CA1" });
    const progress = (status: string, rank: number, attempt = 1, sid = "CA1") =>
      queue.recordProgress({ call: id, attempt, providerStatus: status, rank, providerCallId: sid });
    assert.ok(await progress("ringing", 2));
    assert.ok(await progress("in-progress", 3));
    assert.equal(await progress("ringing", 2), null, "a late ringing");
    assert.equal(await progress("in-progress", 3), null, "a repeat");
    assert.equal(await progress("completed", 4, 1, "CA2"), null, "another provider call");
    assert.equal(await progress("completed", 4, 2), null, "another attempt");
    assert.equal((await t.calls.findOne({ _id: id }))!.providerStatus, "in-progress");
    assert.ok(await progress("no-answer", 4));
    assert.equal(await progress("completed", 4), null, "terminal is final");
  } finally {
    await t.close();
  }
});
