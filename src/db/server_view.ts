/**
 * The server's side of the connection count, best effort, for any user: `serverStatus().connections`, and the
 * server's list of connections grouped by appName into this instance, other instances of this app, and
 * other clients. A readWrite-only user (as on Atlas) may see only its own user's connections, and may be
 * refused `serverStatus`; the view says which source answered. It never throws.
 *
 * The list of connections, in the order tried:
 * 1. the full view, while the user is not known to lack `inprog`: `$currentOp` with `allUsers: true`, then
 *    the `currentOp` command with `$all`; Unauthorized is remembered in `ViewState`, so a readWrite user is
 *    asked once;
 * 2. `$currentOp` with `allUsers: false, idleConnections: true` on admin: the user's own connections;
 * 3. the `currentOp` command with `$ownOps: true, $all: true` (servers without the aggregation stage).
 *
 * The driver's monitoring connections never authenticate, so a view of our own user's connections holds the
 * pools only; one of all users holds them all.
 *
 * @module
 */
import type { Db, Document, MongoClient } from "mongodb";
import { redactText } from "../redact.ts";

/** A part of the view the server may refuse. */
export type ViewPart<T> = ({ available: true } & T) | { available: false; reason: string };

/** `serverStatus().connections`, as the server counts them (all clients, not just us). */
export interface ServerConnectionCounts {
  current: number;
  /** Connections the server can still accept; null when counted from our own pool events. */
  available: number | null;
  totalCreated: number;
  /** Connections running an operation; null when the server does not report it. */
  active: number | null;
}

/** Who the connection counts come from: the server, or (when it refuses serverStatus) our own pool. */
export type CountsSource = "server" | "own pool events";

/** Whose connections the list holds: everyone's (the user has `inprog`), or only this user's. */
export type ConnectionsSource = "all users" | "own user only";

/** Connections of one group, from the server's list of connections. */
export interface AppGroup {
  connections: number;
  /** Of them, running an operation right now. */
  active: number;
  /** Connections per appName (`""` for clients that sent none); at most `MAX_APP_NAMES` names. */
  appNames: Record<string, number>;
}

/** The server's view of who is connected. */
export interface ServerView {
  /** Epoch milliseconds when it was read. */
  at: number;
  connections: ViewPart<{ source: CountsSource; counts: ServerConnectionCounts; refused?: string }>;
  byApp: ViewPart<{
    source: ConnectionsSource;
    /** The command that answered, e.g. `$currentOp allUsers: false`. */
    command: string;
    thisInstance: AppGroup;
    otherInstances: AppGroup;
    /** Other clients the source can see (with "own user only": other clients of the same user). */
    otherClients: AppGroup;
  }>;
}

/** What one client has learned about its privileges, so refused commands are not asked again. */
export interface ViewState {
  /** False once the full view was refused as Unauthorized. */
  mayHaveInprog: boolean;
}

/** How the view is read. */
export interface ServerViewOptions {
  /** Other instances of this app are the appNames with this prefix. @default ourAppName up to its first ":" */
  appPrefix?: string;
  /** Each command's time limit, from server selection to reply. @default 2000 */
  timeoutMs?: number;
  /** Our own count of our connections, used (and labelled so) when the server refuses serverStatus. */
  ownCounts?: () => ServerConnectionCounts;
  /** Shared between reads; `ServerViewCache` keeps one. */
  state?: ViewState;
}

/** An AppGroup lists at most this many names (the busiest); the counts still include every connection. */
export const MAX_APP_NAMES = 20;

/** Unauthorized: the user lacks the privilege. */
const UNAUTHORIZED = 13;

/**
 * Reads the server's view of connections. Counts and list run at once, each with its own time limit; a part
 * the server refuses (Unauthorized, CommandNotFound, a timeout) comes back `{ available: false, reason }`.
 *
 * @example
 * ```ts
 * const view = await serverConnectionsView(client, "zien-backend:web-1:4242");
 * if (view.byApp.available) view.byApp.thisInstance.connections;
 * ```
 */
