/**
 * Signals: a second one forces the exit, and the shutdown deadline is honoured.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { appConnections } from "../helpers/runtime.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("a second signal exits at once", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, SHUTDOWN_DRAIN_DELAY_MS: "30000", SHUTDOWN_TIMEOUT_MS: "60000" },
  });
  try {
    server.signal("SIGINT");
    await waitFor(() => server.logs().some((l) => l.message === "SIGINT received: shutting down"), {
      what: "the first signal to be seen",
    });
    const ready = await fetch(`${server.baseUrl}/health/ready`);
    assert.equal(ready.status, 503, "readiness answers 503 while draining");
    assert.deepEqual(await ready.json(), { status: "unavailable", reason: "shutting down" });
    const before = Date.now();
    server.signal("SIGINT");
    assert.equal(await server.exited, 1, dump(server));
    assert.ok(Date.now() - before < 2_000, "the second signal should end the process at once");
    assert.ok(server.logs().some((l) => l.message === "second SIGINT: exiting now"));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});

Deno.test("past SHUTDOWN_TIMEOUT_MS it logs what is pending, force-closes and exits 1", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, SHUTDOWN_TIMEOUT_MS: "500", SHUTDOWN_DRAIN_DELAY_MS: "20000" },
  });
  try {
    await waitFor(() => appConnections(devdb, server.pid) > 0, { what: "the pool to open" });
    const before = Date.now();
    server.signal("SIGTERM");
    assert.equal(await server.exited, 1, dump(server));
    const took = Date.now() - before;
    assert.ok(took >= 450 && took < 3_000, `exited after ${took} ms`);
    const pending = server.logs().find((l) => /passed its 500 ms deadline/.test(l.message));
    assert.ok(pending, dump(server));
    assert.match(pending.message, /still pending: drain delay/);
    await waitFor(() => appConnections(devdb, server.pid) === 0, { what: "force-closed connections" });
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
