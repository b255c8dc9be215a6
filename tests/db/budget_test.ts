import assert from "node:assert/strict";
import { connectionBudget, hostCount } from "../../src/db/budget.ts";
import { measurePerMember } from "../helpers/member_connections.ts";
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
    for (const row of await measurePerMember(devdb, servers, { maxPoolSize: 10, minPoolSize: 2 })) {
      for (const [i, peak] of row.measured.entries()) {
        assert.ok(
          Math.abs(peak - row.predicted[i]) <= 1,
          `${row.instances} instance(s), member ${i}: measured ${row.measured}, predicted ${row.predicted}`,
        );
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    await devdb.stop();
  }
});
