import assert from "node:assert/strict";
import { BATCH_WRITERS, ConfigError, DEFAULT_BATCH_SETTINGS, loadConfig } from "../../../src/config.ts";

const load = (env: Record<string, string>) => loadConfig(env, { isTerminal: false }).batch;

Deno.test("batch settings default to 50 / 30 s / 10000 and are read per writer from BATCH_<NAME>_*", () => {
  const defaults = load({});
  assert.deepEqual(DEFAULT_BATCH_SETTINGS, {
    maxBatch: 50,
    flushIntervalMs: 30_000,
    maxBuffer: 10_000,
    maxSpillBytes: 256 * 1024 * 1024,
  });
  for (const name of BATCH_WRITERS) assert.deepEqual(defaults.writers[name], DEFAULT_BATCH_SETTINGS);
  assert.equal(defaults.spillDir, ".data/spill");
  const batch = load({
    BATCH_USAGE_EVENTS_MAX_BATCH: "100",
    BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS: " 5000 ",
    BATCH_USAGE_EVENTS_MAX_BUFFER: "2000",
    BATCH_USAGE_EVENTS_MAX_SPILL_BYTES: "0",
    BATCH_ANALYTICS_EVENTS_MAX_BATCH: "7",
    BATCH_CALL_EVENTS_MAX_BATCH: "",
    BATCH_SPILL_DIR: ".data/elsewhere",
  });
  assert.deepEqual(batch.writers.usage_events, {
    maxBatch: 100,
    flushIntervalMs: 5_000,
    maxBuffer: 2_000,
    maxSpillBytes: 0,
  });
  assert.deepEqual(batch.writers.analytics_events, { ...DEFAULT_BATCH_SETTINGS, maxBatch: 7 });
  assert.deepEqual(batch.writers.call_events, DEFAULT_BATCH_SETTINGS);
  assert.equal(batch.spillDir, ".data/elsewhere");
});

Deno.test("a bad batch value is a ConfigError naming the variable, the value and what is allowed", () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "abc" }, "BATCH_USAGE_EVENTS_MAX_BATCH", /="abc": expected an integer/],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "0" }, "BATCH_USAGE_EVENTS_MAX_BATCH", /="0"/],
    [{ BATCH_CALL_EVENTS_MAX_BATCH: "-5" }, "BATCH_CALL_EVENTS_MAX_BATCH", /="-5"/],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "2.5" }, "BATCH_USAGE_EVENTS_MAX_BATCH", /="2.5"/],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "100001" }, "BATCH_USAGE_EVENTS_MAX_BATCH", /from 1 to 100000/],
    [
      { BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS: "1e3" },
      "BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS",
      /="1e3"/,
    ],
    [{ BATCH_USAGE_EVENTS_MAX_BUFFER: "lots" }, "BATCH_USAGE_EVENTS_MAX_BUFFER", /="lots"/],
    [{ BATCH_ANALYTICS_EVENTS_MAX_SPILL_BYTES: "-1" }, "BATCH_ANALYTICS_EVENTS_MAX_SPILL_BYTES", /="-1"/],
    [
      { BATCH_USAGE_EVENTS_MAX_BATCH: "500", BATCH_USAGE_EVENTS_MAX_BUFFER: "100" },
      "BATCH_USAGE_EVENTS_MAX_BATCH",
      /="500": expected at most BATCH_USAGE_EVENTS_MAX_BUFFER \(100\)/,
    ],
  ];
  for (const [env, variable, message] of cases) {
    assert.throws(() => load(env), (err) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.variable, variable);
      assert.match(err.message, message);
      return true;
    });
  }
});
