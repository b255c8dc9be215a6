import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { appConnections, freePort } from "../helpers/runtime.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("APP_REUSE_PORT: two instances share one port, each with its own pool, and one can stop alone", async () => {
  const devdb = await startDevDb();
  const port = String(freePort());
  const env = { MONGODB_URL: devdb.url, PORT: port, APP_REUSE_PORT: "true", DB_MIN_POOL_SIZE: "1" };
  const first = await spawnServer({ env });
  try {
    const second = await spawnServer({ env });
    try {
      assert.equal(first.baseUrl, second.baseUrl);
      for (const server of [first, second]) {
        await waitFor(() => appConnections(devdb, server.pid) >= 1, { what: `pid ${server.pid}'s own pool` });
      }
      first.signal("SIGTERM");
      assert.equal(await first.exited, 0, dump(first));
      // The kernel now hands every new connection on the port to the instance still listening.
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${second.baseUrl}/health/ready`);
        assert.equal(response.status, 200);
        await response.body?.cancel();
      }
    } finally {
      await second.kill();
    }
  } finally {
    await first.kill();
    await devdb.stop();
  }
});

Deno.test("without APP_REUSE_PORT a second instance on a port in use does not start", async () => {
  const devdb = await startDevDb();
  const port = String(freePort());
  const first = await spawnServer({ env: { MONGODB_URL: devdb.url, PORT: port } });
  try {
    const second = await spawnServer({ env: { MONGODB_URL: devdb.url, PORT: port }, waitReady: false });
    try {
      assert.notEqual(await second.exited, 0);
      assert.match(dump(second), /AddrInUse|address already in use/i);
    } finally {
      await second.kill();
    }
  } finally {
    await first.kill();
    await devdb.stop();
  }
});
