/**
 * The process's one MongoClient: pool-limited, named after this instance, connected with retry.
 *
 * @module
 */
import { MongoClient } from "mongodb";
import { backoffDelayMs } from "../backoff.ts";
import type { PoolConfig, ReadPreferenceSetting, WriteConcernSetting } from "../config.ts";
import { getLogger } from "../log.ts";
import { redactText, redactUrl } from "../redact.ts";

const log = getLogger(["db"]);

/** The prefix of every appName this app gives its client; the server view groups connections by it. */
export const APP_NAME_PREFIX = "zien-backend:";

/** This instance's appName: `zien-backend:<hostname>:<pid>`. */
export function instanceAppName(hostname: string = Deno.hostname(), pid: number = Deno.pid): string {
  return `${APP_NAME_PREFIX}${hostname}:${pid}`;
}

let liveClient: { client: MongoClient; createdAt: string } | undefined;

/** Thrown when a second MongoClient is constructed while the first is still open. */
export class SecondClientError extends Error {
  constructor(firstCreatedAt: string) {
    super(
      `A MongoClient already exists in this process (created ${firstCreatedAt}). ` +
        "Pass its Db around instead of opening another pool.",
    );
    this.name = "SecondClientError";
  }
}

/** Options of `createMongoClient` beyond the pool. */
export interface MongoClientSettings {
  monitorCommands?: boolean;
  /** The `w` of every write. @default "majority" */
  writeConcern?: WriteConcernSetting;
  /** @default "primary" */
  readPreference?: ReadPreferenceSetting;
}

/**
 * Constructs the process's only MongoClient, with the pool limits, write concern and read preference from
 * the configuration. Retryable writes and reads are always on: they carry writes and reads through an
 * election. It is not yet connected, so watchers can subscribe to its events before the first connection
 * opens.
 *
 * @throws {SecondClientError} while another client made here is still open, naming where it was made
 */
export function createMongoClient(
  url: string,
  pool: PoolConfig,
  appName: string,
  options: MongoClientSettings = {},
): MongoClient {
  if (liveClient) throw new SecondClientError(liveClient.createdAt);
  const createdAt = new Error().stack?.split("\n").slice(2, 3).join("").trim() ?? "unknown";
  const client = new MongoClient(url, {
    ...pool,
    appName,
    monitorCommands: options.monitorCommands ?? false,
    writeConcern: { w: options.writeConcern ?? "majority" },
    readPreference: options.readPreference ?? "primary",
    // Options given here win over the URL's, so a `retryWrites=false` in MONGODB_URL cannot turn them off.
    retryWrites: true,
    retryReads: true,
  });
  liveClient = { client, createdAt };
  const close = client.close.bind(client);
  client.close = async (force?: boolean) => {
    try {
      await close(force);
    } finally {
      if (liveClient?.client === client) liveClient = undefined;
    }
  };
  return client;
}

/** Backoff settings for `connectWithRetry`: waits double from `initialDelayMs` up to `maxDelayMs`, ±10%. */
export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Raised when every connection attempt failed. */
export class ConnectFailedError extends Error {
  constructor(url: string, attempts: number, last: unknown) {
    super(
      `Could not connect to ${redactUrl(url)} after ${attempts} attempt(s): ` +
        redactText(last instanceof Error ? last.message : String(last)),
    );
    this.name = "ConnectFailedError";
  }
}

/** Deno refused the connection (NotCapable: the permission set lacks the host): no retry will help. */
export class ConnectNotPermittedError extends Error {
  constructor(url: string, cause: unknown) {
    super(`Not permitted to connect to ${redactUrl(url)}: ${redactText(String((cause as Error)?.message))}`);
    this.name = "ConnectNotPermittedError";
  }
}

/** Whether Deno's permission check is somewhere in the driver's chain of causes. */
function isNotPermitted(err: unknown, depth = 0): boolean {
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) return true;
  if (depth > 8 || typeof err !== "object" || err === null) return false;
  const servers = (err as { reason?: { servers?: Map<string, { error?: unknown }> } }).reason?.servers;
  const causes = [(err as { cause?: unknown }).cause, ...[...servers?.values() ?? []].map((s) => s.error)];
  return causes.some((cause) => cause !== undefined && isNotPermitted(cause, depth + 1));
}

/**
 * Connects, retrying with exponential backoff; every attempt is logged with the redacted URL and the next
 * delay. `signal` aborts the wait between attempts (a shutdown during start-up).
 *
 * @throws {ConnectFailedError} when attempts run out
 * @throws {ConnectNotPermittedError} at once when Deno's permissions forbid the connection
 */
export async function connectWithRetry(
  client: MongoClient,
  url: string,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    signal?.throwIfAborted();
    try {
      await client.connect();
      await client.db("admin").command({ ping: 1 });
      log.info("connected to {url} (attempt {attempt})", { url: redactUrl(url), attempt });
      return;
    } catch (err) {
      if (isNotPermitted(err)) throw new ConnectNotPermittedError(url, err);
      lastError = err;
      const reason = redactText(err instanceof Error ? err.message : String(err));
      if (attempt === policy.maxAttempts) {
        log.error("attempt {attempt}/{max} to connect to {url} failed: {reason}; giving up", {
          attempt,
          max: policy.maxAttempts,
          url: redactUrl(url),
          reason,
        });
        break;
      }
      const delayMs = backoffDelayMs({ baseMs: policy.initialDelayMs, maxMs: policy.maxDelayMs }, attempt);
      log.warn("attempt {attempt}/{max} to connect to {url} failed: {reason}; next in {delayMs} ms", {
        attempt,
        max: policy.maxAttempts,
        url: redactUrl(url),
        reason,
        delayMs,
      });
      await abortableDelay(delayMs, signal);
    }
  }
  throw new ConnectFailedError(url, policy.maxAttempts, lastError);
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
