/**
 * A batch writer's size and timing settings, with defaults, read per writer from `BATCH_<NAME>_*`.
 *
 * @example
 * ```ts
 * const settings = batchSettingsFromEnv("usage_events", config.env);
 * // reads BATCH_USAGE_EVENTS_MAX_BATCH, BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS, BATCH_USAGE_EVENTS_MAX_BUFFER
 * ```
 * @module
 */
import { ConfigError } from "../../config.ts";

/** How much a writer holds and how often it writes. */
export interface BatchSettings {
  /** Events per `insertMany`; a full batch is written at once. */
  maxBatch: number;
  /** A partial batch is written after this long. */
  flushIntervalMs: number;
  /** Events held in memory (queued plus in flight) before `add()` waits for room. */
  maxBuffer: number;
}

/** The defaults of issue 6. */
export const DEFAULT_BATCH_SETTINGS: Readonly<BatchSettings> = Object.freeze({
  maxBatch: 50,
  flushIntervalMs: 30_000,
  maxBuffer: 10_000,
});

/** The server's own cap on statements per write command (`maxWriteBatchSize`). */
export const MAX_WRITE_BATCH = 100_000;

const WRITER_NAME = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Checks a writer name: it becomes part of environment variable names and spill file names, so it is
 * letters, digits and underscores only.
 *
 * @throws {TypeError} for any other name
 */
export function assertWriterName(name: string): void {
  if (!WRITER_NAME.test(name)) {
    throw new TypeError(
      `Batch writer name ${JSON.stringify(name)} must be 1-64 letters, digits or underscores`,
    );
  }
}

/** `BATCH_<NAME>_<SETTING>`, e.g. `BATCH_USAGE_EVENTS_MAX_BATCH`. */
export function batchEnvName(
  writer: string,
  setting: "MAX_BATCH" | "FLUSH_INTERVAL_MS" | "MAX_BUFFER",
): string {
  return `BATCH_${writer.toUpperCase()}_${setting}`;
}

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = raw.trim();
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1 || parsed > max) {
    throw new ConfigError(name, raw, `a positive integer from 1 to ${max}`);
  }
  return parsed;
}

/**
 * The settings for writer `name` from an environment record: `BATCH_<NAME>_MAX_BATCH`,
 * `BATCH_<NAME>_FLUSH_INTERVAL_MS` and `BATCH_<NAME>_MAX_BUFFER` (NAME upper-cased), each falling back to
 * `defaults`. The record is passed in, so this never reads `Deno.env` itself.
 *
 * @throws {ConfigError} naming the variable, its value and what is allowed (a positive integer; the batch
 *   at most the server's 100000 and at most the buffer)
 * @example
 * ```ts
 * batchSettingsFromEnv("analytics_events", { BATCH_ANALYTICS_EVENTS_MAX_BATCH: "100" });
 * // { maxBatch: 100, flushIntervalMs: 30000, maxBuffer: 10000 }
 * ```
 */
export function batchSettingsFromEnv(
  name: string,
  env: Record<string, string | undefined>,
  defaults: BatchSettings = DEFAULT_BATCH_SETTINGS,
): BatchSettings {
  assertWriterName(name);
  const maxBatchName = batchEnvName(name, "MAX_BATCH");
  const settings: BatchSettings = {
    maxBatch: positiveInt(env, maxBatchName, defaults.maxBatch, MAX_WRITE_BATCH),
    // A day: anything longer is a typo, and setTimeout cannot go past ~24.8 days anyway.
    flushIntervalMs: positiveInt(
      env,
      batchEnvName(name, "FLUSH_INTERVAL_MS"),
      defaults.flushIntervalMs,
      86_400_000,
    ),
    maxBuffer: positiveInt(env, batchEnvName(name, "MAX_BUFFER"), defaults.maxBuffer, 10_000_000),
  };
  if (settings.maxBatch > settings.maxBuffer) {
    throw new ConfigError(
      maxBatchName,
      String(settings.maxBatch),
      `at most ${batchEnvName(name, "MAX_BUFFER")} (${settings.maxBuffer})`,
    );
  }
  return settings;
}

/**
 * Checks settings given in code (not from the environment).
 *
 * @throws {RangeError} naming the setting and what is allowed
 */
export function assertBatchSettings(settings: BatchSettings): void {
  const limits: [keyof BatchSettings, number][] = [
    ["maxBatch", MAX_WRITE_BATCH],
    ["flushIntervalMs", 86_400_000],
    ["maxBuffer", 10_000_000],
  ];
  for (const [key, max] of limits) {
    const value = settings[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new RangeError(`Batch writer ${key}=${value}: expected a positive integer from 1 to ${max}`);
    }
  }
  if (settings.maxBatch > settings.maxBuffer) {
    throw new RangeError(
      `Batch writer maxBatch=${settings.maxBatch}: expected at most maxBuffer (${settings.maxBuffer})`,
    );
  }
}
