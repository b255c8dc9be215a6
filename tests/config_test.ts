import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";

const load = (env: Record<string, string>) => loadConfig(env, { isTerminal: false });

Deno.test("defaults match the documented ones", () => {
  const config = load({});
  assert.equal(config.mongodbUrl, undefined);
  assert.equal(config.dbName, "zien");
  assert.deepEqual(config.pool, {
    maxPoolSize: 10,
    minPoolSize: 2,
    maxIdleTimeMS: 60_000,
    maxConnecting: 2,
    connectTimeoutMS: 10_000,
    serverSelectionTimeoutMS: 5_000,
    socketTimeoutMS: 45_000,
    waitQueueTimeoutMS: 5_000,
  });
  assert.deepEqual(config.retry, { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 30_000 });
  assert.deepEqual(config.monitor, {
    intervalMs: 60_000,
    leakThresholdMs: 30_000,
    commands: false,
    warnSustainMs: 30_000,
  });
  assert.equal(load({ DB_MONITOR_COMMANDS: "true" }).monitor.commands, true);
  assert.deepEqual(config.budget, { connectionLimit: undefined, appInstances: 1, enforce: true });
  assert.equal(config.http.host, "0.0.0.0");
  assert.equal(config.http.port, 8000);
  assert.equal(config.log.level, "info");
  assert.equal(config.log.format, "json");
  assert.equal(loadConfig({}, { isTerminal: true }).log.format, "pretty");
  assert.deepEqual(config.shutdown, { timeoutMs: 10_000, drainDelayMs: 0 });
  assert.equal(config.writeConcern, "majority");
  assert.equal(config.readPreference, "primary");
});

Deno.test("write concern and read preference are read and validated", () => {
  assert.equal(load({ DB_WRITE_CONCERN: "2" }).writeConcern, 2);
  assert.equal(load({ DB_WRITE_CONCERN: "Majority" }).writeConcern, "majority");
  assert.equal(load({ DB_READ_PREFERENCE: "secondarypreferred" }).readPreference, "secondaryPreferred");
  for (
    const [env, variable] of [
      [{ DB_WRITE_CONCERN: "0" }, "DB_WRITE_CONCERN"],
      [{ DB_WRITE_CONCERN: "all" }, "DB_WRITE_CONCERN"],
      [{ DB_READ_PREFERENCE: "fastest" }, "DB_READ_PREFERENCE"],
    ] as const
  ) {
    assert.throws(() => load(env), (err) => err instanceof ConfigError && err.variable === variable);
  }
});

Deno.test("values from the environment are parsed", () => {
  const config = load({
    MONGODB_URI: "mongodb+srv://cluster0.example.net/zien",
    DB_MAX_POOL_SIZE: "25",
    DB_BUDGET_ENFORCE: "false",
    DB_CONNECTION_LIMIT: "500",
    CORS_ORIGINS: "https://a.example, https://b.example",
    LOG_LEVEL: "DEBUG",
  });
  assert.equal(config.mongodbUrl, "mongodb+srv://cluster0.example.net/zien");
  assert.equal(config.pool.maxPoolSize, 25);
  assert.equal(config.budget.enforce, false);
  assert.equal(config.budget.connectionLimit, 500);
  assert.deepEqual(config.http.corsOrigins, ["https://a.example", "https://b.example"]);
  assert.equal(config.log.level, "debug");
});

const badValues: [Record<string, string>, string, string][] = [
  [{ DB_MAX_POOL_SIZE: "ten" }, "DB_MAX_POOL_SIZE", "an integer from 1 to 1000"],
  [{ DB_MAX_POOL_SIZE: "0" }, "DB_MAX_POOL_SIZE", "an integer from 1 to 1000"],
  [{ DB_MAX_POOL_SIZE: "1.5" }, "DB_MAX_POOL_SIZE", "an integer"],
  [{ DB_MIN_POOL_SIZE: "20", DB_MAX_POOL_SIZE: "5" }, "DB_MIN_POOL_SIZE", "at most DB_MAX_POOL_SIZE (5)"],
  [{ DB_SOCKET_TIMEOUT_MS: "-1" }, "DB_SOCKET_TIMEOUT_MS", "an integer >= 0"],
  [{ DB_WAIT_QUEUE_TIMEOUT_MS: "-100" }, "DB_WAIT_QUEUE_TIMEOUT_MS", "an integer >= 0"],
  [{ MONGODB_URL: "postgres://db/zien" }, "MONGODB_URL", "a mongodb:// or mongodb+srv:// URL"],
  [{ DB_BUDGET_ENFORCE: "maybe" }, "DB_BUDGET_ENFORCE", "true or false"],
  [{ LOG_FORMAT: "xml" }, "LOG_FORMAT", "one of pretty, json"],
  [{ PORT: "70000" }, "PORT", "an integer from 0 to 65535"],
  [{ DB_NAME: "a/b" }, "DB_NAME", "letters, digits"],
  [{ DB_RETRY_INITIAL_DELAY_MS: "5000", DB_RETRY_MAX_DELAY_MS: "100" }, "DB_RETRY_MAX_DELAY_MS", "at least"],
  [{ TELEPHONY_PROVIDER: "twilio" }, "TWILIO_ACCOUNT_SID", "TELEPHONY_PROVIDER=twilio"],
  [{ CALL_RETRY_BASE_MS: "60000", CALL_RETRY_MAX_MS: "1000" }, "CALL_RETRY_MAX_MS", "at least"],
];