export async function serverConnectionsView(
  client: MongoClient,
  ourAppName: string,
  options: ServerViewOptions = {},
): Promise<ServerView> {
  const timeoutMS = options.timeoutMs ?? 2_000;
  const appPrefix = options.appPrefix ?? defaultPrefix(ourAppName);
  const admin = client.db("admin");
  const run = <T>(operation: Promise<T>) => withDeadline(operation, timeoutMS);
  const [status, ops] = await Promise.allSettled([
    run(admin.command({ serverStatus: 1 }, { timeoutMS })),
    readConnections(admin, run, timeoutMS, options.state ?? { mayHaveInprog: true }),
  ]);
  return {
    at: Date.now(),
    connections: status.status === "fulfilled"
      ? connectionCounts(status.value)
      : ownCountsInstead(status.reason, options.ownCounts),
    byApp: ops.status === "fulfilled"
      ? groupByApp(ops.value, ourAppName, appPrefix)
      : { available: false, reason: describeFailure(ops.reason) },
  };
}

interface ConnectionList {
  source: ConnectionsSource;
  command: string;
  entries: Document[];
}

type Deadline = <T>(operation: Promise<T>) => Promise<T>;

async function readConnections(
  admin: Db,
  run: Deadline,
  timeoutMS: number,
  state: ViewState,
): Promise<ConnectionList> {
  const stage = async (allUsers: boolean): Promise<Document[]> =>
    await run(
      admin.aggregate([{ $currentOp: { allUsers, idleConnections: true } }], { timeoutMS }).toArray(),
    );
  const command = async (filter: Document): Promise<Document[]> =>
    (await run(admin.command({ currentOp: 1, ...filter }, { timeoutMS }))).inprog;
  // Only a server's refusal (it answered with an error code) moves down the list; a timeout or a network
  // error would only repeat.
  if (state.mayHaveInprog) {
    try {
      return { source: "all users", command: "$currentOp allUsers: true", entries: await stage(true) };
    } catch (err) {
      if (!isRefusal(err)) throw err;
    }
    // No aggregation stage (an older server), or one that authorizes the stage by other privileges.
    try {
      return { source: "all users", command: "currentOp $all", entries: await command({ $all: true }) };
    } catch (err) {
      if (!isRefusal(err)) throw err;
      if (isUnauthorized(err)) state.mayHaveInprog = false;
    }
  }
  try {
    return { source: "own user only", command: "$currentOp allUsers: false", entries: await stage(false) };
  } catch (err) {
    if (!isRefusal(err)) throw err;
    return {
      source: "own user only",
      command: "currentOp $ownOps",
      // `$all` means idle connections too (as idleConnections does); `$ownOps` keeps it to our user.
      entries: await command({ $ownOps: true, $all: true }),
    };
  }
}

function isUnauthorized(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === UNAUTHORIZED;
}

// The driver's timeoutMS does not bound the implicit connect of a client that is not connected yet (that
// waits serverSelectionTimeoutMS), so the view keeps its own deadline as well.
async function withDeadline<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms + 100);
  });
  try {
    return await Promise.race([operation, deadline]);
  } finally {
    clearTimeout(timer);
    operation.catch(() => {}); // an answer after the deadline is not wanted, and neither is its error
  }
}

function defaultPrefix(appName: string): string {
  const colon = appName.indexOf(":");
  return colon >= 0 ? appName.slice(0, colon + 1) : appName;
}

function connectionCounts(reply: Document): ServerView["connections"] {
  const section = reply.connections as Document | undefined;
  if (!section || typeof section !== "object") {
    return { available: false, reason: "serverStatus answered without a connections section" };
  }
  return {
    available: true,
    source: "server",
    counts: {
      current: Number(section.current ?? 0),
      available: Number(section.available ?? 0),
      totalCreated: Number(section.totalCreated ?? 0),
      active: section.active === undefined ? null : Number(section.active),
    },
  };
}

// Only a refusal (the user lacks serverStatus) is answered from our own figures: a server that does not
// answer at all is reported as such, or the view would hide an outage.
function ownCountsInstead(
  error: unknown,
  ownCounts: (() => ServerConnectionCounts) | undefined,
): ServerView["connections"] {
  const reason = describeFailure(error);
  if (!ownCounts || !isRefusal(error)) return { available: false, reason };
  return { available: true, source: "own pool events", counts: ownCounts(), refused: reason };
}

