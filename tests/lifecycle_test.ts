import assert from "node:assert/strict";
import { DUPLICATE_SIGNAL_WINDOW_MS, Lifecycle } from "../src/lifecycle.ts";

Deno.test("phases run in order: http, workers, flushers, client, devdb; then exit with the code", async () => {
  const order: string[] = [];
  let exitCode: number | undefined;
  const lifecycle = new Lifecycle({ timeoutMs: 1_000, drainDelayMs: 0, exit: (code) => (exitCode = code) });
  lifecycle.add("devdb", "devdb", () => void order.push("devdb"));
  lifecycle.add("client", "client", () => void order.push("client"));
  lifecycle.add("flushers", "usage", async () => {
    await Promise.resolve();
    order.push("flushers");
  });
  lifecycle.add("workers", "a", () => void order.push("workers"));
  lifecycle.add("http", "server", () => void order.push("http"));
  assert.equal(lifecycle.shuttingDown, false);
  await lifecycle.shutdown(0);
  assert.equal(lifecycle.shuttingDown, true);
  assert.equal(lifecycle.signal.aborted, true);
  assert.deepEqual(order, ["http", "workers", "flushers", "client", "devdb"]);
  assert.equal(exitCode, 0);
});

Deno.test("a later phase waits for every step of the one before", async () => {
  const order: string[] = [];
  const lifecycle = new Lifecycle({ timeoutMs: 1_000, drainDelayMs: 0, exit: () => {} });
  lifecycle.add("workers", "slow", async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    order.push("slow worker");
  });
  lifecycle.add("workers", "fast", () => void order.push("fast worker"));
  lifecycle.add("client", "client", () => void order.push("client"));
  await lifecycle.shutdown(0);
  assert.deepEqual(order, ["fast worker", "slow worker", "client"]);
});

Deno.test("a failing step is logged and the rest still run", async () => {
  let closed = false;
  let exitCode: number | undefined;
  const lifecycle = new Lifecycle({ timeoutMs: 1_000, drainDelayMs: 0, exit: (code) => (exitCode = code) });
  lifecycle.add("flushers", "broken", () => Promise.reject(new Error("disk full")));
  lifecycle.add("client", "client", () => void (closed = true));
  await lifecycle.shutdown(0);
  assert.equal(closed, true);
  assert.equal(exitCode, 0);
});

Deno.test("past the deadline it runs the deadline steps, last registered first, and exits 1", async () => {
  const forced: string[] = [];
  let exitCode: number | undefined;
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  const lifecycle = new Lifecycle({ timeoutMs: 30, drainDelayMs: 0, exit: (code) => (exitCode = code) });
  lifecycle.add("workers", "stuck", () => stuck);
  lifecycle.add("flushers", "never reached", () => void forced.push("flusher phase"));
  lifecycle.onDeadline("force-close", () => void forced.push("force-close"));
  lifecycle.onDeadline("broken", () => Promise.reject(new Error("socket gone")));
  lifecycle.onDeadline("spill", async () => {
    await Promise.resolve();
    forced.push("spill");
  });
  await lifecycle.shutdown(0);
  assert.deepEqual(forced, ["spill", "force-close"]);
  assert.equal(exitCode, 1);
  release();
});

Deno.test("shutdown runs once however often it is asked", async () => {
  let runs = 0;
  const codes: number[] = [];
  const lifecycle = new Lifecycle({ timeoutMs: 1_000, drainDelayMs: 0, exit: (code) => codes.push(code) });
  lifecycle.add("client", "client", () => void runs++);
  await Promise.all([lifecycle.shutdown(0), lifecycle.shutdown(1)]);
  assert.equal(runs, 1);
  assert.deepEqual(codes, [0]);
});

Deno.test("the drain delay comes before the first phase", async () => {
  let firstStepAt = 0;
  const started = Date.now();
  const lifecycle = new Lifecycle({ timeoutMs: 1_000, drainDelayMs: 40, exit: () => {} });
  lifecycle.add("http", "server", () => void (firstStepAt = Date.now()));
  await lifecycle.shutdown(0);
  assert.ok(firstStepAt - started >= 35, `first step after ${firstStepAt - started} ms`);
});

Deno.test("an uncaught error or unhandled rejection leads to the same shutdown, with exit 1", async () => {
  for (
    const event of [
      new ErrorEvent("error", { error: new Error("boom"), cancelable: true }),
      new PromiseRejectionEvent("unhandledrejection", {
        promise: Promise.resolve(),
        reason: new Error("nobody caught me"),
        cancelable: true,
      }),
    ]
  ) {
    const order: string[] = [];
    const exited = Promise.withResolvers<number>();
    const lifecycle = new Lifecycle({ timeoutMs: 1_000, drainDelayMs: 0, exit: exited.resolve });
    lifecycle.add("workers", "worker", () => void order.push("workers"));
    lifecycle.add("client", "client", () => void order.push("client"));
    lifecycle.listenForSignals();
    globalThis.dispatchEvent(event);
    assert.equal(event.defaultPrevented, true, "the runtime must not die on its own");
    assert.equal(await exited.promise, 1);
    assert.deepEqual(order, ["workers", "client"]);
  }
});

Deno.test("copies of the first signal within the duplicate window count as one; a later one exits 1", async () => {
  let clock = 1_000_000;
  const codes: number[] = [];
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  const lifecycle = new Lifecycle({
    timeoutMs: 60_000,
    drainDelayMs: 0,
    exit: (code) => codes.push(code),
    now: () => clock,
  });
  lifecycle.add("workers", "busy", () => stuck);
  lifecycle.handleSignal("SIGTERM");
  assert.equal(lifecycle.shuttingDown, true);
  clock += 5;
  lifecycle.handleSignal("SIGTERM"); // the group's copy, forwarded by deno task
  clock += DUPLICATE_SIGNAL_WINDOW_MS - 10;
  lifecycle.handleSignal("SIGTERM");
  assert.deepEqual(codes, [], "duplicates must not force the exit");
  clock += 10;
  lifecycle.handleSignal("SIGTERM");
  assert.deepEqual(codes, [1], "a deliberate second signal exits at once");
  release();
  await lifecycle.shutdown(0);
  assert.deepEqual(codes, [1, 0]);
});

Deno.test("a different signal right after the first is not a copy: it exits at once", async () => {
  const codes: number[] = [];
  const lifecycle = new Lifecycle({ timeoutMs: 60_000, drainDelayMs: 0, exit: (c) => codes.push(c) });
  lifecycle.handleSignal("SIGTERM");
  lifecycle.handleSignal("SIGINT");
  assert.deepEqual(codes, [1]);
  await lifecycle.shutdown(0);
});
