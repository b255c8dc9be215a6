/**
 * An election under load, shared by `tests/runtime/elections_test.ts` and `scripts/bench/elections.ts`:
 * three real server processes against a three-member replica-set devdb, API clients (reads, writes and
 * analytics events), call workers placing the calls of freshly seeded people and the batch writers flushing,
 * while the primary steps down or is killed. Everything is recorded (every response, readiness every 100 ms,
 * each member's connections of this app every 100 ms) and counted from the database's side afterwards.
 *
 * @module
 */
import type { Db, MongoClient } from "mongodb";
import { signUp } from "./api.ts";
import type { ServerProcess } from "./server_process.ts";
import { waitFor } from "./wait.ts";
import { seedPeopleBulk, zoneInsideItsDay } from "../workers/seed.ts";
import type { ReplicaSetProcess } from "./replica_set_process.ts";
import { appConnectionsPerMember, type ConnectionSample, every } from "./member_connections.ts";

/** The settings the servers of an election run with: fast workers, short batches, short rings. */
export const ELECTION_SERVER_ENV: Record<string, string> = {
  CALL_WINDOW_INTERVAL_MS: "500",
  CALL_SCHEDULER_INTERVAL_MS: "200",
  CALL_LEASE_MS: "10000",
  CALL_RETRY_BASE_MS: "200",
  CALL_RETRY_MAX_MS: "500",
  TELEPHONY_SIM_RING_MS: "300",
  BATCH_ANALYTICS_EVENTS_FLUSH_INTERVAL_MS: "200",
  BATCH_USAGE_EVENTS_FLUSH_INTERVAL_MS: "200",
  BATCH_CALL_EVENTS_FLUSH_INTERVAL_MS: "200",
};

/** One API response. `status` 0 is a network failure. */
export interface RequestRecord {
  kind: "read" | "write" | "event";
  startedAt: number;
  endedAt: number;
  status: number;
  retryAfter: string | null;
  body: string;
  /** An analytics event's number within its run. */
  event?: number;
}

/** What one election run recorded and counted. */
export interface ElectionRun {
  kind: "stepDown" | "kill";
  oldPrimary: number;
  newPrimary: number;
  faultAt: number;
  /** When the devdb had a new primary. */
  electedAt: number;
  /** When the first write sent after the fault succeeded. */
  recoveredAt: number;
  requests: RequestRecord[];
  readiness: { server: number; startedAt: number; endedAt: number; status: number }[];
  connections: ConnectionSample[];
  /** The run's name, in every analytics event it sent (`properties.run`). */
  run: string;
  /** The numbers (`properties.n`) of the events answered 202; count them with `countEvents` once flushed. */
  eventsAccepted: number[];
  /** The calls of the people seeded for this run. */
  calls: { due: number; placed: number; placedTwice: number; completed: number; entries: number };
}

/** A cluster for election runs: the devdb, the servers and a client to count with. */
export interface ElectionCluster {
  devdb: ReplicaSetProcess;
  servers: ServerProcess[];
  client: MongoClient;
  db: Db;
}

/** Options of one run. */
export interface ElectionRunOptions {
  kind: "stepDown" | "kill";
  /** Concurrent API clients. @default 12 */
  clients?: number;
  /** People seeded just before the fault, each with a call due now. @default 60 */
  people?: number;
  /** Load before the fault, in ms. @default 1500 */
  beforeMs?: number;
  /** Load after the first successful write, in ms. @default 2000 */
  afterMs?: number;
  /** How long the counts may take to settle. @default 30000 */
  settleMs?: number;
}

let runSequence = 0;

