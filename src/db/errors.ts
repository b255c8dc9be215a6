/**
 * Which driver failures mean "the database is away or saturated right now" (answer 503 with Retry-After,
 * retry a read), as opposed to a bug or a refusal.
 *
 * @example
 * ```ts
 * if (isTransientDbError(err)) return c.json({ error: "busy" }, 503);
 * const entries = await retryRead(() => entries.find({ user }).toArray());
 * ```
 * @module
 */
import { MongoError, MongoNetworkError, MongoServerSelectionError } from "mongodb";

/** The driver's errors for a pool that is saturated, cleared or closing, by name (some are not exported). */
const TRANSIENT_NAMES = new Set([
  "MongoWaitQueueTimeoutError",
  "MongoServerSelectionError",
  "MongoPoolClearedError",
  "PoolClearedOnNetworkError",
  "MongoPoolClosedError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
]);

/** Server codes that mean the server is shutting down, stepping down or unreachable: the driver's retryable set. */
const TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** Socket error codes from the runtime's `net` layer (Node's and Deno's compat layer alike). */
const NETWORK_ERRNOS = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ENOTCONN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_DESTROYED",
]);

const SOCKET_ENDED = /This socket has been ended by the other party/;

// A plain socket error counts only when the driver was writing it: the stack runs through the package.
const DRIVER_FRAME = /[/\\]mongodb[/\\]/;

/**
 * Whether `err` (or its `cause`) is a network-level failure or a saturation of the driver: every
 * `MongoNetworkError`, server selection and pool errors, the server's shutdown and step-down codes, and a
 * plain socket error raised inside the driver — which it sometimes lets through unwrapped, e.g. "This socket
 * has been ended by the other party" (EPIPE) from `Connection.writeCommand` after the server closed the
 * connection gracefully.
 */
export function isTransientDbError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof MongoNetworkError || e instanceof MongoServerSelectionError) return true;
    if (TRANSIENT_NAMES.has(e.name)) return true;
    if (e instanceof MongoError && typeof e.code === "number" && TRANSIENT_CODES.has(e.code)) return true;
    if (e instanceof MongoError && e.hasErrorLabel("RetryableWriteError")) return true;
    // Deno's node:net raises this without a code when the driver writes to a socket the server has ended.
    if (SOCKET_ENDED.test(e.message) && DRIVER_FRAME.test(e.stack ?? "")) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_ERRNOS.has(code) && DRIVER_FRAME.test(e.stack ?? "")) return true;
  }
  return false;
}

/** How a read is retried. */
export interface ReadRetryOptions {
  /** Attempts in all, the first included. @default 2 */
  attempts?: number;
  /** The wait before each retry: long enough for the driver to mark the old socket dead. @default 50 */
  delayMs?: number;
}

/**
 * Runs `read`, and again after a short wait when it failed with a transient error, like the driver's own
 * retryable reads (which skip the unwrapped socket errors). Only for operations that change nothing.
 *
 * @throws the last error when every attempt failed, or the first error that is not transient
 */
export async function retryRead<T>(read: () => Promise<T>, options: ReadRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 2;
  for (let attempt = 1;; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= attempts || !isTransientDbError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 50));
    }
  }
}
