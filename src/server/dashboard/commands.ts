/**
 * Command durations by collection and command name, for the dashboard's "slowest commands" table. The
 * `/metrics` histogram is labelled by command name only (collections would multiply its series), so this
 * keeps its own small log-bucket counts per collection in memory, fed by the driver's command monitoring.
 *
 * @module
 */
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from "mongodb";

/** One row of the table. */
export interface CommandLatency {
  collection: string;
  command: string;
  count: number;
  /** The upper bound of the bucket holding the 99th percentile, in milliseconds. */
  p99Ms: number;
}

/** What the dashboard shows: whether monitoring is on, and the slowest rows by p99. */
export interface CommandLatencyReport {
  enabled: boolean;
  slowest: CommandLatency[];
}

// Bucket i holds durations up to 2^(i/2) ms: 1, 1.4, 2, 2.8 ... ms, about 40% apart, up to ~18 minutes.
const BUCKETS = 40;
const bucketOf = (ms: number) =>
  Math.min(BUCKETS - 1, Math.max(0, Math.ceil(2 * Math.log2(Math.max(ms, 1)))));
const upperBound = (bucket: number) => Math.round(2 ** (bucket / 2) * 10) / 10;
/** At most this many (collection, command) pairs are kept; later pairs are not counted. */
export const MAX_PAIRS = 500;
// Commands that name no collection of ours (handshakes, heartbeats, sessions).
const IGNORED = new Set([
  "hello",
  "isMaster",
  "ismaster",
  "ping",
  "endSessions",
  "saslStart",
  "saslContinue",
]);

/**
 * Listens to a client made with `monitorCommands: true` and counts each finished command's duration.
 *
 * @example
 * ```ts
 * const latencies = new CommandLatencies(client);
 * latencies.report(10).slowest[0]; // { collection: "journal_entries", command: "find", count: 12, p99Ms: 5.7 }
 * latencies.detach();
 * ```
 */
export class CommandLatencies {
  readonly #client: MongoClient;
  readonly #enabled: boolean;
  readonly #started = new Map<string, { collection: string; command: string }>();
  readonly #counts = new Map<
    string,
    { collection: string; command: string; buckets: number[]; count: number }
  >();

  constructor(client: MongoClient) {
    this.#client = client;
    this.#enabled = client.options.monitorCommands === true;
    if (!this.#enabled) return;
    client.on("commandStarted", this.#onStarted);
    client.on("commandSucceeded", this.#onFinished);
    client.on("commandFailed", this.#onFinished);
  }

  /** The `limit` slowest (collection, command) pairs by p99. */
  report(limit = 10): CommandLatencyReport {
    const rows = [...this.#counts.values()].map(({ collection, command, buckets, count }) => {
      const rank = Math.ceil(count * 0.99);
      let seen = 0;
      const bucket = buckets.findIndex((n) => (seen += n) >= rank);
      return { collection, command, count, p99Ms: upperBound(bucket) };
    });
    rows.sort((a, b) => b.p99Ms - a.p99Ms || b.count - a.count);
    return { enabled: this.#enabled, slowest: rows.slice(0, limit) };
  }

  /** Stops listening. */
  detach(): void {
    this.#client.off("commandStarted", this.#onStarted);
    this.#client.off("commandSucceeded", this.#onFinished);
    this.#client.off("commandFailed", this.#onFinished);
    this.#started.clear();
  }

  #onStarted = (event: CommandStartedEvent): void => {
    if (IGNORED.has(event.commandName)) return;
    const target = event.command[event.commandName];
    const collection = typeof target === "string"
      ? target
      : typeof event.command.collection === "string"
      ? event.command.collection
      : null;
    if (collection === null) return;
    this.#started.set(`${event.connectionId}/${event.requestId}`, { collection, command: event.commandName });
  };

  #onFinished = (event: CommandSucceededEvent | CommandFailedEvent): void => {
    const key = `${event.connectionId}/${event.requestId}`;
    const started = this.#started.get(key);
    if (!started) return;
    this.#started.delete(key);
    const pair = `${started.collection}\u0000${started.command}`;
    let entry = this.#counts.get(pair);
    if (!entry) {
      if (this.#counts.size >= MAX_PAIRS) return;
      entry = { ...started, buckets: new Array(BUCKETS).fill(0), count: 0 };
      this.#counts.set(pair, entry);
    }
    entry.buckets[bucketOf(event.duration)]++;
    entry.count++;
  };
}
