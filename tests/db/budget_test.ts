import assert from "node:assert/strict";
import { connectionBudget, hostCount } from "../../src/db/budget.ts";

Deno.test("the seeds' before: three processes at the driver default overrun an M0", () => {
  const budget = connectionBudget({ appInstances: 3, hosts: 3, maxPoolSize: 100, connectionLimit: 500 });
  assert.equal(budget.worstCase, 3 * 3 * 102);
  assert.equal(budget.status, "over");
  assert.match(budget.message, /3 instance\(s\) × 3 host\(s\) × \(maxPoolSize 100 \+ 2 monitoring\) = 918/);
  assert.match(budget.message, /184% of the limit of 500/);
});

Deno.test("one process at pool 10 is well inside the budget", () => {
  const budget = connectionBudget({ appInstances: 1, hosts: 3, maxPoolSize: 10, connectionLimit: 500 });
  assert.equal(budget.worstCase, 36);
  assert.equal(budget.status, "ok");
});

Deno.test("above 80% is a warning, at exactly 100% not yet over", () => {
  assert.equal(
    connectionBudget({ appInstances: 4, hosts: 1, maxPoolSize: 98, connectionLimit: 480 }).status,
    "warning",
  );
  assert.equal(
    connectionBudget({ appInstances: 5, hosts: 1, maxPoolSize: 98, connectionLimit: 500 }).status,
    "warning",
  );
  assert.equal(
    connectionBudget({ appInstances: 5, hosts: 1, maxPoolSize: 99, connectionLimit: 500 }).status,
    "over",
  );
});

Deno.test("without a limit the verdict is unknown", () => {
  const budget = connectionBudget({ appInstances: 2, hosts: 1, maxPoolSize: 10, connectionLimit: undefined });
  assert.equal(budget.status, "unknown");
  assert.equal(budget.ratio, null);
  assert.equal(budget.worstCase, 24);
});

Deno.test("hosts are counted from the seed list; SRV assumes three", () => {
  assert.equal(hostCount("mongodb://127.0.0.1:27017/?directConnection=true"), 1);
  assert.equal(hostCount("mongodb://a:1,b:2,c:3/zien?replicaSet=rs0"), 3);
  assert.equal(hostCount("mongodb+srv://user:pw@cluster0.example.net/zien"), 3);
});
