/**
 * A V8 CPU profile of a running Deno process, taken through its inspector (`--inspect=127.0.0.1:0`) with
 * the Chrome DevTools Protocol's Profiler domain, and folded into self time per function and per area.
 * Deno 2.9 has no `--cpu-prof` flag; the inspector is how its own DevTools profile.
 *
 * @module
 */

/** The parts of a `.cpuprofile` we read. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A profiler session on one inspector WebSocket. */
export interface ProfilerSession {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
  close(): void;
}

/** Connects to `ws://…` (printed by `--inspect` as "Debugger listening on …") and enables the profiler. */
export async function connectProfiler(wsUrl: string, samplingMicros = 200): Promise<ProfilerSession> {
  const socket = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`could not open the inspector at ${wsUrl}`));
  });
  let nextId = 1;
  const pending = new Map<number, PromiseWithResolvers<unknown>>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data as string) as { id?: number; result?: unknown; error?: unknown };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(JSON.stringify(message.error)));
    else waiter?.resolve(message.result);
  };
  const send = (method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    const waiter = Promise.withResolvers<unknown>();
    pending.set(id, waiter);
    socket.send(JSON.stringify({ id, method, params }));
    return waiter.promise;
  };
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: samplingMicros });
  return {
    start: async () => void await send("Profiler.start"),
    stop: async () => ((await send("Profiler.stop")) as { profile: CpuProfile }).profile,
    close: () => socket.close(),
  };
}

/** Where a function's code comes from, for the summary by area. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/\.deno\/([^/]+)\/|npm\/registry\.npmjs\.org\/([^/]+(?:\/[^/]+)?)\//.exec(url);
  if (pkg) return `npm:${(pkg[1] ?? pkg[2]).replace(/@[\d.]+$/, "").replace(/\+/, "/")}`;
  const app = /\/src\/(.+)$/.exec(url);
  if (app) return `src/${app[1].split("/").slice(0, -1).join("/") || "."}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return url.split("/")[0];
  return url;
}

/**
 * The most one sample counts for, in ms. On a shared machine the process is sometimes not scheduled for tens
 * of milliseconds; V8 then records one sample with the whole gap as its delta, on whatever frame ran last
 * (often a syscall such as a log write), which made a few functions look many times their real cost.
 */
export const SAMPLE_CAP_MS = 1;

/** Self time in milliseconds (each sample capped at {@linkcode SAMPLE_CAP_MS}), summed by `key`, highest first. */
export function selfTime(profile: CpuProfile, key: (frame: CpuProfile["nodes"][0]["callFrame"]) => string) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  profile.samples.forEach((nodeId, i) => {
    const frame = byNode.get(nodeId)!;
    const k = key(frame);
    const ms = Math.min(SAMPLE_CAP_MS, (profile.timeDeltas[i] ?? 0) / 1000);
    totals.set(k, (totals.get(k) ?? 0) + ms);
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}