/** The call workers' log line for a placement, naming the call. */
const PLACED_LINE = /^call (\S+) placed \(attempt/;

async function record(kind: RequestRecord["kind"], send: () => Promise<Response>): Promise<RequestRecord> {
  const startedAt = Date.now();
  try {
    const response = await send();
    const body = await response.text();
    return {
      kind,
      startedAt,
      endedAt: Date.now(),
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body,
    };
  } catch (err) {
    return { kind, startedAt, endedAt: Date.now(), status: 0, retryAfter: null, body: String(err) };
  }
}

function post(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
}

/**
 * One election under load: load for `beforeMs`, the fault, load until the first write sent after it has
 * succeeded and `afterMs` more, then (after a kill) the old primary restarted; then waits for every call to
 * settle and counts them in the database (events: `countEvents`, after the servers' shutdown).
 */
export async function runElection(
  cluster: ElectionCluster,
  options: ElectionRunOptions,
): Promise<ElectionRun> {
  const { devdb, servers, db } = cluster;
  const run = `run-${++runSequence}-${options.kind}`;
  const clients = options.clients ?? 12;
  const tokens = await Promise.all(servers.map((s, i) => signUp(s.baseUrl, `${run}-${i}`)));
  const requests: RequestRecord[] = [];
  const readiness: ElectionRun["readiness"] = [];
  const connections: ConnectionSample[] = [];
  let eventNumber = 0;
  let loading = true;

  const client = async (index: number) => {
    for (let round = 0; loading; round++) {
      const server = (index + Math.floor(round / 3)) % servers.length;
      const base = servers[server].baseUrl;
      const token = tokens[server];
      const kind = (["read", "write", "event"] as const)[round % 3];
      const event = kind === "event" ? eventNumber++ : undefined;
      requests.push({
        event,
        ...await record(kind, () => {
          if (kind === "read") return post(`${base}/api/JournalEntry/_getEntries`, { limit: 5 }, token);
          if (kind === "write") {
            return post(`${base}/api/Profile/setProfile`, {
              phoneNumber: `+1557${String(1_000_000 + runSequence * 10 + server).slice(-7)}`,
              displayName: `${run} ${round}`,
              timezone: "UTC",
              includeRating: false,
            }, token);
          }
          return post(`${base}/api/analytics/track`, {
            name: "election.load",
            properties: { run, n: event },
          });
        }),
      });
    }
  };
  const ready = every(100, async () => {
    await Promise.all(servers.map(async (server, index) => {
      const r = await record("read", () => fetch(`${server.baseUrl}/health/ready`));
      readiness.push({ server: index, startedAt: r.startedAt, endedAt: r.endedAt, status: r.status });
    }));
  });
  const sampler = every(100, async () => {
    connections.push({ at: Date.now(), perMember: await appConnectionsPerMember(devdb) });
  });
  const load = Array.from({ length: clients }, (_, i) => client(i));
  const stopLoad = async () => {
    loading = false;
    await Promise.all(load);
    await ready.stop();
  };

  let people: string[];
  let oldPrimary: number | null = null;
  let newPrimary: number | null = null;
  let faultAt = 0;
  let electedAt = 0;
  let recoveredAt = 0;
  try {
    const { timezone } = zoneInsideItsDay();
    people = await seedPeopleBulk(db, options.people ?? 60, { timezone });
    await new Promise((resolve) => setTimeout(resolve, options.beforeMs ?? 1_500));

    oldPrimary = await devdb.primaryIndex();
    if (oldPrimary === null) throw new Error("no primary to fault");
    faultAt = Date.now();
    if (options.kind === "stepDown") await devdb.stepDown(30);
    else await devdb.killMember(oldPrimary);
    await waitFor(async () => {
      newPrimary = await devdb.primaryIndex();
      return newPrimary !== null && newPrimary !== oldPrimary;
    }, { what: "a new primary", timeoutMs: 20_000, intervalMs: 20 });
    electedAt = Date.now();
    await waitFor(() => {
      const first = requests.filter((r) => r.kind === "write" && r.startedAt >= faultAt && r.status === 200)
        .sort((a, b) => a.endedAt - b.endedAt)[0];
      recoveredAt = first?.endedAt ?? 0;
      return first !== undefined;
    }, { what: "a write after the fault to succeed", timeoutMs: 20_000, intervalMs: 20 });
    if (options.kind === "kill") await devdb.restartMember(oldPrimary);
    await new Promise((resolve) => setTimeout(resolve, options.afterMs ?? 2_000));
  } catch (err) {
    await stopLoad();
    await sampler.stop();
    throw err;
  }
  await stopLoad();

  const accepted = requests.filter((r) => r.kind === "event" && r.status === 202).map((r) => r.event!);
  try {
    const settle = { timeoutMs: options.settleMs ?? 30_000, intervalMs: 200 };
    const callCollection = db.collection("CallScheduler.calls");
    await waitFor(
      async () =>
        await callCollection.countDocuments({ user: { $in: people }, status: "COMPLETED" }) >= people.length,
      { what: `the calls of ${people.length} people to complete`, ...settle },
    );
  } finally {
    await sampler.stop();
  }
  return {
    kind: options.kind,
    oldPrimary,
    newPrimary: newPrimary!,
    faultAt,
    electedAt,
    recoveredAt,
    requests,
    readiness,
    connections,
    run,
    eventsAccepted: accepted,
    calls: await countCalls(cluster, people),
  };
}

/** Analytics events answered 202: of them, stored exactly once; not stored; and events stored twice. */
export interface EventCounts {
  accepted: number;
  stored: number;
  missing: number;
  duplicated: number;
}

/**
 * Counts a run's events in the database. Call it once the servers have flushed (after their shutdown: the
 * writers buffer up to a batch or a flush interval).
 */
export async function countEvents(db: Db, run: ElectionRun): Promise<EventCounts> {
  const accepted = run.eventsAccepted;
  const byNumber = new Map<number, number>();
  for (const doc of await db.collection("analytics_events").find({ "properties.run": run.run }).toArray()) {
    const n = doc.properties.n as number;
    byNumber.set(n, (byNumber.get(n) ?? 0) + 1);
  }
  return {
    accepted: accepted.length,
    stored: accepted.filter((n) => byNumber.get(n) === 1).length,
    missing: accepted.filter((n) => !byNumber.has(n)).length,
    duplicated: [...byNumber.values()].filter((count) => count > 1).length,
  };
}

async function countCalls(cluster: ElectionCluster, people: string[]): Promise<ElectionRun["calls"]> {
  const calls = await cluster.db.collection("CallScheduler.calls").find({ user: { $in: people } }).toArray();
  const ids = new Set(calls.map((call) => String(call._id)));
  const placements = new Map<string, number>();
  for (const server of cluster.servers) {
    for (const line of server.logs()) {
      const id = PLACED_LINE.exec(line.message)?.[1];
      if (id !== undefined && ids.has(id)) placements.set(id, (placements.get(id) ?? 0) + 1);
    }
  }
  const entries = await cluster.db.collection("JournalEntry.entries").find({ user: { $in: people } })
    .toArray();
  const entriesPerUser = new Map<string, number>();
  for (const entry of entries) entriesPerUser.set(entry.user, (entriesPerUser.get(entry.user) ?? 0) + 1);
  const completed = calls.filter((call) => call.status === "COMPLETED");
  return {
    due: people.length,
    placed: [...placements.values()].reduce((a, b) => a + b, 0),
    placedTwice: [...placements.values()].filter((count) => count > 1).length,
    completed: completed.length,
    entries: completed.filter((call) => entriesPerUser.get(call.user) === 1).length,
  };
}

/** Requests whose time overlaps `[from, to]`, by status. */
export function statusesBetween(requests: RequestRecord[], from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    if (r.endedAt < from || r.startedAt > to) continue;
    counts[r.status] = (counts[r.status] ?? 0) + 1;
  }
  return counts;
}
