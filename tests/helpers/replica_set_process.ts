/**
 * A replica-set devdb in a child process (`replica_set_host.ts`), with its handle's methods over a pipe:
 * elections, kills and per-member counters, for tests and benchmarks whose load must not share the
 * database's event loop.
 *
 * @example
 * ```ts
 * const rs = await spawnReplicaSet({ replicaSet: { name: "rs0", members: 3 } });
 * await rs.stepDown(30);
 * await rs.stop();
 * ```
 * @module
 */
import type { DevDbMember, DevDbOptions, DevDbStats } from "../../src/devdb/mod.ts";
import { gracefulStop } from "./child.ts";

/** The replica set's handle, every method answered by the child. */
export interface ReplicaSetProcess {
  url: string;
  members: DevDbMember[];
  pid: number;
  primaryIndex(): Promise<number | null>;
  stepDown(seconds?: number): Promise<void>;
  killMember(index: number): Promise<void>;
  restartMember(index: number): Promise<void>;
  memberStats(index: number): Promise<DevDbStats>;
  allMemberStats(): Promise<DevDbStats[]>;
  setLatency(ms: number): Promise<void>;
  /** Stops the server and waits for the child (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const HOST = new URL("./replica_set_host.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** Starts the child and resolves once it has printed its URL. */
export async function spawnReplicaSet(options: DevDbOptions): Promise<ReplicaSetProcess> {
  const child = new Deno.Command("deno", {
    args: ["run", "-P=devdb", "--quiet", HOST, JSON.stringify(options)],
    cwd: ROOT,
    env: { LOG_LEVEL: "warning" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stopChild = gracefulStop(child);
  const stdin = child.stdin.getWriter();
  const pending = new Map<number, PromiseWithResolvers<unknown>>();
  const started = Promise.withResolvers<{ url: string; members: DevDbMember[] }>();
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (message.url) started.resolve(message);
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result);
      }
    }
    started.reject(new Error("the replica-set host exited before it printed its URL"));
    for (const waiter of pending.values()) waiter.reject(new Error("the replica-set host exited"));
  })();
  let nextId = 0;
  const call = async <T>(op: string, ...args: number[]): Promise<T> => {
    const id = ++nextId;
    const waiter = Promise.withResolvers<unknown>();
    pending.set(id, waiter);
    await stdin.write(new TextEncoder().encode(JSON.stringify({ id, op, args }) + "\n"));
    return await waiter.promise as T;
  };
  const timer = setTimeout(
    () => started.reject(new Error("the replica-set host did not start in 20 s")),
    20_000,
  );
  let ready;
  try {
    ready = await started.promise;
  } catch (err) {
    await stopChild(1_000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    url: ready.url,
    members: ready.members,
    pid: child.pid,
    primaryIndex: () => call("primaryIndex"),
    stepDown: (seconds = 60) => call("stepDown", seconds),
    killMember: (index) => call("killMember", index),
    restartMember: (index) => call("restartMember", index),
    memberStats: (index) => call("memberStats", index),
    allMemberStats: () => call("allMemberStats"),
    setLatency: (ms) => call("setLatency", ms),
    async stop() {
      await call("stop").catch(() => {});
      await stdin.close().catch(() => {});
      await stopChild(5_000);
      await reading.catch(() => {});
    },
  };
}
