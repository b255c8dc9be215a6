import assert from "node:assert/strict";
import { connectionBudget, hostCount } from "../../src/db/budget.ts";
import { appConnectionsPerMember, peakUnderLoad } from "../helpers/elections.ts";
import { waitFor } from "../helpers/wait.ts";
import { spawnReplicaSet } from "../helpers/replica_set_process.ts";
import { type ServerProcess, spawnServer } from "../helpers/server_process.ts";

Deno.test("the seeds' before after five restarts: fifteen processes at the driver default overrun a member", () => {
  const budget = connectionBudget({ appInstances: 15, hosts: 3, maxPoolSize: 100, connectionLimit: 500 });
  assert.equal(budget.perMember, 15 * 102);
  assert.equal(budget.status, "over");
  assert.match(budget.message, /^per member: 15 instance\(s\) × \(maxPoolSize 100 \+ 2 monitoring\) = 1530 /);
  assert.match(budget.message, /306% of DB_CONNECTION_LIMIT=500 \(per member\)/);
});

Deno.test("the limit is per member: the primary holds the pool, secondaries only monitoring and minPoolSize", () => {
  const budget = connectionBudget({
    appInstances: 3,
    hosts: 3,
    maxPoolSize: 10,
    minPoolSize: 2,
    connectionLimit: 500,
  });
  assert.equal(budget.perInstanceOnPrimary, 12);
  assert.equal(budget.perInstanceOnSecondary, 4);
  assert.equal(budget.perMember, 36);
  assert.equal(budget.perInstance, 12 + 2 * 4);
  assert.equal(budget.worstCase, 60);
  assert.equal(budget.status, "ok");
  assert.equal(budget.readPreference, "primary");
  assert.equal(budget.writeConcern, "majority");
  assert.match(
    budget.message,
    /secondaries 3 × \(minPoolSize 2 \+ 2 monitoring\) = 12 each, reads go to the primary/,
  );
  assert.match(budget.message, /60 over 3 member\(s\); w: majority/);
  assert.match(budget.message, /7% of DB_CONNECTION_LIMIT=500/);
});

Deno.test("a read preference that reaches secondaries fills a pool on every member", () => {
  for (const readPreference of ["secondary", "secondaryPreferred", "primaryPreferred", "nearest"] as const) {
    const budget = connectionBudget({
      appInstances: 2,
      hosts: 3,
      maxPoolSize: 10,
      minPoolSize: 2,
      readPreference,
      connectionLimit: 500,
    });
    assert.equal(budget.perInstanceOnSecondary, 12, readPreference);
    assert.equal(budget.perMember, 24, readPreference);
    assert.equal(budget.worstCase, 2 * 3 * 12, readPreference);
    assert.match(budget.message, new RegExp(`reads ${readPreference}: every member may be filled`));
  }
});

Deno.test("above 80% is a warning, at exactly 100% not yet over", () => {
  assert.equal(
    connectionBudget({ appInstances: 4, hosts: 1, maxPoolSize: 98, connectionLimit: 480 }).status,
    "warning",
  );
  assert.equal(
    connectionBudget({ appInstances: 5, hosts: 3, maxPoolSize: 98, connectionLimit: 500 }).status,
    "warning",
  );
  assert.equal(
    connectionBudget({ appInstances: 5, hosts: 3, maxPoolSize: 99, connectionLimit: 500 }).status,
    "over",
  );
});

Deno.test("without a limit the verdict is unknown", () => {
  const budget = connectionBudget({ appInstances: 2, hosts: 1, maxPoolSize: 10, connectionLimit: undefined });
  assert.equal(budget.status, "unknown");
  assert.equal(budget.ratio, null);
  assert.equal(budget.worstCase, 24);
  assert.match(budget.message, /standalone/);
});

Deno.test("hosts are counted from the seed list; SRV assumes three", () => {
  assert.equal(hostCount("mongodb://127.0.0.1:27017/?directConnection=true"), 1);
  assert.equal(hostCount("mongodb://a:1,b:2,c:3/zien?replicaSet=rs0"), 3);
  assert.equal(hostCount("mongodb+srv://user:pw@cluster0.example.net/zien"), 3);
});

Deno.test("on a replica set, the predicted connections per member are the measured peak, within 1", async () => {
  const devdb = await spawnReplicaSet({ replicaSet: { name: "rs0", members: 3 } });
  const env = {
    MONGODB_URL: devdb.url,
    DB_NAME: "zien_budget",
    DB_MAX_POOL_SIZE: "10",
    DB_MIN_POOL_SIZE: "2",
  };
  const servers: ServerProcess[] = [];
  try {
    servers.push(...await Promise.all([1, 2, 3].map(() => spawnServer({ env }))));
    const predict = (instances: number) =>
      connectionBudget({
        appInstances: instances,
        hosts: 3,
        maxPoolSize: 10,
        minPoolSize: 2,
        connectionLimit: 500,
      });
    const primary = (await devdb.primaryIndex())!;
    // Each client's RTT pinger opens its connection one heartbeat (10 s) after the monitor's: until then a
    // member holds one monitoring connection per instance, not two.
    await waitFor(async () => {
      const idle = await appConnectionsPerMember(devdb);
      return idle.every((n, i) => i === primary || n === predict(3).perInstanceOnSecondary * 3);
    }, {
      what: "every instance's monitor and RTT pinger on every secondary",
      timeoutMs: 25_000,
      intervalMs: 200,
    });
    await devdb.setLatency(20);
    const measured = [
      { instances: 1, peak: await peakUnderLoad(devdb, [servers[0]], { concurrency: 40, ms: 1_500 }) },
      { instances: 3, peak: await peakUnderLoad(devdb, servers, { concurrency: 120, ms: 1_500 }) },
    ];
    for (const { instances, peak } of measured) {
      const budget = predict(instances);
      const predicted = peak.map((_, i) =>
        i === primary ? budget.perMember : instances * budget.perInstanceOnSecondary
      );
      for (const [i, n] of peak.entries()) {
        assert.ok(
          Math.abs(n - predicted[i]) <= 1,
          `${instances} instance(s), member ${i}: measured ${peak}, predicted ${predicted}`,
        );
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    await devdb.stop();
  }
});
