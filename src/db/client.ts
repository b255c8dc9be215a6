/**
 * The process's one MongoClient: pool-limited, named after this instance, connected with retry.
 *
 * @module
 */
import { MongoClient } from "mongodb";
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

/** Backoff settings for `connectWithRetry`. */
export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** The delay before attempt `attempt + 1`: exponential (factor 2), capped, with up to 20% jitter. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.2 * random()));
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

/**
 * Connects, retrying with exponential backoff; every attempt is logged with the redacted URL and the next
 * delay. `signal` aborts the wait between attempts (a shutdown during start-up).
 *
 * @throws {ConnectFailedError} when attempts run out
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
      const delayMs = backoffDelay(policy, attempt);
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
