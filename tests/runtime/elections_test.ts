/**
 * Elections under load: three real server processes against a three-member replica set, with API clients,
 * call workers and batch writers busy, while the primary steps down, and then while it is killed. A user sees
 * a success or a 503 with Retry-After, never a 500 or a pool error; nothing acknowledged is lost or doubled.
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { countEvents, ELECTION_SERVER_ENV, type ElectionRun, runElection } from "../helpers/elections.ts";
import { sampleAt } from "../helpers/member_connections.ts";
import { spawnReplicaSet } from "../helpers/replica_set_process.ts";
import { assertClosedCleanly, dump, type ServerProcess, spawnServer } from "../helpers/server_process.ts";

const DB_NAME = "zien_elections";
const INSTANCES = 3;
/** After the devdb has a new primary, the driver needs a heartbeat or two to learn it, and a ping 1 s. */
const DISCOVERY_SLACK_MS = 3_000;
/** A secondary keeps each instance's monitoring (2) and its minPoolSize (2). */
const ON_A_SECONDARY = INSTANCES * (2 + 2);
const POOL_ERRORS =
  /MongoPoolClearedError|PoolClearedOnNetworkError|MongoPoolClosedError|closed connection pool/;

function assertElection(run: ElectionRun, servers: ServerProcess[]): void {
  const label = `${run.kind}: `;
  const statuses = run.requests.map((r) => r.status);
  assert.ok(run.requests.length > 100, `${label}only ${run.requests.length} requests`);
  assert.deepEqual(statuses.filter((s) => s === 500 || s === 0), [], `${label}no 500 and no network error`);
  const refused = run.requests.filter((r) => r.status >= 300 && r.status !== 503);
  assert.deepEqual(refused.map((r) => `${r.kind} ${r.status} ${r.body}`), [], `${label}only 2xx or 503`);
  for (const r of run.requests.filter((r) => r.status === 503)) {
    assert.equal(r.retryAfter, "1", `${label}503 without Retry-After: ${r.body}`);
  }
  assert.deepEqual(run.requests.filter((r) => POOL_ERRORS.test(r.body)).map((r) => r.body), []);
  for (const server of servers) {
    // A worker's tick may meet the cleared pool and retry at its next tick (a warning); nothing may fail on it.
    const poolErrors = server.logs().filter((l) =>
      l.level === "ERROR" && POOL_ERRORS.test(String(l.error ?? ""))
    );
    assert.deepEqual(poolErrors, [], `${label}a pool error failed a handler or a tick:\n${dump(server)}`);
  }

  const before = run.readiness.filter((s) => s.endedAt < run.faultAt);
  assert.ok(
    before.length > 0 && before.every((s) => s.status === 200),
    `${label}ready before the fault: ${
      JSON.stringify(before.filter((s) => s.status !== 200))
    } fault at ${run.faultAt}`,
  );
  const late503 = run.readiness.filter((s) =>
    s.status !== 200 && (s.endedAt < run.faultAt || s.startedAt > run.electedAt + DISCOVERY_SLACK_MS)
  );
  assert.deepEqual(
    late503.map((s) => ({
      ...s,
      startedAt: s.startedAt - run.electedAt,
      endedAt: s.endedAt - run.electedAt,
    })),
    [],
    `${label}readiness 503 only while no primary could be selected (fault ${run.faultAt}, elected ${run.electedAt})`,
  );

  assert.ok(run.recoveredAt > run.faultAt && run.recoveredAt - run.faultAt < 20_000);
  assert.deepEqual(run.calls, {
    due: run.calls.due,
    placed: run.calls.due,
    placedTwice: 0,
    completed: run.calls.due,
    entries: run.calls.due,
  }, `${label}every due call placed once, each completed call with one entry`);

  const after = sampleAt(run.connections, Date.now());
  assert.ok(
    after[run.oldPrimary] <= ON_A_SECONDARY,
    `${label}the old primary keeps only monitoring and minPoolSize: ${after}`,
  );
}

Deno.test("elections under load: a stepdown, then a killed primary", async (t) => {
  const devdb = await spawnReplicaSet({ replicaSet: { name: "rs0", members: 3, electionDelayMs: 1_500 } });
  const client = new MongoClient(devdb.url);
  const servers: ServerProcess[] = [];
  try {
    servers.push(
      ...await Promise.all(Array.from(
        { length: INSTANCES },
        () => spawnServer({ env: { MONGODB_URL: devdb.url, DB_NAME, ...ELECTION_SERVER_ENV } }),
      )),
    );
    const cluster = { devdb, servers, client, db: client.db(DB_NAME) };
    const runs: ElectionRun[] = [];
    await t.step("the primary steps down", async () => {
      runs.push(await runElection(cluster, { kind: "stepDown" }));
      assertElection(runs[0], servers);
    });
    await t.step("the primary is killed", async () => {
      runs.push(await runElection(cluster, { kind: "kill" }));
      assertElection(runs[1], servers);
    });
    for (const server of servers) server.signal("SIGTERM");
    for (const server of servers) assert.equal(await server.exited, 0, dump(server));
    for (const server of servers) assertClosedCleanly(server);
    // The writers flush full batches as they go, and the rest at the shutdown.
    for (const run of runs) {
      const events = await countEvents(cluster.db, run);
      assert.ok(events.accepted > 0);
      assert.deepEqual(events, {
        accepted: events.accepted,
        stored: events.accepted,
        missing: 0,
        duplicated: 0,
      }, `${run.kind}: every event answered 202 stored exactly once`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    await client.close();
    await devdb.stop();
  }
});
