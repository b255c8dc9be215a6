/**
 * The runtime benchmark's load generator, run as its own process so the load's CPU is not the servers'.
 * `--concurrency` clients each send `POST <url>` with `{ "limit": 5 }` and the bearer token, one request at
 * a time, spreading requests round-robin over `--urls`. After `--warmup` seconds it measures for `--seconds`
 * (or until SIGTERM), then waits for the requests in flight.
 *
 * Counted as wrk counts: requests/s and latencies are the 200s that completed inside the measured window;
 * errors are every failure that completed in it, plus failures of requests still in flight when it ended.
 * After a network-level failure a client waits 100 ms before its next request, as a real client backs off,
 * so a server that is gone is not met with a busy loop that takes the CPU from the servers.
 *
 * Output on stdout, one JSON object per line: `{"event":"measuring","at":<epoch ms>}` when the measured
 * window opens, then `{"event":"done", ...LoadResult}`.
 *
 * Usage: `deno run -P=bench scripts/bench/lib/runtime_load.ts --urls U1,U2 --token T --concurrency 100
 * --seconds 5 --warmup 1 [--timeout-ms 15000]`
 *
 * @module
 */
import { argument } from "./runtime_find.ts";

/** What one load run measured. */
export interface LoadResult {
  /** 200 responses completed inside the measured window. */
  requests: number;
  errors: number;
  /** Errors by kind: `HTTP <status>`, `timeout`, `connection refused`, `connection reset`, ... */
  errorKinds: Record<string, number>;
  /** Failures during the warmup (not in `errors`). */
  warmupErrors: number;
  /** 200s answered after the window closed (requests in flight at its end); not in `requests`. */
  late: number;
  /** Length of the measured window in seconds. */
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Epoch milliseconds the measured window opened and closed (for the connection samples). */
  startedAt: number;
  endedAt: number;
}

const NETWORK_BACKOFF_MS = 100;

function kindOf(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "timeout";
  const message = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
  if (/refused/i.test(message)) return "connection refused";
  if (/reset|closed|broken pipe|incomplete/i.test(message)) return "connection reset";
  if (/too many open files/i.test(message)) return "too many open files";
  return `network: ${message.slice(0, 60)}`;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const urls = argument("urls").split(",");
  const token = argument("token");
  const concurrency = Number(argument("concurrency"));
  const seconds = Number(argument("seconds"));
  const warmup = Number(argument("warmup", "1"));
  const timeoutMs = Number(argument("timeout-ms", "15000"));
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const body = JSON.stringify({ limit: 5 });

  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let warmupErrors = 0;
  let late = 0;
  let next = 0;
  const windowStart = performance.now() + warmup * 1000;
  let windowEnd = windowStart + seconds * 1000;
  let startedAt = 0;
  const opened = setTimeout(() => {
    startedAt = Date.now();
    console.log(JSON.stringify({ event: "measuring", at: startedAt }));
  }, warmup * 1000);
  // SIGTERM closes the window now: the SIGTERM measurement stops the load once the server has exited.
  const stop = () => (windowEnd = Math.min(windowEnd, performance.now()));
  Deno.addSignalListener("SIGTERM", stop);

  const client = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      const url = urls[next++ % urls.length];
      const started = performance.now();
      let kind: string | undefined;
      let network = false;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        if (response.status !== 200) kind = `HTTP ${response.status}`;
      } catch (err) {
        kind = kindOf(err);
        network = kind !== "timeout";
      }
      const ended = performance.now();
      if (kind === undefined) {
        if (ended >= windowStart && ended <= windowEnd) latencies.push(ended - started);
        else if (ended > windowEnd) late++;
      } else if (ended < windowStart) {
        warmupErrors++;
      } else {
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
      if (network) await new Promise((resolve) => setTimeout(resolve, NETWORK_BACKOFF_MS));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  clearTimeout(opened);
  Deno.removeSignalListener("SIGTERM", stop);

  const windowSeconds = Math.max(0, windowEnd - windowStart) / 1000;
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    requests: latencies.length,
    errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
    errorKinds,
    warmupErrors,
    late,
    seconds: windowSeconds,
    rps: windowSeconds > 0 ? latencies.length / windowSeconds : 0,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    startedAt: startedAt || Date.now(),
    endedAt: startedAt + windowSeconds * 1000,
  };
  console.log(JSON.stringify({ event: "done", ...result }));
}

if (import.meta.main) await main();
