/**
 * The cluster's connection cap hit by several instances (the seeds' own failure): the devdb's
 * `maxConnections` accepts and closes at once, as a full Atlas tier does. Each instance counts what was
 * refused, warns when it starts and says when it clears.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, type ServerProcess, spawnServer } from "../helpers/server_process.ts";
import { callAction, signUp } from "../helpers/api.ts";
import { scrapeMetric } from "../helpers/metrics.ts";
import { waitFor } from "../helpers/wait.ts";

const ADMIN_TOKEN = "cap-test-admin-token";
const WARNING = "the server is refusing new connections: at its connection limit?";

const warned = (server: ServerProcess) =>
  server.logs().some((l) => l.level === "WARNING" && l.message.includes(WARNING));
const cleared = (server: ServerProcess) =>
  server.logs().some((l) => /^pool refusing cleared: the server is refusing new connections/.test(l.message));

Deno.test("three instances over the cap: each counts the refused connections, warns, and clears once it stops", async () => {
  // Three instances idle at 3 connections each (2 monitoring, 1 pooled); under load each wants up to 8 more.
  const devdb = await startDevDb({ maxConnections: 14 });
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await spawnServer({
          env: {
            MONGODB_URL: devdb.url,
            ADMIN_TOKEN,
            DB_MIN_POOL_SIZE: "1",
            DB_MAX_POOL_SIZE: "8",
            DB_MAX_CONNECTING: "4",
            DB_WAIT_QUEUE_TIMEOUT_MS: "1000",
            DB_SERVER_SELECTION_TIMEOUT_MS: "1000",
          },
        }),
      );
    }
    const tokens = await Promise.all(servers.map((server, i) => signUp(server.baseUrl, `cap${i}`)));
    let running = true;
    const statuses: number[] = [];
    const loops = servers.flatMap((server, i) =>
      Array.from({ length: 8 }, async () => {
        while (running) {
          const { status } = await callAction(
            server.baseUrl,
            "JournalEntry/_getEntries",
            { limit: 5 },
            tokens[i],
          );
          statuses.push(status);
        }
      })
    );
    try {
      await waitFor(() => devdb.stats().connections.refused > 0 && servers.filter(warned).length >= 2, {
        what: "instances to warn that the server refuses connections",
        timeoutMs: 20_000,
      });
    } finally {
      running = false;
      await Promise.all(loops);
    }
    assert.ok(statuses.every((s) => s === 200 || s === 503), `statuses: ${[...new Set(statuses)]}`);
    for (const server of servers.filter(warned)) {
      const refused = await scrapeMetric(server.baseUrl, "zien_db_pool_connections_refused_total");
      assert.ok(refused > 0, dump(server));
      const report = await fetch(`${server.baseUrl}/api/health/connections`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const body = await report.json();
      assert.ok(body.stats.pool.connectionsRefused >= refused, JSON.stringify(body.stats.pool));
    }
    // Idle again, nothing is refused: each warning clears after its quiet period (10 s).
    await waitFor(() => servers.filter(warned).every(cleared), {
      what: "the warnings to clear",
      timeoutMs: 25_000,
    });
  } finally {
    await Promise.all(servers.map((server) => server.kill()));
    await devdb.stop();
  }
});
