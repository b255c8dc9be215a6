/**
 * The elections benchmark (issue 12): three `src/main.ts` processes against a three-member replica-set
 * devdb, under API load (reads, writes, analytics events) while the call workers place the calls of freshly
 * seeded people and the batch writers flush; the primary steps down, then (second run) is killed and
 * restarted. Then the connection budget per member, measured: the peak of this app's connections on each
 * member under load with 1 and 3 instances at maxPoolSize 10, against the budget's prediction.
 *
 * The devdb runs in its own process (`tests/helpers/replica_set_process.ts`), the servers each in theirs, the
 * API clients in this one. Prints markdown to
 * stdout, progress to stderr.
 *
 * Usage: `deno run -P=bench scripts/bench/elections.ts [--people 200] [--clients 24]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import {
  countEvents,
  ELECTION_SERVER_ENV,
  type ElectionRun,
  type EventCounts,
  runElection,
  statusesBetween,
} from "../../tests/helpers/elections.ts";
import {
  measurePerMember,
  peakPerMember,
  type PerMemberRow,
  sampleAt,
} from "../../tests/helpers/member_connections.ts";
import { type ReplicaSetProcess, spawnReplicaSet } from "../../tests/helpers/replica_set_process.ts";
import { type ServerProcess, spawnServer } from "../../tests/helpers/server_process.ts";
import { describeMachine } from "./lib/devdb_report.ts";

const DB_NAME = "zien_bench_elections";
const MAX_POOL_SIZE = 10;
const MIN_POOL_SIZE = 2;

const progress = (message: string) => console.error(`[elections bench] ${message}`);

function spawn(devdb: ReplicaSetProcess, count: number): Promise<ServerProcess[]> {
  return Promise.all(Array.from({ length: count }, () =>
    spawnServer({
      env: {
        MONGODB_URL: devdb.url,
        DB_NAME,
        DB_MAX_POOL_SIZE: String(MAX_POOL_SIZE),
        DB_MIN_POOL_SIZE: String(MIN_POOL_SIZE),
        ...ELECTION_SERVER_ENV,
      },
    })));
}

function electionRow(run: ElectionRun, e: EventCounts): string {
  const during = statusesBetween(run.requests, run.faultAt, run.recoveredAt);
  const byStatus = Object.entries(during).map(([status, n]) => `${n} × ${status}`).join(", ");
  const notReady = run.readiness.filter((s) => s.status !== 200 && s.startedAt >= run.faultAt).length;
  const members = (sample: number[]) => sample.join(" / ");
  const before = sampleAt(run.connections, run.faultAt);
  const peak = peakPerMember(run.connections, run.faultAt, run.recoveredAt);
  const after = run.connections.at(-1)?.perMember ?? [];
  const c = run.calls;
  return `| ${run.kind === "stepDown" ? "step down" : "kill + restart"} | ${run.oldPrimary} → ` +
    `${run.newPrimary} | ${byStatus} | ` +
    `${run.electedAt - run.faultAt} ms | ${run.recoveredAt - run.faultAt} ms | ${notReady} | ` +
    `${members(before)} | ${members(peak)} | ${members(after)} | ` +
    `${e.accepted} / ${e.stored} (${e.missing} missing, ${e.duplicated} twice) | ` +
    `${c.due} / ${c.placed} (${c.placedTwice} twice) / ${c.entries} |`;
}

function budgetRow(row: PerMemberRow): string {
  const within = row.measured.every((m, i) => Math.abs(m - row.predicted[i]) <= 1);
  return `| ${row.instances} | ${row.predicted.join(" / ")} | ${row.measured.join(" / ")} | ` +
    `${within ? "yes" : "**no**"} |`;
}

/** Runs the benchmark and resolves with the markdown report. */
export async function electionsBench(options: { people: number; clients: number }): Promise<string> {
  const devdb = await spawnReplicaSet({ replicaSet: { name: "rs0", members: 3, electionDelayMs: 2_000 } });
  const client = new MongoClient(devdb.url);
  const servers: ServerProcess[] = [];
  try {
    progress("budget per member: 1 and 3 instances");
    servers.push(...await spawn(devdb, 3));
    const perMember = await measurePerMember(devdb, servers, {
      maxPoolSize: MAX_POOL_SIZE,
      minPoolSize: MIN_POOL_SIZE,
    });

    const cluster = { devdb, servers, client, db: client.db(DB_NAME) };
    const runs: ElectionRun[] = [];
    for (const kind of ["stepDown", "kill"] as const) {
      progress(`election: ${kind}`);
      runs.push(
        await runElection(cluster, {
          kind,
          people: options.people,
          clients: options.clients,
          beforeMs: 3_000,
          afterMs: 3_000,
          settleMs: 60_000,
        }),
      );
    }
    // The writers flush full batches as they go and the rest at the shutdown: count the events after it.
    for (const server of servers) server.signal("SIGTERM");
    for (const server of servers) await server.exited;
    const events = await Promise.all(runs.map((run) => countEvents(cluster.db, run)));
    return [
      "## Elections (`deno task bench elections`)",
      "",
      await describeMachine(),
      "",
      `Three \`src/main.ts\` processes (maxPoolSize ${MAX_POOL_SIZE}, minPoolSize ${MIN_POOL_SIZE}) against ` +
      `a three-member replica-set devdb (election after 2 s), ${options.clients} API clients in the bench ` +
      `process (reads, \`Profile/setProfile\` writes, analytics events, round-robin over the servers), the ` +
      `call workers placing ${options.people} calls due at the fault. "During" is from the fault to the first ` +
      `successful write sent after it. Connections: this app's on members 0 / 1 / 2, before the fault, ` +
      `peak during, and at the end (after a kill, the restarted member is reconnected at the next ` +
      `heartbeat, 10 s). Events are counted after the servers' shutdown (the writers flush full batches ` +
      `as they go, the rest then).`,
      "",
      "| fault | primary | requests during, by status | new primary after | first write after | readiness 503s | " +
      "connections before | peak during | after | events 202 / stored (missing, twice) | " +
      "calls due / placed (twice) / with one entry |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...runs.map((run, i) => electionRow(run, events[i])),
      "",
      `### Connections per member under load (maxPoolSize ${MAX_POOL_SIZE})`,
      "",
      "Members in order; the primary holds instances × (maxPoolSize + 2 monitoring), each secondary " +
      "instances × (minPoolSize + 2 monitoring). Peak of samples every 20 ms during 1.5 s of reads (20 ms " +
      "latency per reply, 40 clients per instance), once the idle connections are steady.",
      "",
      "| instances | predicted per member | measured peak | within 1 |",
      "| --- | --- | --- | --- |",
      ...perMember.map(budgetRow),
    ].join("\n");
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    await client.close();
    await devdb.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { people: { type: "string", default: "200" }, clients: { type: "string", default: "24" } },
  });
  console.log(await electionsBench({ people: Number(values.people), clients: Number(values.clients) }));
}
