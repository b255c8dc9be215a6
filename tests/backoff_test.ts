import assert from "node:assert/strict";
import { backoffDelayMs } from "../src/backoff.ts";

Deno.test("the wait doubles per attempt up to the cap, before jitter", () => {
  const backoff = { baseMs: 100, maxMs: 1000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(backoff, a)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
});

Deno.test("jitter spreads the wait by ± the fraction, and factor 1 gives a fixed interval", () => {
  const interval = { baseMs: 1000, maxMs: 1000, factor: 1, jitter: 0.2 };
  assert.deepEqual([0, 0.5, 1].map((r) => backoffDelayMs(interval, 9, () => r)), [800, 1000, 1200]);
  assert.equal(backoffDelayMs({ baseMs: 60_000, maxMs: 1_800_000 }, 3, () => 0.5), 240_000);
});

Deno.test("a peer's Retry-After wins when it asks for longer", () => {
  assert.equal(backoffDelayMs({ baseMs: 100, maxMs: 100, jitter: 0 }, 1, Math.random, 5000), 5000);
  assert.equal(backoffDelayMs({ baseMs: 100, maxMs: 100, jitter: 0 }, 1, Math.random, 50), 100);
});
