/**
 * The public shapes of the embedded server: its options, its statistics and its handle.
 *
 * @module
 */

/** A built-in role granted on a database, as `createUser` takes it. */
export interface DevDbRole {
  /** `read`, `readWrite`, `dbAdmin`, `clusterMonitor`, `root`, or an `...AnyDatabase` role. */
  role: string;
  /** The database the role applies to (`admin` for the cluster-wide roles). */
  db: string;
}

/** A user the server knows from the start (SCRAM-SHA-256 and SCRAM-SHA-1 credentials are derived). */
export interface DevDbUser {
  /** The user name. */
  user: string;
  /** The password, in clear: it is turned into SCRAM secrets at start and not kept. */
  password: string;
  /** The authentication database. @default "admin" */
  db?: string;
  /** Its roles; a bare string is that role on `db`. */
  roles: (DevDbRole | string)[];
}

/** Replica-set mode: N members in one process, on N loopback ports, sharing one storage. */
export interface DevDbReplicaSetOptions {
  /** The set's name, as `replicaSet=` in the URL and `setName` in `hello`. */
  name: string;
  /** How many members. @default 3 */
  members?: number;
  /** How long after the primary is lost (step-down or kill) a new one is elected, in ms. @default 2000 */
  electionDelayMs?: number;
}

/** The Atlas M0 preset's settings (see `DevDbOptions.atlasM0`). */
export interface DevDbAtlasM0Options {
  /** Atlas's 100 operations per second, over which operations wait for the next second. @default true */
  opRateLimit?: boolean;
  /** The app user's database (its readWrite role is on it). @default "zien" */
  database?: string;
  /** The app user's name. @default "app" */
  user?: string;
  /** The app user's password. @default "app-password" */
  password?: string;
}

/** How to start an embedded server. */
export interface DevDbOptions {
  /** The address to bind; loopback unless told otherwise. @default "127.0.0.1" */
  hostname?: string;
  /** The TCP port; 0 picks a free one. Replica-set members use port, port+1, ... (0: each a free one). */
  port?: number;
  /** Where the append-only log lives; without it the data is in memory only. */
  dataDir?: string;
  /** Per member: connections past this many are accepted and closed at once, counted as refused. */
  maxConnections?: number;
  /** How often TTL indexes are swept, in milliseconds. @default 60000 */
  ttlSweepIntervalMs?: number;
  /** How long a cursor may sit idle before it is reaped, in milliseconds. @default 600000 */
  cursorIdleTimeoutMs?: number;
  /** Run as a replica set instead of a standalone. */
  replicaSet?: DevDbReplicaSetOptions;
  /** Users; once any exists (here or by `createUser`) every command but the handshake needs SCRAM auth. */
  users?: DevDbUser[];
  /** The user (one of `users`) whose credentials `url` carries. */
  urlUser?: string;
  /** Accept `configureFailPoint` (failCommand); refused otherwise. @default false */
  failPoints?: boolean;
  /**
   * The Atlas M0 preset: a 3-member set, 500 connections per member, an app user with readWrite on its
   * database only, Atlas's refused commands and its operation-rate limit. Explicit options win.
   */
  atlasM0?: boolean | DevDbAtlasM0Options;
}

/** Counters as `stats()` and `memberStats()` report them. */
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

/** Where a member listens. */
export interface DevDbMember {
  /** The address, as in `hello.hosts`. */
  readonly host: string;
  /** The port. */
  readonly port: number;
}

/** A running embedded server (a standalone, or every member of a replica set). */
export interface DevDb {
  /**
   * Standalone: `mongodb://HOST:PORT/?directConnection=true`. Replica set: the seed list
   * `mongodb://H:P1,H:P2,H:P3/?replicaSet=NAME`. With credentials (and `authSource`) when the Atlas preset
   * or `urlUser` applies.
   */
  readonly url: string;
  /** The port of the first member. */
  readonly port: number;
  /** The first member's host as clients reach it (loopback for a wildcard bind). */
  readonly hostname: string;
  /** Every member, in order (one for a standalone). */
  readonly members: readonly DevDbMember[];
  /** The primary's index in `members`; null during an election. A standalone is always 0. */
  primaryIndex(): number | null;
  /**
   * Steps the primary down as `replSetStepDown` does: in-flight operations fail with 11602, new writes
   * with 189 for a moment and then 10107, its application connections close, and it may not be elected
   * again for `seconds` (default 60). Resolves once it is a secondary; the election follows after
   * `electionDelayMs`. Rejects on a standalone or when there is no primary.
   */
  stepDown(seconds?: number): Promise<void>;
  /** Closes member i's listener and sockets, like a crashed mongod; an election follows if it was primary. */
  killMember(i: number): Promise<void>;
  /** Listens again on member i's port, as a secondary with a new process id. */
  restartMember(i: number): Promise<void>;
  /** A snapshot of the connection and operation counters of the whole process. */
  stats(): DevDbStats;
  /** The same counters for member i alone. */
  memberStats(i: number): DevDbStats;
  /** Severs every open client socket at once; the listeners keep accepting. */
  dropConnections(): void;
  /** Delays every reply by `ms` milliseconds from now on (0 turns it off). */
  setLatency(ms: number): void;
  /** Closes the listeners and every socket, stops the timers and flushes the log. */
  stop(): Promise<void>;
}

/** A message the app posts to `worker.ts`. */
export type DevDbWorkerRequest =
  | { type: "start"; options?: DevDbOptions }
  | { type: "stop" };

/** A message `worker.ts` posts back. */
export type DevDbWorkerResponse =
  | { type: "started"; url: string; port: number }
  | { type: "error"; message: string }
  | { type: "stopped" };
