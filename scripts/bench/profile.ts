/**
 * `deno task bench profile`: where this server's CPU goes under the runtime benchmark's load. Starts a devdb
 * and one real server (`src/main.ts`, with the inspector on a free loopback port), loads the runtime
 * benchmark's endpoint from a separate process, takes a V8 CPU profile of the measured window, and prints
 * self time by area (app folder, npm package, Deno internals) and the heaviest functions. The raw profile is
 * written to `.data/profiles/` for Chrome DevTools.
 *
 * Usage: `deno run -P=bench scripts/bench/profile.ts [--clients 100] [--seconds 5] [--top 25] [--v8-flags F]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import { signUp } from "../../tests/helpers/api.ts";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { areaOf, connectProfiler, type CpuProfile, selfTime } from "./lib/cpu_profile.ts";
import { describeMachine } from "./lib/devdb_report.ts";
import { startLoad } from "./lib/runtime_children.ts";
import { ENDPOINT } from "./lib/runtime_measure.ts";
import { seedEntries } from "./lib/runtime_seed.ts";

const DB_NAME = "zien_bench_profile";

/**
 * Reads `stream` until `pattern` shows up and resolves with its first group, then keeps draining with the
 * same reader: returning from a `for await` would cancel the pipe, and every later log line would then fail
 * in the child with BrokenPipe (which the profile used to show as the logging's cost).
 */
export async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    text += chunk.value;
    const match = pattern.exec(text);
    if (match) {
      void (async () => {
        while (!(await reader.read()).done) { /* drained */ }
      })().catch(() => {});
      return match[1];
    }
  }
  throw new Error(`the child exited before printing ${pattern}`);
}

/** Starts `src/main.ts` with the inspector and resolves with its base URL, inspector URL and a stop. */
async function spawnProfiledServer(mongoUrl: string, v8Flags?: string) {
  const child = new Deno.Command("deno", {
    // Not --quiet: that would hide the "Debugger listening on" line too.
    args: [
      "run",
      "-P=server",
      "--inspect=127.0.0.1:0",
      ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
      "src/main.ts",
    ],
    env: { MONGODB_URL: mongoUrl, DB_NAME, HOST: "127.0.0.1", PORT: "0", LOG_FORMAT: "json" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
  };
  try {
    const [wsUrl, address] = await Promise.all([
      readUntil(child.stderr, /Debugger listening on (ws:\/\/\S+)/),
      readUntil(child.stdout, /ready on http:\/\/([^\s"]+)/),
    ]);
    return { baseUrl: `http://${address}`, wsUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function table(rows: [string, number][], total: number, top: number, heading: string): string {
  const lines = [`| ${heading} | self ms | share |`, "| --- | --- | --- |"];
  for (const [name, ms] of rows.slice(0, top)) {
    lines.push(`| ${name.replaceAll("|", "\\|")} | ${ms.toFixed(0)} | ${((ms / total) * 100).toFixed(1)}% |`);
  }
  return lines.join("\n");
}

/**
 * Writes `profile` to `.data/profiles/<file>.cpuprofile` and renders it: busy time per `unit` (requests,
 * events), self time by area and by function. Shared by every profiling bench.
 */
export async function reportProfile(
  profile: CpuProfile,
  options: { title: string; file: string; units: number; unit: string; top: number },
): Promise<string> {
  await Deno.mkdir(".data/profiles", { recursive: true });
  const file = `.data/profiles/${options.file}.cpuprofile`;
  await Deno.writeTextFile(file, JSON.stringify(profile));
  const byArea = selfTime(profile, (f) => areaOf(f.url, f.functionName));
  const total = byArea.reduce((sum, [, ms]) => sum + ms, 0);
  const busy = total - (byArea.find(([area]) => area === "(idle)")?.[1] ?? 0);
  const byFunction = selfTime(
    profile,
    (f) => `${f.functionName || "(anonymous)"} ${areaOf(f.url, f.functionName)}:${f.lineNumber + 1}`,
  );
  return [
    `## ${options.title}`,
    "",
    await describeMachine(),
    "",
    `${(total / 1000).toFixed(1)} s profiled, ${
      (busy / 1000).toFixed(1)
    } s busy (not idle; samples capped at 1 ms) for ${options.units} ${options.unit}s: ${
      Math.round((busy * 1000) / Math.max(1, options.units))
    } µs busy per ${options.unit} (with the profiler's own cost); raw: \`${file}\`.`,
    "",
    table(byArea, total, options.top, "area"),
    "",
    table(byFunction, total, options.top, "function"),
  ].join("\n");
}

/** Profiles one server under `clients` concurrent clients for `seconds` and returns the markdown report. */
export async function profileBench(
  options: { clients: number; seconds: number; top: number; v8Flags?: string },
) {
  const devdb = await spawnDevDb();
  const sampler = new MongoClient(devdb.url, { maxPoolSize: 1 });
  const server = await spawnProfiledServer(devdb.url, options.v8Flags);
  try {
    const token = await signUp(server.baseUrl, "bench-profile");
    await seedEntries(sampler.db(DB_NAME), token, 50);
    const profiler = await connectProfiler(server.wsUrl);
    const started = Promise.withResolvers<void>();
    const load = startLoad({
      urls: [server.baseUrl + ENDPOINT],
      token,
      concurrency: options.clients,
      seconds: options.seconds,
      warmup: 1,
      onMeasuring: () => started.resolve(),
    });
    let profile: CpuProfile;
    let requests = 0;
    try {
      await started.promise;
      await profiler.start();
      const result = await load.result;
      profile = await profiler.stop();
      requests = result.requests;
      console.error(`[profile] ${Math.round(result.rps)} req/s, ${result.errors} errors`);
    } finally {
      load.kill();
      profiler.close();
    }
    return await reportProfile(profile, {
      title: `CPU profile of one server at ${options.clients} clients` +
        (options.v8Flags ? ` (V8 flags ${options.v8Flags})` : ""),
      file: `server-${options.clients}-clients`,
      units: requests,
      unit: "request",
      top: options.top,
    });
  } finally {
    await server.stop();
    await sampler.close();
    await devdb.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clients: { type: "string", default: "100" },
      seconds: { type: "string", default: "5" },
      top: { type: "string", default: "25" },
      "v8-flags": { type: "string" },
    },
  });
  console.log(
    await profileBench({
      clients: Number(values.clients),
      seconds: Number(values.seconds),
      top: Number(values.top),
      v8Flags: values["v8-flags"],
    }),
  );
}
