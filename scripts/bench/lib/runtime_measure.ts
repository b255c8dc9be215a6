/**
 * The runtime benchmark's three measurements: a setup under load with the server's view sampled, SIGTERM
 * to the real server under load, and monitoring on versus off in alternating rounds.
 *
 * @module
 */
import type { MongoClient } from "mongodb";
import {
  assertClosedCleanly,
  type ServerProcess,
  spawnServer,
  waitUntilReady,
} from "../../../tests/helpers/server_process.ts";
import { type ProcessFigures, scrapeSetup } from "./proc.ts";
import { type BenchServer, startLoad } from "./runtime_children.ts";
import type { LoadResult } from "./runtime_load.ts";
import type {
  MonitoringResult,
  MonitoringRound,
  PhaseRound,
  SetupKey,
  SigtermResult,
} from "./runtime_report.ts";
import {
  appInstances,
  type AppMatcher,
  type ConnectionSample,
  connectionStats,
  sampleConnections,
  startSampling,
} from "./runtime_sampler.ts";

/** The endpoint every setup serves. */
export const ENDPOINT = "/api/JournalEntry/_getEntries";

/** What every measurement needs. */
export interface BenchContext {
  /** The benchmark's own client on the devdb (appName `bench-sampler`). */
  sampler: MongoClient;
  token: string;
  seconds: number;
  warmup: number;
  /** Registers a cleanup that runs in the benchmark's `finally`, whatever happens. */
  defer(cleanup: () => Promise<void> | void): void;
}

/** One setup: where to send the load, whose connections to count and whose CPU to read. */
export interface Setup {
  key: SetupKey;
  label: string;
  baseUrls: string[];
  match: AppMatcher;
  /** Where the setup's server processes answer `/metrics` (CPU and memory); none for (c). */
  targets: { baseUrl: string; instances: number }[];
}

/**
 * Starts the real server (`src/main.ts`) with `env` and registers its kill before waiting for it to be
 * ready, so a server that never gets ready is still stopped.
 */
