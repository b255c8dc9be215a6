/**
 * The public shapes of the embedded server: its options, its statistics and its handle.
 *
 * @module
 */

/** How to start an embedded server. */
export interface DevDbOptions {
  /** The address to bind; loopback unless told otherwise. @default "127.0.0.1" */
  hostname?: string;
  /** The TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Where the append-only log lives; without it the data is in memory only. */
  dataDir?: string;
  /** Connections past this many are accepted and closed at once, counted as refused. */
  maxConnections?: number;
  /** How often TTL indexes are swept, in milliseconds. @default 60000 */
  ttlSweepIntervalMs?: number;
  /** How long a cursor may sit idle before it is reaped, in milliseconds. @default 600000 */
  cursorIdleTimeoutMs?: number;
}

/** Counters as `stats()` reports them. */
export interface DevDbStats {
  /** Client connections. */
  connections: {
    /** Open now. */
    current: number;
    /** Accepted since start, refused ones excluded. */
    totalCreated: number;
    /** Closed at once because `maxConnections` was reached. */
    refused: number;
    /** Open connections grouped by the handshake's `client.application.name` (`""` for none). */
    byAppName: Record<string, number>;
  };
  /** Operations counted as mongod counts them: `insert` counts documents, `update`/`delete` statements. */
  opcounters: {
    insert: number;
    query: number;
    update: number;
    delete: number;
    getmore: number;
    command: number;
  };
}

/** A running embedded server. */
export interface DevDb {
  /** `mongodb://HOST:PORT/?directConnection=true`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The address it listens on. */
  readonly hostname: string;
  /** A snapshot of the connection and operation counters. */
  stats(): DevDbStats;
  /** Severs every open client socket at once; the listener keeps accepting. */
  dropConnections(): void;
  /** Delays every reply by `ms` milliseconds from now on (0 turns it off). */
  setLatency(ms: number): void;
  /** Closes the listener and every socket, stops the timers and flushes the log. */
  stop(): Promise<void>;
}

/** A message the app posts to `worker.ts`. */
export type DevDbWorkerRequest =
  | { type: "start"; options?: DevDbOptions }
  | { type: "stop" };

/** A message `worker.ts` posts back. */
export type DevDbWorkerResponse =
  | { type: "started"; url: string; port: number }
  /** `name` is the error's class name (`DataDirInUseError` when the data directory is locked). */
  | { type: "error"; message: string; name?: string }
  | { type: "stopped" };
