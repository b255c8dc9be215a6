/**
 * Runs the real server (`src/main.ts`) as a child process, the way `deno task start` does, and reads its
 * JSON log lines.
 *
 * @module
 */
import { waitFor } from "./wait.ts";

/** One JSON log record as the server writes it with LOG_FORMAT=json. */
export interface LogLine {
  level: string;
  message: string;
  logger: string;
  [property: string]: unknown;
}

/** A running server child process. */
export interface ServerProcess {
  pid: number;
  /** `http://127.0.0.1:PORT`, known once the server logged that it is ready. */
  baseUrl: string;
  /** Every log line so far (stdout, parsed) and raw stderr text. */
  logs(): LogLine[];
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  signal(signal: Deno.Signal): void;
  /**
   * Sends `signal` to the child's whole process group, as a terminal's Ctrl-C or systemd's
   * KillMode=control-group do (only with `viaTask`, whose child leads its own group).
   */
  signalGroup(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Kills the process (with `viaTask`, its whole group) if it still runs and waits for it: for test cleanup. */
  kill(): Promise<void>;
}

/** Options for `spawnServer`. */
export interface SpawnServerOptions {
  env: Record<string, string>;
  /** Wait for the ready log line (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** Run `deno task start` in a process group of its own (the task runner, then the app under it). */
  viaTask?: boolean;
  /** Parse and keep every log line (default true); with false, lines after the ready line are drained unread. */
  keepLogs?: boolean;
}

const readyPattern = /ready on http:\/\/([^\s]+)/;

/**
 * Starts `deno run -P=server src/main.ts` with `HOST=127.0.0.1`, `PORT=0`, JSON logs and the given env.
 *
 * @example
 * ```ts
 * const server = await spawnServer({ env: { MONGODB_URL: devdb.url } });
 * await fetch(`${server.baseUrl}/health/ready`);
 * server.signal("SIGTERM");
 * assert.equal(await server.exited, 0);
 * ```
 */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const child = new Deno.Command("deno", {
    args: options.viaTask ? ["task", "--quiet", "start"] : ["run", "-P=server", "--quiet", "src/main.ts"],
    // setsid(): the child's pid is then its process group id.
    detached: options.viaTask ?? false,
    env: {
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      // Each test server spills to its own folder, so one test's spilled events never surface in another's.
      BATCH_SPILL_DIR: `.data/tmp/spill-${crypto.randomUUID()}`,
      ...options.env,
    },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: LogLine[] = [];
  let stderrText = "";
  let ready = false;
  const readStdout = (async () => {
    const decoder = new TextDecoderStream();
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(decoder)) {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (options.keepLogs === false && ready) continue;
        try {
          lines.push(JSON.parse(line));
          ready ||= readyPattern.test(lines.at(-1)!.message ?? "");
        } catch {
          lines.push({ level: "RAW", message: line, logger: "" });
        }
      }
    }
  })();
  const readStderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderrText += chunk;
  })();
  const exited = child.status.then(async (status) => {
    await Promise.all([readStdout, readStderr]);
    return status.code;
  });
  let exitCode: number | undefined;
  exited.then((code) => (exitCode = code));
  const server: ServerProcess = {
    pid: child.pid,
    baseUrl: "",
    logs: () => lines,
    stderr: () => stderrText,
    exited,
    signal: (signal) => {
      if (exitCode === undefined) child.kill(signal);
    },
    signalGroup: async (signal) => {
      if (!options.viaTask) throw new Error("signalGroup needs viaTask: the child shares the test's group");
      // Deno.kill(-pgid) needs unrestricted --allow-run; kill(1) needs only itself.
      await new Deno.Command("kill", { args: ["-s", signal.slice(3), "--", `-${child.pid}`] }).output();
    },
    kill: async () => {
      // The task runner may be gone while the app it started still runs: the group is killed regardless.
      if (options.viaTask) await server.signalGroup("SIGKILL");
      else if (exitCode === undefined) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await exited;
    },
  };
  if (options.waitReady !== false) await waitUntilReady(server, options.readyTimeoutMs);
  return server;
}

/** Waits for the "ready on" line and fills in `baseUrl`; fails early if the process exits. */
export async function waitUntilReady(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  let exited = false;
  server.exited.then(() => (exited = true));
  await waitFor(() => {
    if (exited) {
      throw new Error(`server exited before it was ready:\n${dump(server)}`);
    }
    return server.logs().some((l) => readyPattern.test(l.message));
  }, { what: "the server to log that it is ready", timeoutMs });
  const match = server.logs().map((l) => readyPattern.exec(l.message)).find((m) => m !== null)!;
  server.baseUrl = `http://${match[1]}`;
}

/** The logs of a server, for failure messages. */
export function dump(server: ServerProcess): string {
  return [...server.logs().map((l) => `${l.level} ${l.logger}: ${l.message}`), server.stderr()].join("\n");
}

const closedPoolErrors =
  /closed connection pool|MongoPoolClosedError|MongoTopologyClosedError|Topology is closed/i;

/**
 * Asserts the shutdown closed the MongoClient itself (not merely the process exiting) and that nothing
 * touched the database afterwards.
 */
export function assertClosedCleanly(server: ServerProcess): void {
  const messages = server.logs().map((l) => l.message);
  const closedAt = messages.findIndex((m) => m.startsWith("closed the MongoClient"));
  if (closedAt < 0) throw new Error(`the client was never closed:\n${dump(server)}`);
  if (!messages.includes("shutdown complete")) throw new Error(`no clean shutdown:\n${dump(server)}`);
  const everything = JSON.stringify(server.logs()) + server.stderr();
  if (closedPoolErrors.test(everything)) throw new Error(`closed-pool errors in the logs:\n${dump(server)}`);
}
