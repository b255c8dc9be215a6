import assert from "node:assert/strict";
import { PeriodicWorker } from "../../src/workers/periodic_worker.ts";
import { capturingLogs } from "../helpers/logs.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("ticks repeatedly and never overlaps", async () => {
  let running = 0;
  let maxRunning = 0;
  let ticks = 0;
  const worker = new PeriodicWorker({
    name: "overlap",
    intervalMs: 1,
    runAtStart: true,
    tick: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      ticks++;
    },
  });
  worker.start();
  await waitFor(() => ticks >= 5, { what: "five ticks" });
  await worker.stop();
  assert.equal(maxRunning, 1);
  assert.ok(worker.status().ticks >= 5);
  assert.equal(worker.status().running, false);
});

Deno.test("stop() resolves only after the tick in flight has finished, and signals it", async () => {
  let release!: () => void;
  let sawAbort = false;
  let finished = false;
  const started = Promise.withResolvers<void>();
  const worker = new PeriodicWorker({
    name: "inflight",
    intervalMs: 60_000,
    runAtStart: true,
    tick: async (signal) => {
      started.resolve();
      await new Promise<void>((resolve) => (release = resolve));
      sawAbort = signal.aborted;
      finished = true;
    },
  });
  worker.start();
  await started.promise;
  assert.equal(worker.busy, true);
  let stopped = false;
  const stopping = worker.stop().then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(stopped, false, "stop() must wait for the tick");
  release();
  await stopping;
  assert.equal(finished, true);
  assert.equal(sawAbort, true);
  assert.equal(worker.busy, false);
});

Deno.test("a failing tick is counted and logged, and the worker keeps going", async () => {
  let calls = 0;
  const worker = new PeriodicWorker({
    name: "failing",
    intervalMs: 1,
    runAtStart: true,
    tick: () => {
      calls++;
      return calls % 2 === 1 ? Promise.reject(new Error("boom")) : Promise.resolve();
    },
  });
  worker.start();
  await waitFor(() => calls >= 4, { what: "four ticks" });
  await worker.stop();
  const status = worker.status();
  assert.ok(status.failures >= 2);
  assert.equal(status.lastError, "boom");
  assert.ok(status.ticks >= 4);
  assert.notEqual(status.lastTickAt, null);
});

Deno.test("a tick the database failed for a moment is a warning naming the error, and the next tick runs", async () => {
  class MongoPoolClearedError extends Error {
    override name = "MongoPoolClearedError";
  }
  let calls = 0;
  await capturingLogs(async (records) => {
    const worker = new PeriodicWorker({
      name: "electing",
      intervalMs: 1,
      runAtStart: true,
      isTransient: (err) => err instanceof MongoPoolClearedError,
      tick: () =>
        ++calls === 1 ? Promise.reject(new MongoPoolClearedError("pool cleared")) : Promise.resolve(),
    });
    worker.start();
    await waitFor(() => calls >= 2, { what: "the tick after the failed one" });
    await worker.stop();
    assert.equal(worker.status().failures, 1);
    const lines = records.filter((r) => r.properties.name === "electing" && r.level !== "info");
    assert.deepEqual(lines.map((r) => [r.level, r.properties.error]), [["warning", "MongoPoolClearedError"]]);
  });
});

Deno.test("a non-positive interval is refused", () => {
  assert.throws(
    () => new PeriodicWorker({ name: "x", intervalMs: 0, tick: () => Promise.resolve() }),
    RangeError,
  );
});
