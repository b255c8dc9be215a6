/**
 * Start-up: configuration errors, the budget check, a database that is down, credentials kept out of sight.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer, waitUntilReady } from "../helpers/server_process.ts";
import { appConnections, freePort } from "../helpers/runtime.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("a bad value exits 78 with one line naming the variable, the value and what is allowed", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { DB_MAX_POOL_SIZE: "lots" },
      /^zien: Invalid DB_MAX_POOL_SIZE="lots": expected an integer from 1 to 1000$/m,
    ],
    [{ DB_MIN_POOL_SIZE: "20", DB_MAX_POOL_SIZE: "5" }, /Invalid DB_MIN_POOL_SIZE="20": expected at most/],
    [{ MONGODB_URL: "redis://user:pw@h" }, /Invalid MONGODB_URL="redis:\/\/<credentials>@h"/],
    [{ DB_SOCKET_TIMEOUT_MS: "-5" }, /Invalid DB_SOCKET_TIMEOUT_MS="-5"/],
  ];
  for (const [env, expected] of cases) {
    const server = await spawnServer({ env, waitReady: false });
    try {
      assert.equal(await server.exited, 78, dump(server));
      assert.match(server.stderr(), expected);
    } finally {
      await server.kill();
    }
  }
});

Deno.test("the budget check refuses to start over the cluster's cap, with the arithmetic", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, APP_INSTANCES: "50", DB_MAX_POOL_SIZE: "10", DB_CONNECTION_LIMIT: "500" },
    waitReady: false,
  });
  try {
    assert.equal(await server.exited, 78, dump(server));
    const fatal = server.logs().find((l) => l.level === "FATAL");
    assert.ok(fatal, dump(server));
    assert.match(fatal.message, /per member: 50 instance\(s\) × \(maxPoolSize 10 \+ 2 monitoring\) = 600/);
    assert.match(fatal.message, /120% of DB_CONNECTION_LIMIT=500 \(per member\)/);
    assert.equal(devdb.stats().connections.totalCreated, 0, "it refused before connecting");
  } finally {
    await server.kill();
    await devdb.stop();
  }
});

Deno.test("the budget check only warns when DB_BUDGET_ENFORCE=false", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      APP_INSTANCES: "50",
      DB_CONNECTION_LIMIT: "500",
      DB_BUDGET_ENFORCE: "false",
    },
  });
  try {
    assert.ok(
      server.logs().some((l) => l.level === "WARNING" && /connection budget: .*120%/.test(l.message)),
    );
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});

Deno.test("database down at start: attempts back off, and the server is ready once the database appears", async () => {
  const port = freePort();
  const server = await spawnServer({
    env: {
      MONGODB_URL: `mongodb://127.0.0.1:${port}/?directConnection=true`,
      DB_RETRY_MAX_ATTEMPTS: "30",
      DB_RETRY_INITIAL_DELAY_MS: "100",
      DB_RETRY_MAX_DELAY_MS: "400",
      DB_SERVER_SELECTION_TIMEOUT_MS: "100",
      DB_CONNECT_TIMEOUT_MS: "100",
    },
    waitReady: false,
  });
  let devdb;
  try {
    const attempts = () => server.logs().filter((l) => /^attempt \d+\/30 to connect/.test(l.message));
    await waitFor(() => attempts().length >= 4, { what: "four failed attempts", timeoutMs: 15_000 });
    const delays = attempts().slice(0, 4).map((l) => l.delayMs as number);
    const expected = [100, 200, 400, 400];
    delays.forEach((delay, i) => {
      assert.ok(delay <= expected[i] && delay >= expected[i] * 0.8, `delay ${i + 1} was ${delay}`);
    });
    devdb = await startDevDb({ port });
    await waitUntilReady(server, 15_000);
    assert.equal((await fetch(`${server.baseUrl}/health/ready`)).status, 200);
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    await waitFor(() => appConnections(devdb!, server.pid) === 0, { what: "connections to close" });
  } finally {
    await server.kill();
    await devdb?.stop();
  }
});

Deno.test("attempts exhausted: exit 1 with a message that says what was tried, credentials redacted", async () => {
  const port = freePort();
  const server = await spawnServer({
    env: {
      MONGODB_URL: `mongodb://zien:Sup3rSecret@127.0.0.1:${port}/?directConnection=true`,
      DB_RETRY_MAX_ATTEMPTS: "3",
      DB_RETRY_INITIAL_DELAY_MS: "50",
      DB_SERVER_SELECTION_TIMEOUT_MS: "100",
    },
    waitReady: false,
  });
  try {
    assert.equal(await server.exited, 1, dump(server));
    const fatal = server.logs().find((l) => l.level === "FATAL");
    assert.ok(fatal, dump(server));
    assert.match(
      fatal.message,
      new RegExp(`Could not connect to mongodb://<credentials>@127\\.0\\.0\\.1:${port}/`),
    );
    assert.match(fatal.message, /after 3 attempt\(s\)/);
    const everything = JSON.stringify(server.logs()) + server.stderr();
    assert.ok(!everything.includes("Sup3rSecret"), "the password reached a log");
  } finally {
    await server.kill();
  }
});
