import assert from "node:assert/strict";
import { PeriodicWorker } from "../../src/workers/periodic_worker.ts";
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

Deno.test("a non-positive interval is refused", () => {
  assert.throws(
    () => new PeriodicWorker({ name: "x", intervalMs: 0, tick: () => Promise.resolve() }),
    RangeError,
  );
});
