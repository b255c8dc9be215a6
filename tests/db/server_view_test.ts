import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { serverConnectionsView, ServerViewCache } from "../../src/db/server_view.ts";
import { createMetrics } from "../../src/server/metrics/mod.ts";
import { waitFor } from "../helpers/wait.ts";

const OURS = "zien-backend:web-1:100";
const SIBLING = "zien-backend:web-2:200";

async function connected(url: string, appName?: string): Promise<MongoClient> {
  const client = new MongoClient(url, appName ? { appName } : {});
  await client.db("zien").command({ ping: 1 });
  return client;
}

Deno.test("the server view groups connections by appName into this instance, siblings and others", async () => {
  const db = await startDevDb();
  const clients: MongoClient[] = [];
  try {
    const ours = await connected(db.url, OURS);
    clients.push(ours, await connected(db.url, SIBLING), await connected(db.url, "analytics-job"));
    clients.push(await connected(db.url)); // a client that gave no appName

    const view = await serverConnectionsView(ours, OURS);
    const byAppName = db.stats().connections.byAppName;
    assert.ok(view.byApp.available, "currentOp answered");
    assert.equal(view.byApp.thisInstance.connections, byAppName[OURS]);
    assert.deepEqual(view.byApp.thisInstance.appNames, { [OURS]: byAppName[OURS] });
    assert.ok(view.byApp.thisInstance.active >= 1, "the currentOp itself runs on one of ours");
    assert.deepEqual(view.byApp.otherInstances.appNames, { [SIBLING]: byAppName[SIBLING] });
    assert.equal(view.byApp.otherInstances.connections, byAppName[SIBLING]);
    assert.deepEqual(view.byApp.otherClients.appNames, {
      "analytics-job": byAppName["analytics-job"],
      "": byAppName[""],
    });
    assert.equal(view.byApp.otherClients.connections, byAppName["analytics-job"] + byAppName[""]);

    assert.ok(view.connections.available, "serverStatus answered");
    assert.equal(view.connections.counts.current, db.stats().connections.current);
    assert.equal(view.connections.counts.totalCreated, db.stats().connections.totalCreated);
    assert.equal(view.connections.source, "server");
    assert.ok((view.connections.counts.available ?? 0) > 0);
    assert.equal(view.byApp.source, "all users");
    assert.equal(view.byApp.command, "$currentOp allUsers: true");

    // The prefix is a parameter: with a wider one, the analytics job counts as one of ours.
    const wide = await serverConnectionsView(ours, OURS, { appPrefix: "a" });
    assert.ok(wide.byApp.available);
    assert.deepEqual(Object.keys(wide.byApp.otherInstances.appNames), ["analytics-job"]);
  } finally {
    for (const client of clients) await client.close();
    await db.stop();
  }
});

Deno.test("the server view says unavailable, with the reason, when the server does not answer", async () => {
  const db = await startDevDb();
  const client = await connected(db.url, OURS);
  try {
    await db.stop();
    const started = Date.now();
    const view = await serverConnectionsView(client, OURS, { timeoutMs: 300 });
    assert.ok(Date.now() - started < 2_000, "bounded by the time limit");
    assert.equal(view.connections.available, false);
    assert.equal(view.byApp.available, false);
    assert.ok(!view.connections.available && view.connections.reason.length > 0);
    assert.ok(!view.byApp.available && view.byApp.reason.length > 0);
  } finally {
    await client.close();
  }
});

Deno.test("a refused command is reported by its code name, and credentials never reach the reason", async () => {
  const db = await startDevDb();
  // The embedded server has no users: SCRAM is refused as MechanismUnavailable, standing in for the way an
  // Atlas shared tier refuses currentOp.
  const client = new MongoClient(
    `mongodb://zien:s3cret-pass@127.0.0.1:${db.port}/?authSource=admin&directConnection=true`,
    { appName: OURS, serverSelectionTimeoutMS: 1_000 },
  );
  try {
    const view = await serverConnectionsView(client, OURS, { timeoutMs: 1_000 });
    assert.ok(!view.connections.available);
    assert.match(view.connections.reason, /^MechanismUnavailable: /);
    assert.ok(!view.byApp.available);
    assert.doesNotMatch(JSON.stringify(view), /s3cret-pass/);
  } finally {
    await client.close();
    await db.stop();
  }
});

