/**
 * The server's view of connections for the runtime benchmark: `currentOp` with `$all: true` on the devdb,
 * counting only the connections whose appName belongs to the setup being measured (and those still in their
 * handshake). The sampler's own connection (appName `bench-sampler`) never matches, so it needs no
 * subtracting; it keeps a pool of one, so it never opens a second, unnamed one during a row.
 *
 * @module
 */
import type { Document, MongoClient } from "mongodb";

/** The appName of the benchmark's own client. */
export const SAMPLER_APP = "bench-sampler";

/** One reading. */
export interface ConnectionSample {
  /** Epoch milliseconds. */
  at: number;
  /**
   * Connections of the setup being measured: its appNames, plus connections still in their handshake (no
   * appName yet). Only the setup under test opens connections during its row, so those are its too; leaving
   * them out would hide most of a connection storm, which is mostly handshakes.
   */
  matched: number;
  /** Of `matched`, those without an appName yet. */
  handshaking: number;
  /** Every client connection on the server, the sampler's included. */
  total: number;
}

/** Peak and mean of a run of samples. */
export interface ConnectionStats {
  peak: number;
  mean: number;
  samples: number;
}

/** Which appNames belong to the setup being measured. */
export type AppMatcher = (appName: string) => boolean;

/** Matches the app instances running as `pids` (their appName is `zien-backend:<host>:<pid>`). */
export function appInstances(pids: number[]): AppMatcher {
  const suffixes = pids.map((pid) => `:${pid}`);
  return (name) => name.startsWith("zien-backend:") && suffixes.some((s) => name.endsWith(s));
}

/** Reads the server's view once. */
export async function sampleConnections(client: MongoClient, match: AppMatcher): Promise<ConnectionSample> {
  const reply = await client.db("admin").command({ currentOp: 1, $all: true });
  let matched = 0;
  let handshaking = 0;
  let total = 0;
  for (const op of reply.inprog as Document[]) {
    // Internal server threads have neither a client address nor a connection id.
    if (op.connectionId === undefined && op.client === undefined) continue;
    total++;
    const appName = typeof op.appName === "string" ? op.appName : "";
    if (appName === "") handshaking++;
    if (appName === "" || match(appName)) matched++;
  }
  return { at: Date.now(), matched, handshaking, total };
}

/**
 * Samples every `intervalMs` (measured from the start of one reading to the next, so a slow reply under
 * load stretches the interval rather than piling readings up) until `stop()` resolves with the samples.
 */
export function startSampling(
  client: MongoClient,
  match: AppMatcher,
  intervalMs = 100,
): { stop(): Promise<ConnectionSample[]> } {
  const samples: ConnectionSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      samples.push(await sampleConnections(client, match));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** Peak over every sample; mean over the samples taken inside `[from, to]` (the measured window). */
export function connectionStats(samples: ConnectionSample[], from: number, to: number): ConnectionStats {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= to);
  const mean = inWindow.length ? inWindow.reduce((sum, s) => sum + s.matched, 0) / inWindow.length : NaN;
  return { peak: Math.max(0, ...samples.map((s) => s.matched)), mean, samples: samples.length };
}
