import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { readEntries, signUp } from "../helpers/api.ts";
import { spawnServer } from "../helpers/server_process.ts";

Deno.test("APP_MAX_CONCURRENT_REQUESTS: the rest wait outside the app, past the wait-queue timeout 503, probes never wait", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, APP_MAX_CONCURRENT_REQUESTS: "1", DB_WAIT_QUEUE_TIMEOUT_MS: "300" },
  });
  try {
    const token = await signUp(server.baseUrl, "admission");
    // Every database reply now takes longer than a waiting request may wait for admission.
    devdb.setLatency(800);
    const reads = [0, 1, 2].map(() => readEntries(server.baseUrl, token));
    const probe = await fetch(`${server.baseUrl}/health/live`);
    assert.equal(probe.status, 200, "the probe went straight in while the app was full");
    await probe.body?.cancel();
    const answers = await Promise.all(reads);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 503, 503], "one admitted, two refused after waiting 300 ms");
    for (const refused of answers.filter((a) => a.status === 503)) {
      assert.equal(refused.headers.get("retry-after"), "1");
    }
    devdb.setLatency(0);
    assert.equal((await readEntries(server.baseUrl, token)).status, 200, "admitted again once there is room");
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    assert.match(metrics, /^zien_http_admission_refused_total 2$/m, "the refusals are counted on /metrics");
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0);
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