for (const [env, variable, allowed] of badValues) {
  Deno.test(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
    let caught: unknown;
    try {
      load(env);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${caught}`);
    assert.equal(caught.variable, variable);
    assert.match(caught.message, new RegExp(`^Invalid ${variable}=`));
    assert.ok(caught.message.includes(allowed), `${caught.message} should say ${allowed}`);
  });
}

Deno.test("the call settings default as documented and read CALL_*", () => {
  assert.deepEqual(load({}).calls, {
    windowIntervalMs: 300_000,
    schedulerIntervalMs: 15_000,
    leaseMs: 120_000,
    concurrency: 4,
    retryBaseMs: 60_000,
    retryMaxMs: 1_800_000,
  });
  const calls = load({ CALL_RETRY_BASE_MS: "50", CALL_RETRY_MAX_MS: "400", CALL_LEASE_MS: "1500" }).calls;
  assert.equal(calls.retryBaseMs, 50);
  assert.equal(calls.retryMaxMs, 400);
  assert.equal(calls.leaseMs, 1_500);
});

Deno.test("a refused URL never shows its credentials", () => {
  let caught: unknown;
  try {
    load({ MONGODB_URL: "mysql://admin:hunter2@db.example/zien" });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError);
  assert.ok(!caught.message.includes("hunter2"), caught.message);
  assert.ok(!caught.message.includes("admin"), caught.message);
});

Deno.test("MONGODB_URL is parsed by the driver's own parser: malformed ones are refused, credentials redacted", () => {
  const cases: [string, RegExp][] = [
    ["mongodb://zien:hunter2@/zien", /host list are required/],
    ["mongodb://zien:hunter2@", /host list are required/],
    ["mongodb+srv://zien:hunter2@a.example,b.example/", /multiple service names/],
    ["mongodb://zien:hunter2@db.example/?maxPoolSize=lots", /maxPoolSize/],
    ["mongodb://zien:hunter2@db.example/?noSuchOption=1", /not supported/],
  ];
  for (const [url, reason] of cases) {
    let caught: unknown;
    try {
      load({ MONGODB_URL: url });
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigError, `${url}: expected a ConfigError, got ${caught}`);
    assert.equal(caught.variable, "MONGODB_URL");
    assert.match(caught.message, /^Invalid MONGODB_URL="mongodb(\+srv)?:\/\/<credentials>@/);
    assert.match(caught.message, reason);
    assert.ok(!caught.message.includes("hunter2"), caught.message);
  }
  assert.equal(
    load({ MONGODB_URL: "mongodb://10.0.0.5:27017/zien" }).mongodbUrl,
    "mongodb://10.0.0.5:27017/zien",
  );
});

Deno.test("TELEPHONY_PROVIDER=twilio needs every Twilio setting, each named when missing", () => {
  const full = {
    TELEPHONY_PROVIDER: "twilio",
    TWILIO_ACCOUNT_SID: "AC" + "d".repeat(32),
    TWILIO_AUTH_TOKEN: "token",
    TWILIO_FROM_NUMBER: "+15005550006",
    PUBLIC_BASE_URL: "https://zien.example/",
  };
  const telephony = load(full).telephony;
  assert.equal(telephony.provider, "twilio");
  if (telephony.provider === "twilio") {
    assert.equal(telephony.publicBaseUrl, "https://zien.example");
    assert.equal(telephony.twilio.apiBase, "https://api.twilio.com");
  }
  for (const name of ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL"]) {
    assert.throws(
      () => load({ ...full, [name]: "" }),
      (err) => err instanceof ConfigError && err.variable === name,
      `${name} missing`,
    );
  }
  assert.deepEqual(load({}).telephony, {
    provider: "simulated",
    simRingMs: 2_000,
    publicBaseUrl: undefined,
    twilio: {
      accountSid: undefined,
      authToken: undefined,
      fromNumber: undefined,
      apiBase: "https://api.twilio.com",
    },
  });
});
