/**
 * The seeds restarted with `pkill -9` and leaked connections on every cycle. Ours close them all.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { assertClosedCleanly, dump, spawnServer } from "../helpers/server_process.ts";
import { allAppConnections, appConnections } from "../helpers/runtime.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("restart loop: 10 cycles of start and SIGTERM leave 0 connections on the server each time", async () => {
  const devdb = await startDevDb();
  try {
    for (let cycle = 1; cycle <= 10; cycle++) {
      const server = await spawnServer({ env: { MONGODB_URL: devdb.url, DB_MIN_POOL_SIZE: "3" } });
      try {
        await waitFor(() => appConnections(devdb, server.pid) >= 3, { what: `cycle ${cycle}: the min pool` });
        server.signal("SIGTERM");
        assert.equal(await server.exited, 0, `cycle ${cycle}:\n${dump(server)}`);
        assertClosedCleanly(server);
        await waitFor(() => allAppConnections(devdb) === 0, {
          what: `cycle ${cycle}: the server to see 0 connections`,
          timeoutMs: 2_000,
        });
      } finally {
        await server.kill();
      }
    }
    assert.equal(devdb.stats().connections.current, 0);
  } finally {
    await devdb.stop();
  }
});
