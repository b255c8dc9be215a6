/**
 * This app's connections on each member of a replica-set devdb, as the server counts them (by appName):
 * sampled, peaked under load, and compared with the budget's prediction per member.
 *
 * @module
 */
import { connectionBudget } from "../../src/db/budget.ts";
import { APP_NAME_PREFIX } from "../../src/db/client.ts";
import { readEntries, signUp } from "./api.ts";
import type { ReplicaSetProcess } from "./replica_set_process.ts";
import type { ServerProcess } from "./server_process.ts";
import { waitFor } from "./wait.ts";

let sequence = 0;

/** Connections of this app on each member at one moment. */
export interface ConnectionSample {
  at: number;
  perMember: number[];
}

/** The connections this app holds on each member (every appName with the app's prefix, or of `pids`). */
export async function appConnectionsPerMember(
  devdb: ReplicaSetProcess,
  pids?: number[],
): Promise<number[]> {
  const ours = (name: string) =>
    name.startsWith(APP_NAME_PREFIX) && (pids === undefined || pids.some((pid) => name.endsWith(`:${pid}`)));
  return await Promise.all(devdb.members.map(async (_, index) => {
    try {
      return Object.entries((await devdb.memberStats(index)).connections.byAppName)
        .filter(([name]) => ours(name))
        .reduce((sum, [, count]) => sum + count, 0);
    } catch {
      return 0; // a killed member has no connections
    }
  }));
}

/** Runs `body` every `intervalMs` until stopped; resolves with nothing once the last round ended. */
export function every(intervalMs: number, body: () => Promise<void> | void): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await body();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The highest sample of each member within `[from, to]`. */
export function peakPerMember(samples: ConnectionSample[], from: number, to: number): number[] {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= to);
  return inWindow.reduce(
    (peak, s) => peak.map((p, i) => Math.max(p, s.perMember[i])),
    inWindow[0]?.perMember.map(() => 0) ?? [],
  );
}

/** The last sample at or before `at`. */
export function sampleAt(samples: ConnectionSample[], at: number): number[] {
  return samples.filter((s) => s.at <= at).at(-1)?.perMember ?? [];
}

/**
 * Loads every server with `concurrency` clients reading journal entries for `ms` and returns the peak of
 * the connections of `count` (default: every server) on each member, sampled every 20 ms.
 */
export async function peakUnderLoad(
  devdb: ReplicaSetProcess,
  servers: ServerProcess[],
  options: { concurrency: number; ms: number; count?: ServerProcess[] },
): Promise<number[]> {
  const pids = (options.count ?? servers).map((s) => s.pid);
  const tokens = await Promise.all(servers.map((s, i) => signUp(s.baseUrl, `peak-${++sequence}-${i}`)));
  const samples: ConnectionSample[] = [];
  const sampler = every(20, async () => {
    samples.push({ at: Date.now(), perMember: await appConnectionsPerMember(devdb, pids) });
  });
  const until = Date.now() + options.ms;
  const statuses: number[] = [];
  await Promise.all(Array.from({ length: options.concurrency }, async (_, index) => {
    for (let round = 0; Date.now() < until; round++) {
      const server = (index + round) % servers.length;
      statuses.push((await readEntries(servers[server].baseUrl, tokens[server])).status);
    }
  }));
  await sampler.stop();
  const failed = statuses.filter((s) => s !== 200);
  if (failed.length > 0) {
    throw new Error(`${failed.length} of ${statuses.length} reads failed: ${failed.slice(0, 5)}`);
  }
  return peakPerMember(samples, 0, Date.now());
}

/** The budget's prediction and the measured peak, per member, for one number of instances. */
export interface PerMemberRow {
  instances: number;
  predicted: number[];
  measured: number[];
}

/**
 * Waits for the idle steady state (each client's RTT pinger opens its connection one heartbeat, 10 s, after
 * its monitor: until then a member holds one monitoring connection per instance, not two), then loads the
 * first server alone and then all of them, and returns the budget's prediction beside each member's peak.
 * The servers must run with `pool`'s sizes.
 */
export async function measurePerMember(
  devdb: ReplicaSetProcess,
  servers: ServerProcess[],
  pool: { maxPoolSize: number; minPoolSize: number },
): Promise<PerMemberRow[]> {
  const predict = (instances: number) =>
    connectionBudget({ appInstances: instances, hosts: devdb.members.length, ...pool, connectionLimit: 500 });
  const primary = await devdb.primaryIndex();
  const onSecondary = servers.length * predict(1).perInstanceOnSecondary;
  await waitFor(async () => {
    const idle = await appConnectionsPerMember(devdb);
    return idle.every((n, i) => i === primary || n === onSecondary);
  }, {
    what: "every instance's monitor and RTT pinger on every secondary",
    timeoutMs: 25_000,
    intervalMs: 200,
  });
  await devdb.setLatency(20);
  try {
    const rows: PerMemberRow[] = [];
    for (const counted of [servers.slice(0, 1), servers]) {
      const measured = await peakUnderLoad(devdb, counted, { concurrency: 40 * counted.length, ms: 1_500 });
      const budget = predict(counted.length);
      const predicted = measured.map((_, i) =>
        i === primary ? budget.perMember : counted.length * budget.perInstanceOnSecondary
      );
      rows.push({ instances: counted.length, predicted, measured });
    }
    return rows;
  } finally {
    await devdb.setLatency(0);
  }
}
