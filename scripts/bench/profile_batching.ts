/**
 * `deno run -P=bench scripts/bench/profile_batching.ts`: where the event-tracking server's time goes, per
 * mode of `scripts/bench/batching.ts` (`batched`: the BatchWriter; `none`: the same route with no write,
 * the HTTP ceiling). Starts a devdb journaling to a data directory, then for each mode that bench's own
 * server child with the inspector on, loads it with that bench's load child, and profiles the whole load.
 *
 * Usage: `deno run -P=bench scripts/bench/profile_batching.ts [--events 20000] [--clients 50] [--top 25]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { connectProfiler } from "./lib/cpu_profile.ts";
import { readUntil, reportProfile } from "./profile.ts";

const BATCHING = new URL("./batching.ts", import.meta.url).pathname;

async function profileMode(
  mode: string,
  mongo: string,
  options: { events: number; clients: number; top: number },
) {
  const server = new Deno.Command("deno", {
    args: [
      "run",
      "-P=bench",
      "--inspect=127.0.0.1:0",
      BATCHING,
      "--role=server",
      `--mode=${mode}`,
      `--mongo=${mongo}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const [wsUrl, url] = await Promise.all([
      readUntil(server.stderr, /Debugger listening on (ws:\/\/\S+)/),
      readUntil(server.stdout, /^(http:\/\/\S+)/m),
    ]);
    const profiler = await connectProfiler(wsUrl);
    try {
      await profiler.start();
      const load = await new Deno.Command("deno", {
        args: [
          "run",
          "-P=bench",
          "--quiet",
          BATCHING,
          "--role=load",
          `--url=${url}`,
          `--events=${options.events}`,
          `--clients=${options.clients}`,
        ],
        stdin: "null",
        stderr: "inherit",
      }).output();
      const profile = await profiler.stop();
      const report = JSON.parse(new TextDecoder().decode(load.stdout).trim().split("\n").at(-1)!);
      console.error(`[${mode}] ${Math.round(report.accepted / report.seconds)} events/s accepted`);
      return await reportProfile(profile, {
        title: `CPU profile of the tracking server, mode ${mode}, ${options.clients} clients`,
        file: `batching-${mode}`,
        units: report.accepted,
        unit: "event",
        top: options.top,
      });
    } finally {
      profiler.close();
    }
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      events: { type: "string", default: "20000" },
      clients: { type: "string", default: "50" },
      top: { type: "string", default: "25" },
    },
  });
  const options = { events: Number(values.events), clients: Number(values.clients), top: Number(values.top) };
  await Deno.mkdir(".data/tmp", { recursive: true });
  const dataDir = await Deno.makeTempDir({ dir: ".data/tmp", prefix: "bench-profile-batching-" });
  const devdb = await spawnDevDb({ dataDir });
  try {
    for (const mode of ["batched", "none"]) console.log(await profileMode(mode, devdb.url, options) + "\n");
  } finally {
    await devdb.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