/** The server answered with an error code (MongoServerError); a timeout or a network error is no refusal. */
function isRefusal(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "MongoServerError" &&
    typeof (error as { code?: unknown }).code === "number";
}

function groupByApp(list: ConnectionList, ourAppName: string, appPrefix: string): ServerView["byApp"] {
  if (!Array.isArray(list.entries)) return { available: false, reason: `${list.command} answered no list` };
  const groups = { thisInstance: new Tally(), otherInstances: new Tally(), otherClients: new Tally() };
  const seen = new Set<unknown>();
  for (const entry of list.entries) {
    // Internal server threads have neither a client address nor a connection id, and idle sessions and
    // cursors are not connections.
    if (entry.client === undefined && entry.connectionId === undefined) continue;
    if (entry.type === "idleSession" || entry.type === "idleCursor") continue;
    if (entry.connectionId !== undefined) {
      if (seen.has(entry.connectionId)) continue;
      seen.add(entry.connectionId);
    }
    const appName = typeof entry.appName === "string" ? entry.appName : "";
    const group = appName === ourAppName
      ? groups.thisInstance
      : appPrefix && appName.startsWith(appPrefix)
      ? groups.otherInstances
      : groups.otherClients;
    group.add(appName, entry.active === true);
  }
  return {
    available: true,
    source: list.source,
    command: list.command,
    thisInstance: groups.thisInstance.result(),
    otherInstances: groups.otherInstances.result(),
    otherClients: groups.otherClients.result(),
  };
}

class Tally {
  connections = 0;
  active = 0;
  readonly byName = new Map<string, number>();

  add(appName: string, active: boolean): void {
    this.connections++;
    if (active) this.active++;
    this.byName.set(appName, (this.byName.get(appName) ?? 0) + 1);
  }

  result(): AppGroup {
    const busiest = [...this.byName].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(
      0,
      MAX_APP_NAMES,
    );
    return { connections: this.connections, active: this.active, appNames: Object.fromEntries(busiest) };
  }
}

/** A short, credential-free reason: the server's code name when it gave one, else the error's name. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return redactText(String(error));
  const codeName = (error as { codeName?: unknown }).codeName;
  const label = typeof codeName === "string" ? codeName : error.name;
  return redactText(`${label}: ${error.message}`).slice(0, 300);
}

/** Options of `ServerViewCache`. */
export interface ServerViewCacheOptions extends ServerViewOptions {
  /** `get()` reads the server again once the cached view is older than this. @default 10000 */
  maxAgeMs?: number;
}

/**
 * The latest server view, for readers that must not query the server themselves (metrics scrapes) and for
 * readers that may (the admin health route), with at most one read in flight.
 *
 * @example
 * ```ts
 * const views = new ServerViewCache(client, appName);
 * const metrics = createMetrics({ pool: monitor, serverView: () => views.latest() });
 * const fresh = await views.get(); // in the health route
 * ```
 */
export class ServerViewCache {
  readonly #client: MongoClient;
  readonly #appName: string;
  readonly #options: ServerViewCacheOptions;
  readonly #state: ViewState = { mayHaveInprog: true };
  #latest: ServerView | null = null;
  #inFlight: Promise<ServerView> | null = null;

  constructor(client: MongoClient, ourAppName: string, options: ServerViewCacheOptions = {}) {
    this.#client = client;
    this.#appName = ourAppName;
    this.#options = options;
  }

  /** The last view read, or null before the first read. */
  latest(): ServerView | null {
    return this.#latest;
  }

  /** Reads the server now; callers arriving while a read is in flight share it. */
  refresh(): Promise<ServerView> {
    this.#inFlight ??= serverConnectionsView(this.#client, this.#appName, {
      state: this.#state,
      ...this.#options,
    })
      .then((view) => this.#latest = view)
      .finally(() => this.#inFlight = null);
    return this.#inFlight;
  }

  /** Resolves once no read is in flight (a read never rejects): wait for it before the client closes. */
  async settled(): Promise<void> {
    await this.#inFlight;
  }

  /** The cached view while it is younger than `maxAgeMs`, else a fresh one. */
  get(): Promise<ServerView> {
    const latest = this.#latest;
    if (latest && Date.now() - latest.at < (this.#options.maxAgeMs ?? 10_000)) return Promise.resolve(latest);
    return this.refresh();
  }
}
