/**
 * Logging for the whole app: one `setupLogging()` call at start, then `getLogger([...])` anywhere.
 *
 * Built on `@logtape/logtape`: Deno's `@std/log` was removed from the standard library in 2025.
 *
 * @example
 * ```ts
 * await setupLogging({ level: "info", format: "json" });
 * getLogger(["zien", "db"]).info("connected to {url}", { url: redactedUrl });
 * ```
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  configure,
  dispose,
  getLogger as logtapeLogger,
  getTextFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  reset,
  withContext,
} from "@logtape/logtape";

export type { Logger, LogLevel };
export { withContext };

/** How log records are written. */
export interface LoggingOptions {
  /** The lowest level written. */
  level: LogLevel;
  /** `pretty`: one readable line per record; `json`: one JSON object per line. */
  format: "pretty" | "json";
  /** Where records go; the devdb CLI keeps stdout for its URL. */
  stream?: "stdout" | "stderr";
}

/** Configures logging for this process (again, if it was configured before). */
export async function setupLogging(options: LoggingOptions): Promise<void> {
  const stream = options.stream === "stderr" ? Deno.stderr : Deno.stdout;
  const formatter = options.format === "json" ? jsonLine : getTextFormatter({
    timestamp: "date-time-tz",
    category: ".",
    value: (v, inspect) => typeof v === "string" ? v : inspect(v),
  });
  await reset();
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: {
      out: writeSyncSink(stream, formatter),
    },
    loggers: [
      { category: ["zien"], lowestLevel: options.level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

const encoder = new TextEncoder();
/** Pending log text past this many characters is written at once, whatever the level. */
const FLUSH_AT_CHARS = 64 * 1024;

// logtape's JSON formatter quotes string values inside the rendered message; ours renders them bare, so
// "ready on http://127.0.0.1:8000" reads (and greps) the same in JSON and pretty output.
function jsonLine(record: LogRecord): string {
  const message = record.message.map((part, i) =>
    i % 2 === 0 || typeof part === "string" ? String(part) : JSON.stringify(part) ?? String(part)
  ).join("");
  return JSON.stringify({
    ...record.properties,
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level.toUpperCase(),
    logger: record.category.join("."),
    message,
  }) + "\n";
}

// Written by hand because logtape's stream sink writes asynchronously: lines queued at Deno.exit() would be
// lost, and reconfiguring would close stdout. Info and debug lines are gathered until the next turn of the
// event loop and written with one encode and one write: under load many requests finish in one turn, and
// one write per access line (a syscall that wakes the reader) was among the largest items of the server's
// CPU profile. Warnings and worse are written at once, with everything before them, and Deno.exit() (the
// `unload` event), dispose() and reconfiguring write what is pending.
function writeSyncSink(stream: typeof Deno.stdout, format: (record: LogRecord) => string) {
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const bytes = encoder.encode(pending);
    pending = "";
    for (let written = 0; written < bytes.length;) written += stream.writeSync(bytes.subarray(written));
  };
  globalThis.addEventListener("unload", flush);
  const sink = (record: LogRecord): void => {
    const line = format(record);
    pending += line.endsWith("\n") ? line : line + "\n";
    if (record.level !== "debug" && record.level !== "info" && record.level !== "trace") return flush();
    if (pending.length >= FLUSH_AT_CHARS) return flush();
    if (timer === undefined) {
      timer = setTimeout(flush, 0);
      // A pending line never keeps the process alive: an exit writes it (the `unload` listener).
      Deno.unrefTimer(timer);
    }
  };
  return Object.assign(sink, {
    [Symbol.dispose]: () => {
      flush();
      globalThis.removeEventListener("unload", flush);
    },
  });
}

/** Flushes and closes the sinks; call last, just before exit. */
export async function shutdownLogging(): Promise<void> {
  await dispose();
}

/**
 * A logger under the app's `zien` category.
 *
 * @example
 * ```ts
 * const log = getLogger(["db", "pool"]); // category zien.db.pool
 * ```
 */
export function getLogger(category: string[]): Logger {
  return logtapeLogger(["zien", ...category]);
}
