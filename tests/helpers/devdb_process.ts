/**
 * Runs the devdb CLI as a child process, for benchmarks and tests that need a server in another process.
 *
 * @example
 * ```ts
 * const devdb = await spawnDevDb();
 * const client = new MongoClient(devdb.url);
 * // ...
 * await client.close();
 * await devdb.stop();
 * ```
 * @module
 */
import { gracefulStop } from "./child.ts";

/** How to start the child server. */
export interface SpawnDevDbOptions {
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** A data directory under `.data/`; without it the child keeps its data in memory. */
  dataDir?: string;
  /** The connection cap. */
  maxConnections?: number;
  /** The child's LOG_LEVEL. @default "warning" */
  logLevel?: string;
  /** How long to wait for the URL line. @default 15000 */
  startTimeoutMs?: number;
  /** More command-line flags (`--replica-set rs0`, `--atlas-m0`, ...). */
  args?: string[];
}

/** A running child server. */
export interface DevDbProcess {
  url: string;
  /** The (first member's) port. */
  port: number;
  pid: number;
  /** Resolves with the exit status once the child has exited. */
  status: Promise<Deno.CommandStatus>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`, default 5000). */
  stop(graceMs?: number): Promise<void>;
}

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const STDERR_KEEP = 8_192;

async function firstLine(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string | undefined> {
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    text += decoder.decode(value, { stream: true });
  }
  return text.slice(0, text.indexOf("\n"));
}

async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  keep?: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      keep?.(decoder.decode(chunk.value, { stream: true }));
    }
  } catch {
    // The child went away; nothing left to read.
  }
}

/** Starts `deno run -P=devdb src/devdb/main.ts` and resolves once it has printed its URL. */
export async function spawnDevDb(options: SpawnDevDbOptions = {}): Promise<DevDbProcess> {
  const args = ["run", "-P=devdb", "src/devdb/main.ts", "--port", String(options.port ?? 0)];
  args.push(...(options.dataDir ? ["--data-dir", options.dataDir] : ["--in-memory"]));
  if (options.maxConnections !== undefined) args.push("--max-connections", String(options.maxConnections));
  args.push(...options.args ?? []);
  const child = new Deno.Command("deno", {
    args,
    cwd: ROOT,
    env: { LOG_LEVEL: options.logLevel ?? "warning" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stderr = "";
  const stderrDone = drain(child.stderr.getReader(), (text) => stderr = (stderr + text).slice(-STDERR_KEEP));
  const stdout = child.stdout.getReader();
  const status = child.status;
  const stopChild = gracefulStop(child);

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), options.startTimeoutMs ?? 15_000);
  });
  const url = await Promise.race([firstLine(stdout), timeout]);
  clearTimeout(timer);
  const stdoutDone = drain(stdout);

  const stop = async (graceMs = 5_000): Promise<void> => {
    await stopChild(graceMs);
    await Promise.all([stdoutDone, stderrDone]);
  };

  if (!url?.startsWith("mongodb://")) {
    await stop(1_000);
    throw new Error(`devdb did not print its URL (got ${JSON.stringify(url)}); stderr:\n${stderr}`);
  }
  // A seed list is no WHATWG URL: the first member's port is read by hand.
  const port = Number(/^mongodb:\/\/(?:[^@/]*@)?[^:/,]+:(\d+)/.exec(url)?.[1]);
  return { url, port, pid: child.pid, status, stop };
}
