/**
 * The runtime benchmark's child processes other than the real server (which `spawnServer` runs): the
 * bench-only find servers and the load generator, all `deno run -P=bench`, spawned by the name "deno".
 * Each can be killed by its pid handle; the caller does so in a `finally`.
 *
 * @module
 */
import type { LoadResult } from "./runtime_load.ts";
import { gracefulStop } from "../../../tests/helpers/child.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const LIB = new URL("./", import.meta.url).pathname;
const STDERR_KEEP = 4_096;

/** A running bench-only server. */
export interface BenchServer {
  url: string;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

function run(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "-P=bench", "--quiet", `${LIB}${script}`, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Splits a byte stream into lines, calling `onLine` for each. */
async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered) onLine(buffered);
}

function keepTail(stream: ReadableStream<Uint8Array>): () => string {
  let text = "";
  (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-STDERR_KEEP);
    }
  })().catch(() => {});
  return () => text;
}

/** Starts `scripts/bench/lib/<script>` and resolves with the URL it prints first. */
export async function spawnBenchServer(script: string, args: string[]): Promise<BenchServer> {
  const child = run(script, args);
  const stderr = keepTail(child.stderr);
  const stop = gracefulStop(child);
  const firstLine = Promise.withResolvers<string | undefined>();
  readLines(child.stdout, (line) => firstLine.resolve(line))
    .then(() => firstLine.resolve(undefined), () => firstLine.resolve(undefined));
  const timer = setTimeout(() => firstLine.resolve(undefined), 30_000);
  const url = await firstLine.promise;
  clearTimeout(timer);
  if (!url?.startsWith("http://")) {
    await stop(1_000);
    throw new Error(`${script} did not print its URL (got ${JSON.stringify(url)}); stderr:\n${stderr()}`);
  }
  return { url, pid: child.pid, stop };
}

/** How to load. */
export interface LoadOptions {
  urls: string[];
  token: string;
  concurrency: number;
  seconds: number;
  warmup: number;
  /** Called when the measured window opens, with what closes it early. */
  onMeasuring?: (stopWindow: () => void) => void;
}

/** A load process in flight. */
export interface RunningLoad {
  pid: number;
  /** Closes the measured window now; the process then reports and exits. */
  stopWindow(): void;
  result: Promise<LoadResult>;
  /** SIGKILL, for cleanup. */
  kill(): void;
}

/** Starts `runtime_load.ts` in its own process. */
export function startLoad(options: LoadOptions): RunningLoad {
  const child = run("runtime_load.ts", [
    "--urls",
    options.urls.join(","),
    "--token",
    options.token,
    "--concurrency",
    String(options.concurrency),
    "--seconds",
    String(options.seconds),
    "--warmup",
    String(options.warmup),
  ]);
  const stderr = keepTail(child.stderr);
  let exited = false;
  const status = child.status.finally(() => (exited = true));
  const stopWindow = () => {
    if (!exited) child.kill("SIGTERM");
  };
  let done: LoadResult | undefined;
  const lines = readLines(child.stdout, (line) => {
    const event = JSON.parse(line) as { event: string } & LoadResult;
    if (event.event === "measuring") options.onMeasuring?.(stopWindow);
    if (event.event === "done") {
      const { event: _event, ...result } = event;
      done = result;
    }
  });
  const result = Promise.all([status, lines]).then(([code]) => {
    if (!done) throw new Error(`the load process exited ${code.code} without a result; stderr:\n${stderr()}`);
    return done;
  });
  return {
    pid: child.pid,
    stopWindow,
    result,
    kill: () => {
      if (!exited) child.kill("SIGKILL");
    },
  };
}
