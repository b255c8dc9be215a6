/**
 * The server's side of the connection count, best effort: `serverStatus().connections`, and `currentOp`
 * with `$all` grouped by appName into this instance, other instances of this app, and other clients.
 * Servers that refuse these commands (Atlas shared tiers do) get "unavailable" with the reason; this never
 * throws.
 *
 * @module
 */
import type { Document, MongoClient } from "mongodb";
import { redactText } from "../redact.ts";

/** A part of the view the server may refuse. */
export type ViewPart<T> = ({ available: true } & T) | { available: false; reason: string };

/** `serverStatus().connections`, as the server counts them (all clients, not just us). */
export interface ServerConnectionCounts {
  current: number;
  /** Connections the server can still accept. */
  available: number;
  totalCreated: number;
  /** Connections running an operation; null when the server does not report it. */
  active: number | null;
}

/** Connections of one group, from `currentOp`. */
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
  connections: ViewPart<{ counts: ServerConnectionCounts }>;
  byApp: ViewPart<{ thisInstance: AppGroup; otherInstances: AppGroup; otherClients: AppGroup }>;
}

/** How the view is read. */
export interface ServerViewOptions {
  /** Other instances of this app are the appNames with this prefix. @default ourAppName up to its first ":" */
  appPrefix?: string;
  /** Each command's time limit, from server selection to reply. @default 2000 */
  timeoutMs?: number;
}

/** An AppGroup lists at most this many names (the busiest); the counts still include every connection. */
export const MAX_APP_NAMES = 20;

/**
 * Reads the server's view of connections. Both commands run at once, each with its own time limit; a part
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
  const [status, ops] = await Promise.allSettled([
    withDeadline(admin.command({ serverStatus: 1 }, { timeoutMS }), timeoutMS),
    withDeadline(admin.command({ currentOp: 1, $all: true }, { timeoutMS }), timeoutMS),
  ]);
  return {
    at: Date.now(),
    connections: status.status === "fulfilled"
      ? connectionCounts(status.value)
      : { available: false, reason: describeFailure(status.reason) },
    byApp: ops.status === "fulfilled"
      ? groupByApp(ops.value, ourAppName, appPrefix)
      : { available: false, reason: describeFailure(ops.reason) },
  };
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
    counts: {
      current: Number(section.current ?? 0),
      available: Number(section.available ?? 0),
      totalCreated: Number(section.totalCreated ?? 0),
      active: section.active === undefined ? null : Number(section.active),
    },
  };
}

function groupByApp(reply: Document, ourAppName: string, appPrefix: string): ServerView["byApp"] {
  const inprog = reply.inprog;
  if (!Array.isArray(inprog)) return { available: false, reason: "currentOp answered without inprog" };
  const groups = { thisInstance: new Tally(), otherInstances: new Tally(), otherClients: new Tally() };
  for (const entry of inprog as Document[]) {
    // Internal server threads have neither a client address nor a connection id: they are not connections.
    if (entry.client === undefined && entry.connectionId === undefined) continue;
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
    this.#inFlight ??= serverConnectionsView(this.#client, this.#appName, this.#options)
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