export async function startAppServer(
  ctx: BenchContext,
  env: Record<string, string>,
  keepLogs = false,
): Promise<ServerProcess> {
  // By default lines after "ready" are drained, not parsed: parsing each access line here took CPU from the
  // servers being measured. The SIGTERM row keeps them, to check the shutdown's log.
  const server = await spawnServer({ env, waitReady: false, keepLogs });
  ctx.defer(() => server.kill());
  await waitUntilReady(server);
  return server;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runLoad(
  ctx: BenchContext,
  options: {
    urls: string[];
    concurrency: number;
    seconds: number;
    warmup: number;
    onMeasuring?: () => void;
  },
): Promise<LoadResult> {
  const { onMeasuring, ...rest } = options;
  const load = startLoad({ ...rest, token: ctx.token, onMeasuring: onMeasuring && (() => onMeasuring()) });
  ctx.defer(() => load.kill());
  try {
    return await load.result;
  } finally {
    load.kill();
  }
}

/**
 * Loads `setup` with `concurrency` clients while sampling the server's view every ~100 ms: one round. The
 * setup's server CPU is read when the measured window opens and when the load has ended; divided by the
 * 200s answered inside the window, it is the CPU one request costs (the few answered late count against it).
 */
export async function measurePhase(
  ctx: BenchContext,
  setup: Setup,
  concurrency: number,
): Promise<PhaseRound> {
  const sampling = startSampling(ctx.sampler, setup.match);
  let samples: ConnectionSample[] = [];
  let load: LoadResult;
  const scrape = () =>
    setup.targets.length ? scrapeSetup(setup.targets) : Promise.resolve({ cpuMicros: NaN, rssBytes: NaN });
  let atWindow: Promise<ProcessFigures> = Promise.resolve({ cpuMicros: NaN, rssBytes: NaN });
  try {
    load = await runLoad(ctx, {
      urls: setup.baseUrls.map((u) => u + ENDPOINT),
      concurrency,
      seconds: ctx.seconds,
      warmup: ctx.warmup,
      onMeasuring: () => void (atWindow = scrape()),
    });
  } finally {
    samples = await sampling.stop();
  }
  const [start, end] = [await atWindow, await scrape()];
  return {
    load,
    connections: connectionStats(samples, load.startedAt, load.endedAt),
    cpuMicrosPerRequest: (end.cpuMicros - start.cpuMicros) / Math.max(1, load.requests + load.late),
    rssBytes: end.rssBytes,
  };
}

/**
 * Starts a fresh real server, loads it, sends SIGTERM one second into the measured window, and times the
 * exit; then reads this instance's connections on the devdb at once and until they reach 0.
 */
export async function measureSigterm(
  ctx: BenchContext,
  env: Record<string, string>,
  concurrency: number,
): Promise<SigtermResult> {
  const server = await startAppServer(ctx, env, true);
  const signalled = Promise.withResolvers<number>();
  const load = startLoad({
    urls: [server.baseUrl + ENDPOINT],
    token: ctx.token,
    concurrency,
    seconds: 30,
    warmup: ctx.warmup,
    onMeasuring: () =>
      setTimeout(() => {
        signalled.resolve(performance.now());
        server.signal("SIGTERM");
      }, 1_000),
  });
  ctx.defer(() => load.kill());
  try {
    const signalledAt = await Promise.race([signalled.promise, load.result.then(() => NaN)]);
    if (Number.isNaN(signalledAt)) throw new Error("the load ended before the signal was sent");
    const exitCode = await server.exited;
    const exitMs = performance.now() - signalledAt;
    const match = appInstances([server.pid]);
    const leftAtExit = (await sampleConnections(ctx.sampler, match)).matched;
    let zeroAfterMs: number | null = null;
    const exitSeen = performance.now();
    for (let left = leftAtExit; performance.now() - exitSeen < 5_000; await pause(20)) {
      if (left === 0) {
        zeroAfterMs = performance.now() - exitSeen;
        break;
      }
      left = (await sampleConnections(ctx.sampler, match)).matched;
    }
    let clean = "yes";
    try {
      assertClosedCleanly(server);
    } catch (err) {
      clean = `no: ${String(err instanceof Error ? err.message : err).split("\n")[0]}`;
    }
    load.stopWindow();
    return { concurrency, exitMs, exitCode, clean, leftAtExit, zeroAfterMs, load: await load.result };
  } finally {
    load.kill();
    await server.kill();
  }
}

async function benchStats(server: BenchServer): Promise<{ cpuMicros: number; requests: number }> {
  const response = await fetch(`${server.url}/_bench/stats`);
  return await response.json();
}

/**
 * Alternates the monitored and the plain shared-client find server, `rounds` times each in ABBA order so
 * drift over the run falls on both alike; the monitored one is scraped once per round, as Prometheus would.
 */
export async function measureMonitoring(
  ctx: BenchContext,
  servers: { on: BenchServer; off: BenchServer },
  options: { rounds: number; roundSeconds: number; concurrency: number },
): Promise<MonitoringResult> {
  const result: MonitoringResult = {
    concurrency: options.concurrency,
    roundSeconds: options.roundSeconds,
    on: [],
    off: [],
  };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? ["off", "on"] as const : ["on", "off"] as const;
    for (const variant of order) {
      const server = servers[variant];
      const before = await benchStats(server);
      const load = await runLoad(ctx, {
        urls: [server.url + ENDPOINT],
        concurrency: options.concurrency,
        seconds: options.roundSeconds,
        warmup: 0.5,
      });
      const after = await benchStats(server);
      if (variant === "on") await (await fetch(`${server.url}/metrics`)).text();
      const round: MonitoringRound = {
        rps: load.rps,
        cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) /
          Math.max(1, after.requests - before.requests),
        errors: load.errors + load.warmupErrors,
      };
      result[variant].push(round);
    }
    console.error(
      `  monitoring round ${round + 1}/${options.rounds}: off ${Math.round(result.off.at(-1)!.rps)} req/s, ` +
        `on ${Math.round(result.on.at(-1)!.rps)} req/s`,
    );
  }
  return result;
}
