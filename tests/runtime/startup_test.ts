/**
 * Start-up: configuration errors, the budget check, a database that is down, credentials kept out of sight.
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { ConnectNotPermittedError, connectWithRetry } from "../../src/db/mod.ts";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, type ServerProcess, spawnServer, waitUntilReady } from "../helpers/server_process.ts";
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
    // Credentials but no host: the driver's own parser refuses it before anything connects.
    [
      { MONGODB_URL: "mongodb://zien:Sup3rSecret@/zien" },
      /^zien: Invalid MONGODB_URL="mongodb:\/\/<credentials>@\/zien": expected .*host list are required/m,
    ],
  ];
  for (const [env, expected] of cases) {
    const server = await spawnServer({ env, waitReady: false });
    try {
      assert.equal(await server.exited, 78, dump(server));
      assert.match(server.stderr(), expected);
      assert.ok(!server.stderr().includes("Sup3rSecret"), server.stderr());
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
      // src/backoff.ts: doubling from the initial delay, capped, then ±10% jitter.
      assert.ok(delay <= expected[i] * 1.1 && delay >= expected[i] * 0.9, `delay ${i + 1} was ${delay}`);
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

/** The app's own pid and its embedded devdb's port, from the log lines of a server in development mode. */
function embeddedOwner(server: ServerProcess): { pid: number; port: number } {
  const messages = server.logs().map((l) => l.message);
  const pid = Number(
    messages.map((m) => /ready on .* as zien-backend:[^:]+:(\d+)/.exec(m)?.[1]).find(Boolean),
  );
  const port = Number(
    messages.map((m) => /embedded devdb serves mongodb:\/\/127\.0\.0\.1:(\d+)/.exec(m)?.[1])
      .find(Boolean),
  );
  return { pid, port };
}

Deno.test("two deno task start in one checkout: the second refuses at once naming the first; so does deno task devdb", async () => {
  const dataDir = `.data/tmp/two-${crypto.randomUUID()}`;
  const env = { DEV_DATA_DIR: dataDir, ADMIN_TOKEN: "admin" };
  const first = await spawnServer({ env, viaTask: true });
  try {
    const owner = embeddedOwner(first);
    assert.ok(owner.pid > 0 && owner.port > 0, dump(first));
    const startedAt = Date.now();
    const second = await spawnServer({ env, viaTask: true, waitReady: false });
    try {
      assert.equal(await second.exited, 78, dump(second));
      assert.ok(Date.now() - startedAt < 15_000, "the second instance should refuse at once");
      const fatal = second.logs().find((l) => l.level === "FATAL");
      assert.ok(fatal, dump(second));
      assert.match(
        fatal.message,
        new RegExp(`in use by process ${owner.pid} \\(devdb port ${owner.port}\\)`),
      );
      assert.match(fatal.message, new RegExp(`deno task devdb --data-dir ${dataDir}`));
      assert.match(fatal.message, new RegExp(`MONGODB_URL=mongodb://127\\.0\\.0\\.1:${owner.port}/`));
    } finally {
      await second.kill();
    }
    const devdb = await new Deno.Command("deno", {
      args: ["task", "--quiet", "devdb", "--data-dir", `${dataDir}/devdb`],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const devdbErr = new TextDecoder().decode(devdb.stderr);
    assert.equal(devdb.code, 78, devdbErr);
    assert.match(devdbErr, new RegExp(`in use by process ${owner.pid} \\(devdb port ${owner.port}\\)`));
    assert.match(devdbErr, /MONGODB_URL=/);

    // The first one dies without releasing anything: its lock goes with it, and the next start takes over.
    await first.signalGroup("SIGKILL");
    await first.exited;
    const third = await spawnServer({ env, viaTask: true });
    try {
      const lock = JSON.parse(await Deno.readTextFile(`${dataDir}/devdb/devdb.lock`));
      assert.equal(lock.pid, embeddedOwner(third).pid, "the new instance holds the lock");
      third.signal("SIGTERM");
      assert.equal(await third.exited, 0, dump(third));
    } finally {
      await third.kill();
    }
  } finally {
    await first.kill();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("without ADMIN_TOKEN in development the token goes to a 0600 file under .data, never to a log", async () => {
  const dataDir = `.data/tmp/token-${crypto.randomUUID()}`;
  const server = await spawnServer({ env: { DEV_DATA_DIR: dataDir } });
  try {
    const path = `${dataDir}/admin-token`;
    assert.ok(server.logs().some((l) => l.message.includes(`admin token is in ${path}`)), dump(server));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "only this user may read the token file");
    const token = (await Deno.readTextFile(path)).trim();
    assert.match(token, /^[0-9a-f]{32}$/);
    const admin = await fetch(`${server.baseUrl}/api/health/connections`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(admin.status, 200, await admin.text());
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    assert.ok(!(JSON.stringify(server.logs()) + server.stderr()).includes(token), "the token reached a log");
  } finally {
    await server.kill();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("without ADMIN_TOKEN in production (MONGODB_URL set) the admin routes are off and the log says how to turn them on", async () => {
  const devdb = await startDevDb();
  const dataDir = `.data/tmp/token-${crypto.randomUUID()}`;
  const server = await spawnServer({ env: { MONGODB_URL: devdb.url, DEV_DATA_DIR: dataDir } });
  try {
    const warning = server.logs().find((l) => /ADMIN_TOKEN is not set/.test(l.message));
    assert.ok(warning, dump(server));
    assert.match(warning.message, /admin routes .* are off; set it to turn them on/);
    for (const authorization of [undefined, "Bearer ", "Bearer undefined"]) {
      const response = await fetch(`${server.baseUrl}/api/health/connections`, {
        headers: authorization ? { authorization } : {},
      });
      await response.body?.cancel();
      assert.equal(response.status, 404, `admin route answered ${response.status}`);
    }
    await assert.rejects(Deno.stat(`${dataDir}/admin-token`), Deno.errors.NotFound);
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});

Deno.test("deno task start given a database beyond loopback refuses at once with exit 78 naming start:prod", async () => {
  for (
    const url of [
      "mongodb://zien:Sup3rSecret@10.255.255.1:27017/zien",
      "mongodb+srv://cluster0.example.net/zien",
    ]
  ) {
    const startedAt = Date.now();
    const server = await spawnServer({ env: { MONGODB_URL: url }, viaTask: true, waitReady: false });
    try {
      assert.equal(await server.exited, 78, dump(server));
      assert.ok(Date.now() - startedAt < 10_000, `${url}: took ${Date.now() - startedAt} ms`);
      const fatal = server.logs().find((l) => l.level === "FATAL");
      assert.ok(fatal, dump(server));
      assert.match(fatal.message, /not permitted to reach: .*deno task start:prod/);
      assert.ok(!server.logs().some((l) => /^attempt \d+/.test(l.message)), "a permission error was retried");
      assert.ok(!dump(server).includes("Sup3rSecret"), dump(server));
    } finally {
      await server.kill();
    }
  }
});

Deno.test("connectWithRetry never retries Deno's permission refusal", async () => {
  // This test runs with loopback-only net permissions, as `deno task start` does.
  const url = "mongodb://10.255.255.1:27017/?serverSelectionTimeoutMS=2000";
  const client = new MongoClient(url);
  try {
    const startedAt = Date.now();
    await assert.rejects(
      connectWithRetry(client, url, { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 1_000 }),
      ConnectNotPermittedError,
    );
    assert.ok(Date.now() - startedAt < 3_500, `gave up after ${Date.now() - startedAt} ms`);
  } finally {
    await client.close();
  }
});