Deno.test("the view cache shares one read among concurrent callers and serves it until it is stale", async () => {
  const db = await startDevDb();
  const client = new MongoClient(db.url, { appName: OURS, monitorCommands: true });
  const commands: string[] = [];
  client.on("commandStarted", (event) => commands.push(event.commandName));
  try {
    const views = new ServerViewCache(client, OURS, { maxAgeMs: 60_000 });
    assert.equal(views.latest(), null);
    const [a, b] = await Promise.all([views.refresh(), views.refresh()]);
    assert.equal(a, b, "one read for both");
    assert.deepEqual(commands.sort(), ["aggregate", "serverStatus"]);
    assert.equal(await views.get(), a, "fresh enough: no new read");
    assert.equal(views.latest(), a);

    const stale = new ServerViewCache(client, OURS, { maxAgeMs: 0 });
    const first = await stale.get();
    await waitFor(() => Date.now() > first.at, { what: "the clock to move" });
    assert.notEqual(await stale.get(), first, "stale: read again");
  } finally {
    await client.close();
    await db.stop();
  }
});

const USERS = [
  { user: "app", password: "app-secret", db: "admin", roles: [{ role: "readWrite", db: "zien" }] },
  { user: "ops", password: "ops-secret", db: "admin", roles: [{ role: "clusterMonitor", db: "admin" }] },
];

function asUser(db: { port: number }, user: string, password: string, appName: string): MongoClient {
  return new MongoClient(
    `mongodb://${user}:${password}@127.0.0.1:${db.port}/?authSource=admin&directConnection=true`,
    { appName, monitorCommands: true },
  );
}

Deno.test("a readWrite-only user sees its own user's connections and our own pool's counts, labelled so", async () => {
  const db = await startDevDb({ users: USERS });
  const ours = asUser(db, "app", "app-secret", OURS);
  const sibling = asUser(db, "app", "app-secret", SIBLING);
  const ops = asUser(db, "ops", "ops-secret", "ops-console");
  const commands: string[] = [];
  // Which commands the view sent, the full view (allUsers: true, or $all) told apart.
  ours.on("commandStarted", ({ commandName, command }) => {
    const full = command.pipeline?.[0]?.$currentOp?.allUsers === true ||
      (command.$all === true && command.$ownOps !== true);
    commands.push(full ? `${commandName} (all users)` : commandName);
  });
  try {
    for (const client of [ours, sibling, ops]) await client.db("zien").command({ ping: 1 });
    const ownCounts = { current: 3, available: null, totalCreated: 4, active: 1 };
    const views = new ServerViewCache(ours, OURS, { ownCounts: () => ownCounts, maxAgeMs: 0 });
    const first = await views.refresh();
    // The first read opens the pool's second connection (its two commands run at once); the second read
    // finds both authenticated.
    const view = await views.refresh();
    const byAppName = db.stats().connections.byAppName;
    assert.ok(view.byApp.available, JSON.stringify(view));
    assert.equal(view.byApp.source, "own user only");
    // The devdb answers $currentOp only to a user who may read admin, so this one gets the command.
    assert.match(view.byApp.command, /^(\$currentOp allUsers: false|currentOp \$ownOps)$/);
    // Monitoring connections never authenticate: the user's own view counts the pools, not the monitors.
    const pooled = (appName: string) => db.stats().connections.byAppName[appName] - 1;
    assert.equal(view.byApp.thisInstance.connections, pooled(OURS));
    assert.equal(view.byApp.otherInstances.connections, pooled(SIBLING));
    assert.deepEqual(view.byApp.otherClients.appNames, {}, "the ops user's connections are not ours to see");
    assert.ok(view.connections.available);
    assert.equal(view.connections.source, "own pool events");
    assert.deepEqual(view.connections.counts, ownCounts);
    assert.match(view.connections.refused ?? "", /^Unauthorized: /);
    assert.equal(first.byApp.available && first.byApp.source, "own user only");
    // The refused full view (stage, then command) was asked once; the next read asks only for our own.
    assert.deepEqual(commands.filter((c) => c.endsWith("(all users)")), [
      "aggregate (all users)",
      "currentOp (all users)",
    ]);
    assert.equal(commands.filter((c) => c === "serverStatus").length, 2);

    const metrics = createMetrics({ serverView: () => view });
    const text = await metrics.registry.metrics();
    assert.match(text, /zien_db_server_view_source\{part="current_op",source="own_user_only"\} 1/);
    assert.match(text, /zien_db_server_view_source\{part="server_status",source="own_pool_events"\} 1/);
    metrics.close();

    const full = await serverConnectionsView(ops, "ops-console");
    assert.ok(full.byApp.available && full.connections.available);
    assert.equal(full.byApp.source, "all users", "clusterMonitor has inprog");
    assert.equal(full.connections.source, "server");
    assert.equal(full.byApp.otherClients.appNames[OURS], byAppName[OURS]);
  } finally {
    for (const client of [ours, sibling, ops]) await client.close();
    await db.stop();
  }
});
