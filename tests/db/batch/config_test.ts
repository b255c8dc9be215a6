import assert from "node:assert/strict";
import { batchSettingsFromEnv, DEFAULT_BATCH_SETTINGS } from "../../../src/db/batch/config.ts";
import { ConfigError } from "../../../src/config.ts";

Deno.test("settings default to 50 / 30 s / 10000 and are read per writer from BATCH_<NAME>_*", () => {
  assert.deepEqual(batchSettingsFromEnv("usage_events", {}), { ...DEFAULT_BATCH_SETTINGS });
  assert.deepEqual(DEFAULT_BATCH_SETTINGS, { maxBatch: 50, flushIntervalMs: 30_000, maxBuffer: 10_000 });
  const env = {
    BATCH_USAGE_EVENTS_MAX_BATCH: "100",
    BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS: " 5000 ",
    BATCH_USAGE_EVENTS_MAX_BUFFER: "2000",
    BATCH_ANALYTICS_EVENTS_MAX_BATCH: "7",
  };
  assert.deepEqual(batchSettingsFromEnv("usage_events", env), {
    maxBatch: 100,
    flushIntervalMs: 5_000,
    maxBuffer: 2_000,
  });
  assert.deepEqual(batchSettingsFromEnv("analytics_events", env), { ...DEFAULT_BATCH_SETTINGS, maxBatch: 7 });
  assert.equal(batchSettingsFromEnv("usage_events", { BATCH_USAGE_EVENTS_MAX_BATCH: "" }).maxBatch, 50);
});

Deno.test("a bad value is a ConfigError naming the variable, the value and what is allowed", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { BATCH_USAGE_EVENTS_MAX_BATCH: "abc" },
      /BATCH_USAGE_EVENTS_MAX_BATCH="abc": expected a positive integer/,
    ],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "0" }, /BATCH_USAGE_EVENTS_MAX_BATCH="0"/],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "-5" }, /BATCH_USAGE_EVENTS_MAX_BATCH="-5"/],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "2.5" }, /BATCH_USAGE_EVENTS_MAX_BATCH="2.5"/],
    [{ BATCH_USAGE_EVENTS_MAX_BATCH: "100001" }, /from 1 to 100000/],
    [{ BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS: "1e3" }, /BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS="1e3"/],
    [{ BATCH_USAGE_EVENTS_MAX_BUFFER: "lots" }, /BATCH_USAGE_EVENTS_MAX_BUFFER="lots"/],
    [
      { BATCH_USAGE_EVENTS_MAX_BATCH: "500", BATCH_USAGE_EVENTS_MAX_BUFFER: "100" },
      /BATCH_USAGE_EVENTS_MAX_BATCH="500": expected at most BATCH_USAGE_EVENTS_MAX_BUFFER \(100\)/,
    ],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => batchSettingsFromEnv("usage_events", env), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test("a writer name must be usable in a variable and a file name", () => {
  assert.throws(() => batchSettingsFromEnv("usage-events", {}), /letters, digits or underscores/);
  assert.throws(() => batchSettingsFromEnv("", {}), TypeError);
});
