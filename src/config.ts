/**
 * The environment, read and validated in one place. A bad value stops start-up (exit 78) with one line
 * naming the variable, the value and what is allowed; credentials in a URL are redacted from that line.
 *
 * @example
 * ```ts
 * const config = loadConfig({ DB_MAX_POOL_SIZE: "20" }, { isTerminal: false });
 * config.pool.maxPoolSize; // 20; 10 when DB_MAX_POOL_SIZE is unset
 * ```
 * @module
 */
import { MongoClient } from "mongodb";
import {
  bool,
  ConfigError,
  type Env,
  httpUrl,
  int,
  ipList,
  oneOf,
  optionalInt,
  text,
} from "./config_values.ts";
import { redactText, redactUrl } from "./redact.ts";

export { ConfigError, EXIT_CONFIG } from "./config_values.ts";
import type { LogLevel } from "./log.ts";

/** The driver's pool settings, passed to `MongoClient` as they are. */
export interface PoolConfig {
  maxPoolSize: number;
  minPoolSize: number;
  maxIdleTimeMS: number;
  maxConnecting: number;
  connectTimeoutMS: number;
  serverSelectionTimeoutMS: number;
  socketTimeoutMS: number;
  waitQueueTimeoutMS: number;
}

/** The Twilio account: the REST API for `twilio`; for `simulated`, any of it set is used to sign callbacks. */
export interface TwilioSettings<T = string> {
  accountSid: T;
  authToken: T;
  fromNumber: T;
  apiBase: string;
}

/** The telephony provider and its settings; with `twilio`, every Twilio setting is present (config checks). */
export type TelephonyConfig =
  | {
    provider: "simulated";
    simRingMs: number;
    publicBaseUrl: string | undefined;
    twilio: TwilioSettings<string | undefined>;
  }
  | { provider: "twilio"; publicBaseUrl: string; twilio: TwilioSettings };

/** `w` of the write concern: `majority`, or how many members must acknowledge (1 or more). */
export type WriteConcernSetting = "majority" | number;

/** The driver's read preference modes. */
export const READ_PREFERENCES = [
  "primary",
  "primaryPreferred",
  "secondary",
  "secondaryPreferred",
  "nearest",
] as const;

/** One of `READ_PREFERENCES`. */
export type ReadPreferenceSetting = typeof READ_PREFERENCES[number];

/** Everything the process reads from its environment. */
export interface Config {
  /** Unset means: start the embedded devdb (development mode). */
  mongodbUrl: string | undefined;
  dbName: string;
  pool: PoolConfig;
  /** DB_WRITE_CONCERN: the `w` of every write (`majority` unless set). */
  writeConcern: WriteConcernSetting;
  /** DB_READ_PREFERENCE: where reads go (`primary` unless set); the budget counts secondaries from it. */
  readPreference: ReadPreferenceSetting;
  retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number };
  /**
   * `commands`: driver command monitoring, so leak hints name the command (it costs CPU per command).
   * `warnSustainMs`: how long pool utilization must stay high before it is a warning.
   */
  monitor: { intervalMs: number; leakThresholdMs: number; commands: boolean; warnSustainMs: number };
  budget: { connectionLimit: number | undefined; appInstances: number; enforce: boolean };
  http: {
    host: string;
    port: number;
    adminToken: string | undefined;
    metricsToken: string | undefined;
    corsOrigins: string[];
    /** Share `port` with other instances on this machine (SO_REUSEPORT), each with its own single pool. */
    reusePort: boolean;
    /** Requests inside the app at once (APP_MAX_CONCURRENT_REQUESTS, 64); the rest wait before any work; 0: off. */
    maxConcurrentRequests: number;
    /** Proxies whose `X-Forwarded-For` names the client (APP_TRUSTED_PROXIES), for the account throttles. */
    trustedProxies: string[];
  };
  /** `access`: one line per HTTP request (LOG_ACCESS, on by default). */
  log: { level: LogLevel; format: "pretty" | "json"; access: boolean };
  /** Development mode (no MONGODB_URL): the folder of the embedded devdb's data and the admin token file. */
  dev: { dataDir: string };
  shutdown: { timeoutMs: number; drainDelayMs: number };
  calls: {
    windowIntervalMs: number;
    schedulerIntervalMs: number;
    leaseMs: number;
    concurrency: number;
    /** Exponential backoff between attempts of a call: the first wait, and the longest. */
    retryBaseMs: number;
    retryMaxMs: number;
  };
  telephony: TelephonyConfig;
  /** The batch writers' sizes and timing (`BATCH_<NAME>_*`) and where they spill (`BATCH_SPILL_DIR`). */
  batch: BatchConfig;
}

function mongodbUrl(env: Env): string | undefined {
  const name = env.MONGODB_URL !== undefined && env.MONGODB_URL !== "" ? "MONGODB_URL" : "MONGODB_URI";
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const allowed = "a mongodb:// or mongodb+srv:// URL with a host";
  if (!/^mongodb(\+srv)?:\/\//.test(raw)) throw new ConfigError(name, redactUrl(raw), allowed);
  try {
    // The driver's own parser, as the client will use it (hosts, options, SRV rules); it does no I/O.
    new MongoClient(raw);
  } catch (err) {
    const reason = redactText(err instanceof Error ? err.message : String(err));
    throw new ConfigError(name, redactUrl(raw), `${allowed} that the driver accepts (${reason})`);
  }
  return raw;
}

// w: 0 is refused: an unacknowledged write cannot be retried, so "nothing acknowledged is lost" means nothing.
function writeConcern(env: Env): WriteConcernSetting {
  const raw = text(env, "DB_WRITE_CONCERN");
  if (raw === undefined || raw.toLowerCase() === "majority") return "majority";
  if (/^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 50) return Number(raw);
  throw new ConfigError("DB_WRITE_CONCERN", raw, "majority or a member count from 1 to 50");
}

function readPreference(env: Env): ReadPreferenceSetting {
  const raw = text(env, "DB_READ_PREFERENCE");
  if (raw === undefined) return "primary";
  const mode = READ_PREFERENCES.find((m) => m.toLowerCase() === raw.toLowerCase());
  if (mode === undefined) {
    throw new ConfigError("DB_READ_PREFERENCE", raw, `one of ${READ_PREFERENCES.join(", ")}`);
  }
  return mode;
}

const dbNamePattern = /^[A-Za-z0-9_-]{1,38}$/;

function poolConfig(env: Env): PoolConfig {
  const pool: PoolConfig = {
    maxPoolSize: int(env, "DB_MAX_POOL_SIZE", 10, 1, 1000),
    minPoolSize: int(env, "DB_MIN_POOL_SIZE", 2, 0, 1000),
    maxIdleTimeMS: int(env, "DB_MAX_IDLE_TIME_MS", 60_000, 0),
    maxConnecting: int(env, "DB_MAX_CONNECTING", 2, 1, 100),
    connectTimeoutMS: int(env, "DB_CONNECT_TIMEOUT_MS", 10_000, 0),
    serverSelectionTimeoutMS: int(env, "DB_SERVER_SELECTION_TIMEOUT_MS", 5_000, 1),
    socketTimeoutMS: int(env, "DB_SOCKET_TIMEOUT_MS", 45_000, 0),
    waitQueueTimeoutMS: int(env, "DB_WAIT_QUEUE_TIMEOUT_MS", 5_000, 0),
  };
  if (pool.minPoolSize > pool.maxPoolSize) {
    throw new ConfigError(
      "DB_MIN_POOL_SIZE",
      String(pool.minPoolSize),
      `at most DB_MAX_POOL_SIZE (${pool.maxPoolSize})`,
    );
  }
  return pool;
}

function retryConfig(env: Env): Config["retry"] {
  const retry = {
    maxAttempts: int(env, "DB_RETRY_MAX_ATTEMPTS", 5, 1, 1000),
    initialDelayMs: int(env, "DB_RETRY_INITIAL_DELAY_MS", 1_000, 0),
    maxDelayMs: int(env, "DB_RETRY_MAX_DELAY_MS", 30_000, 0),
  };
  if (retry.maxDelayMs < retry.initialDelayMs) {
    throw new ConfigError(
      "DB_RETRY_MAX_DELAY_MS",
      String(retry.maxDelayMs),
      `at least DB_RETRY_INITIAL_DELAY_MS (${retry.initialDelayMs})`,
    );
  }
  return retry;
}

function telephonyConfig(env: Env): TelephonyConfig {
  const provider = oneOf(env, "TELEPHONY_PROVIDER", ["simulated", "twilio"], "simulated");
  const publicBaseUrl = httpUrl(env, "PUBLIC_BASE_URL");
  const twilio = {
    accountSid: text(env, "TWILIO_ACCOUNT_SID"),
    authToken: text(env, "TWILIO_AUTH_TOKEN"),
    fromNumber: text(env, "TWILIO_FROM_NUMBER"),
    apiBase: httpUrl(env, "TWILIO_API_BASE") ?? "https://api.twilio.com",
  };
  if (provider === "simulated") {
    return { provider, simRingMs: int(env, "TELEPHONY_SIM_RING_MS", 2_000, 0), publicBaseUrl, twilio };
  }
  const required = (name: string, value: string | undefined): string => {
    if (value === undefined) throw new ConfigError(name, "", "a value when TELEPHONY_PROVIDER=twilio");
    return value;
  };
  return {
    provider,
    twilio: {
      accountSid: required("TWILIO_ACCOUNT_SID", twilio.accountSid),
      authToken: required("TWILIO_AUTH_TOKEN", twilio.authToken),
      fromNumber: required("TWILIO_FROM_NUMBER", twilio.fromNumber),
      apiBase: twilio.apiBase,
    },
    publicBaseUrl: required("PUBLIC_BASE_URL", publicBaseUrl),
  };
}

function callsConfig(env: Env): Config["calls"] {
  const calls: Config["calls"] = {
    windowIntervalMs: int(env, "CALL_WINDOW_INTERVAL_MS", 300_000, 100),
    schedulerIntervalMs: int(env, "CALL_SCHEDULER_INTERVAL_MS", 15_000, 100),
    leaseMs: int(env, "CALL_LEASE_MS", 120_000, 100),
    concurrency: int(env, "CALL_CONCURRENCY", 4, 1, 100),
    retryBaseMs: int(env, "CALL_RETRY_BASE_MS", 60_000, 0),
    retryMaxMs: int(env, "CALL_RETRY_MAX_MS", 1_800_000, 0),
  };
  if (calls.retryMaxMs < calls.retryBaseMs) {
    throw new ConfigError(
      "CALL_RETRY_MAX_MS",
      String(calls.retryMaxMs),
      `at least CALL_RETRY_BASE_MS (${calls.retryBaseMs})`,
    );
  }
  return calls;
}

// ---- Batch writers: BATCH_<NAME>_MAX_BATCH, _FLUSH_INTERVAL_MS, _MAX_BUFFER, _MAX_SPILL_BYTES; BATCH_SPILL_DIR ----

/** How much one batch writer holds and how often it writes. */
export interface BatchSettings {
  /** Events per `insertMany`; a full batch is written at once. */
  maxBatch: number;
  /** A partial batch is written after this long. */
  flushIntervalMs: number;
  /** Events held in memory (queued plus in flight); past it, events overflow to the spill directory. */
  maxBuffer: number;
  /** Bytes of spill files the writer may keep; past it (memory full too), events are refused. */
  maxSpillBytes: number;
}

/** The app's batch writers, by the collection each writes. */
export const BATCH_WRITERS = ["usage_events", "analytics_events", "call_events"] as const;

/** One of the app's batch writers. */
export type BatchWriterName = typeof BATCH_WRITERS[number];

/** Every writer's settings, and where spilled events wait to be written. */
export interface BatchConfig {
  writers: Record<BatchWriterName, BatchSettings>;
  spillDir: string;
}

/** A writer's settings when no variable says otherwise. */
export const DEFAULT_BATCH_SETTINGS: Readonly<BatchSettings> = Object.freeze({
  maxBatch: 50,
  flushIntervalMs: 30_000,
  maxBuffer: 10_000,
  maxSpillBytes: 256 * 1024 * 1024,
});

/**
 * The largest value of each setting: the batch is capped by the server's own `maxWriteBatchSize`; a flush
 * interval past a day is a typo (and setTimeout cannot go past ~24.8 days).
 */
export const BATCH_LIMITS: Readonly<BatchSettings> = Object.freeze({
  maxBatch: 100_000,
  flushIntervalMs: 86_400_000,
  maxBuffer: 10_000_000,
  maxSpillBytes: 2 ** 40,
});

/** Where spilled events wait for the next write, unless `BATCH_SPILL_DIR` says otherwise. */
export const DEFAULT_SPILL_DIR = ".data/spill";

/** `BATCH_<NAME>_<SETTING>`, e.g. `BATCH_USAGE_EVENTS_MAX_BATCH`. */
export function batchEnvName(
  writer: string,
  setting: "MAX_BATCH" | "FLUSH_INTERVAL_MS" | "MAX_BUFFER" | "MAX_SPILL_BYTES",
): string {
  return `BATCH_${writer.toUpperCase()}_${setting}`;
}

function batchSettings(env: Env, writer: BatchWriterName): BatchSettings {
  const maxBatchName = batchEnvName(writer, "MAX_BATCH");
  const maxBufferName = batchEnvName(writer, "MAX_BUFFER");
  const d = DEFAULT_BATCH_SETTINGS;
  const settings: BatchSettings = {
    maxBatch: int(env, maxBatchName, d.maxBatch, 1, BATCH_LIMITS.maxBatch),
    flushIntervalMs: int(
      env,
      batchEnvName(writer, "FLUSH_INTERVAL_MS"),
      d.flushIntervalMs,
      1,
      BATCH_LIMITS.flushIntervalMs,
    ),
    maxBuffer: int(env, maxBufferName, d.maxBuffer, 1, BATCH_LIMITS.maxBuffer),
    // 0: never overflow to disk; a full memory refuses at once.
    maxSpillBytes: int(
      env,
      batchEnvName(writer, "MAX_SPILL_BYTES"),
      d.maxSpillBytes,
      0,
      BATCH_LIMITS.maxSpillBytes,
    ),
  };
  if (settings.maxBatch > settings.maxBuffer) {
    throw new ConfigError(
      maxBatchName,
      String(settings.maxBatch),
      `at most ${maxBufferName} (${settings.maxBuffer})`,
    );
  }
  return settings;
}

function batchConfig(env: Env): BatchConfig {
  const writers = Object.fromEntries(BATCH_WRITERS.map((name) => [name, batchSettings(env, name)]));
  return {
    writers: writers as Record<BatchWriterName, BatchSettings>,
    spillDir: text(env, "BATCH_SPILL_DIR") ?? DEFAULT_SPILL_DIR,
  };
}

// ---- end of the batch writers' block ----

/**
 * Reads and validates the configuration from an environment record.
 *
 * @throws {ConfigError} naming the first variable whose value is not allowed
 */
export function loadConfig(env: Env, options: { isTerminal: boolean }): Config {
  const dbName = text(env, "DB_NAME") ?? "zien";
  if (!dbNamePattern.test(dbName)) {
    throw new ConfigError("DB_NAME", dbName, "1 to 38 letters, digits, '_' or '-'");
  }
  return {
    mongodbUrl: mongodbUrl(env),
    dbName,
    pool: poolConfig(env),
    writeConcern: writeConcern(env),
    readPreference: readPreference(env),
    retry: retryConfig(env),
    monitor: {
      intervalMs: int(env, "DB_MONITOR_INTERVAL_MS", 60_000, 1_000),
      leakThresholdMs: int(env, "DB_LEAK_THRESHOLD_MS", 30_000, 1),
      commands: bool(env, "DB_MONITOR_COMMANDS", false),
      warnSustainMs: int(env, "DB_WARN_SUSTAIN_MS", 30_000, 0),
    },
    budget: {
      connectionLimit: optionalInt(env, "DB_CONNECTION_LIMIT", 1),
      appInstances: int(env, "APP_INSTANCES", 1, 1, 10_000),
      enforce: bool(env, "DB_BUDGET_ENFORCE", true),
    },
    http: {
      host: text(env, "HOST") ?? "0.0.0.0",
      port: int(env, "PORT", 8000, 0, 65_535),
      adminToken: text(env, "ADMIN_TOKEN"),
      metricsToken: text(env, "METRICS_TOKEN"),
      corsOrigins: (text(env, "CORS_ORIGINS") ?? "").split(",").map((o) => o.trim()).filter(Boolean),
      reusePort: bool(env, "APP_REUSE_PORT", false),
      maxConcurrentRequests: int(env, "APP_MAX_CONCURRENT_REQUESTS", 64, 0, 100_000),
      trustedProxies: ipList(env, "APP_TRUSTED_PROXIES"),
    },
    log: {
      level: oneOf(env, "LOG_LEVEL", ["trace", "debug", "info", "warning", "error", "fatal"], "info"),
      format: oneOf(env, "LOG_FORMAT", ["pretty", "json"], options.isTerminal ? "pretty" : "json"),
      access: bool(env, "LOG_ACCESS", true),
    },
    dev: { dataDir: (text(env, "DEV_DATA_DIR") ?? ".data").replace(/\/+$/, "") },
    shutdown: {
      timeoutMs: int(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 1),
      drainDelayMs: int(env, "SHUTDOWN_DRAIN_DELAY_MS", 0, 0),
    },
    calls: callsConfig(env),
    telephony: telephonyConfig(env),
    batch: batchConfig(env),
  };
}
