/**
 * The pool monitor's bookkeeping: driver events in, live figures out. Like the driver's own pool, every
 * figure is derived from events (never polled from driver internals), and each handler does a constant
 * amount of work so that monitoring stays cheap under load.
 *
 * @module
 */
import type {
  CommandFailedEvent,
  CommandStartedEvent,
  CommandSucceededEvent,
  ConnectionCheckedInEvent,
  ConnectionCheckedOutEvent,
  ConnectionCheckOutFailedEvent,
  ConnectionCheckOutStartedEvent,
  ConnectionClosedEvent,
  ConnectionCreatedEvent,
  ConnectionPoolClearedEvent,
  ConnectionPoolClosedEvent,
  ConnectionPoolCreatedEvent,
  ConnectionReadyEvent,
  MongoClient,
  ServerHeartbeatFailedEvent,
  ServerHeartbeatSucceededEvent,
} from "mongodb";
import { HistogramSeries, WAIT_BUCKETS_MS, WindowedPercentiles } from "./histogram.ts";
import type { CheckoutFailures, PoolObserver, PoolSnapshot } from "./types.ts";

/** The driver's client-side connection id: a counter per pool (`"<monitor>"` on heartbeat sockets). */
export type ConnectionId = number | string;

/** What one checked-out connection is doing, for leak hints. */
export interface Checkout {
  /** Epoch milliseconds when it was checked out. */
  since: number;
  /** The last command started on it while checked out, or null if none yet. */
  command: string | null;
  database: string | null;
  collection: string | null;
  /** Whether that command is still running. */
  running: boolean;
  commandSince: number;
}

/** One driver pool (one server address). */
export class PoolState {
  readonly address: string;
  readonly maxPoolSize: number;
  closed = false;
  total = 0;
  inUse = 0;
  waiting = 0;
  readonly connecting = new Set<ConnectionId>();
  readonly checkedOut = new Map<ConnectionId, Checkout>();
  /** When utilization last rose to the warning / critical level; null while below it. */
  warnSince: number | null = null;
  critSince: number | null = null;

  constructor(address: string, maxPoolSize: number) {
    this.address = address;
    this.maxPoolSize = maxPoolSize;
  }
}

/** Monitor-level reactions to rare events (logging, warnings). */
export interface LedgerHooks {
  poolCleared(address: string): void;
  heartbeat(address: string, failure: Error | null): void;
}

/** The thresholds the ledger tracks per event so that "sustained" can be judged later. */
export interface LedgerOptions {
  defaultMaxPoolSize: number;
  warnUtilization: number;
  criticalUtilization: number;
  now: () => number;
  hooks: LedgerHooks;
}

const MAX_ALIASES = 64;

/**
 * Listens to a client's CMAP, SDAM-heartbeat and command-monitoring events and keeps per-pool state.
 *
 * @example
 * ```ts
 * const ledger = new PoolLedger(options);
 * ledger.attach(client); // before client.connect()
 * ledger.snapshot().inUse;
 * ```
 */
export class PoolLedger {
  readonly pools = new Map<string, PoolState>();
  /** Every successful checkout's wait, in ms: the one series behind the percentiles and `/metrics`. */
  readonly waits = new HistogramSeries(WAIT_BUCKETS_MS);
  readonly recentWaits = new WindowedPercentiles(this.waits);
  readonly observers: PoolObserver[] = [];
  readonly failures: CheckoutFailures = { timeout: 0, poolClosed: 0, connectionError: 0 };
  checkouts = 0;
  created = 0;
  closed = 0;
  /** Connections closed by an error before they were ready: refused, or closed by the server at once. */
  refused = 0;
  poolClears = 0;
  heartbeatFailures = 0;
  commandsStarted = 0;
  commandsSucceeded = 0;
  commandsFailed = 0;
  readonly #options: LedgerOptions;
  // Command events carry the socket's resolved address ("127.0.0.1:27017"); CMAP events carry the seed's
  // ("localhost:27017"). Learnt once per address, so the lookup stays O(1).
  readonly #aliases = new Map<string, string>();

  constructor(options: LedgerOptions) {
    this.#options = options;
  }

  /** Starts listening; call before `client.connect()` so that no connection goes uncounted. */
  attach(client: MongoClient): void {
    for (const [event, handler] of this.#handlers) client.on(event, handler);
  }

  /** Stops listening. */
  detach(client: MongoClient): void {
    for (const [event, handler] of this.#handlers) client.off(event, handler);
  }

  /** The live figures summed across pools. */
  snapshot(): PoolSnapshot {
    let total = 0, inUse = 0, connecting = 0, waiting = 0, pools = 0, utilization = 0, maxPoolSize = 0;
    for (const pool of this.pools.values()) {
      total += pool.total;
      inUse += pool.inUse;
      connecting += pool.connecting.size;
      waiting += Math.max(0, pool.waiting);
      if (pool.closed) continue;
      pools++;
      maxPoolSize = Math.max(maxPoolSize, pool.maxPoolSize);
      utilization = Math.max(utilization, pool.inUse / pool.maxPoolSize);
    }
    return {
      total,
      inUse,
      idle: Math.max(0, total - inUse - connecting),
      connecting,
      waiting,
      maxPoolSize: maxPoolSize || this.#options.defaultMaxPoolSize,
      pools,
      utilization,
      checkoutWaitMs: { p50: this.recentWaits.percentile(0.5), p99: this.recentWaits.percentile(0.99) },
      checkouts: this.checkouts,
      checkoutFailures: { ...this.failures },
      connectionsCreated: this.created,
      connectionsClosed: this.closed,
      connectionsRefused: this.refused,
      poolClears: this.poolClears,
      heartbeatFailures: this.heartbeatFailures,
      commands: {
        started: this.commandsStarted,
        succeeded: this.commandsSucceeded,
        failed: this.commandsFailed,
      },
    };
  }

  #pool(address: string): PoolState {
    let pool = this.pools.get(address);
    if (!pool) {
      // Attached after the pool was made: count from here with the configured size.
      pool = new PoolState(address, this.#options.defaultMaxPoolSize);
      this.pools.set(address, pool);
    }
    return pool;
  }

  #trackUtilization(pool: PoolState): void {
    const utilization = pool.inUse / pool.maxPoolSize;
    if (utilization >= this.#options.warnUtilization) pool.warnSince ??= this.#options.now();
    else pool.warnSince = null;
    if (utilization >= this.#options.criticalUtilization) pool.critSince ??= this.#options.now();
    else pool.critSince = null;
  }

  #poolForCommand(address: string, connectionId: ConnectionId): PoolState | undefined {
    const direct = this.pools.get(address);
    if (direct) return direct;
    const aliased = this.#aliases.get(address);
    if (aliased !== undefined) return this.pools.get(aliased);
    let found: PoolState | undefined;
    for (const pool of this.pools.values()) {
      if (!pool.checkedOut.has(connectionId)) continue;
      if (found) return undefined; // ambiguous until a later command settles it
      found = pool;
    }
    if (found) {
      if (this.#aliases.size >= MAX_ALIASES) this.#aliases.clear();
      this.#aliases.set(address, found.address);
    }
    return found;
  }

  #checkoutFor(address: string, connectionId: ConnectionId | undefined): Checkout | undefined {
    if (connectionId === undefined) return undefined;
    return this.#poolForCommand(address, connectionId)?.checkedOut.get(connectionId);
  }

  #commandFinished(event: CommandSucceededEvent | CommandFailedEvent, failed: boolean): void {
    const checkout = this.#checkoutFor(event.address, event.connectionId);
    if (checkout) checkout.running = false;
    for (const observer of this.observers) observer.command?.(event.commandName, event.duration, failed);
  }

  #onPoolCreated = (e: ConnectionPoolCreatedEvent): void => {
    const size = e.options?.maxPoolSize || this.#options.defaultMaxPoolSize;
    this.pools.set(e.address, new PoolState(e.address, size));
  };

  #onPoolCleared = (e: ConnectionPoolClearedEvent): void => {
    this.poolClears++;
    this.#options.hooks.poolCleared(e.address);
  };

  #onPoolClosed = (e: ConnectionPoolClosedEvent): void => {
    this.#pool(e.address).closed = true;
  };

  #onCreated = (e: ConnectionCreatedEvent): void => {
    const pool = this.#pool(e.address);
    pool.total++;
    pool.connecting.add(e.connectionId);
    this.created++;
  };

  #onReady = (e: ConnectionReadyEvent): void => {
    this.#pool(e.address).connecting.delete(e.connectionId);
  };

  #onClosed = (e: ConnectionClosedEvent): void => {
    const pool = this.#pool(e.address);
    pool.total--;
    if (pool.connecting.delete(e.connectionId) && e.reason === "error") this.refused++;
    if (pool.checkedOut.delete(e.connectionId)) pool.inUse--;
    this.closed++;
  };

  #onCheckOutStarted = (e: ConnectionCheckOutStartedEvent): void => {
    this.#pool(e.address).waiting++;
  };

  #onCheckOutFailed = (e: ConnectionCheckOutFailedEvent): void => {
    this.#pool(e.address).waiting--;
    const reason = e.reason as keyof CheckoutFailures;
    if (reason in this.failures) this.failures[reason]++;
    else this.failures.connectionError++;
  };

  #onCheckedOut = (e: ConnectionCheckedOutEvent): void => {
    const pool = this.#pool(e.address);
    pool.waiting--;
    pool.inUse++;
    this.checkouts++;
    pool.checkedOut.set(e.connectionId, {
      since: this.#options.now(),
      command: null,
      database: null,
      collection: null,
      running: false,
      commandSince: 0,
    });
    this.waits.observe(e.durationMS);
    this.#trackUtilization(pool);
  };

  #onCheckedIn = (e: ConnectionCheckedInEvent): void => {
    const pool = this.#pool(e.address);
    const checkout = pool.checkedOut.get(e.connectionId);
    if (!checkout) return;
    pool.checkedOut.delete(e.connectionId);
    pool.inUse--;
    const heldMs = this.#options.now() - checkout.since;
    for (const observer of this.observers) observer.connectionUse?.(heldMs);
    this.#trackUtilization(pool);
  };

  #onHeartbeatFailed = (e: ServerHeartbeatFailedEvent): void => {
    this.heartbeatFailures++;
    this.#options.hooks.heartbeat(e.connectionId, e.failure);
  };

  #onHeartbeatSucceeded = (e: ServerHeartbeatSucceededEvent): void => {
    this.#options.hooks.heartbeat(e.connectionId, null);
  };

  #onCommandStarted = (e: CommandStartedEvent): void => {
    this.commandsStarted++;
    const checkout = this.#checkoutFor(e.address, e.connectionId);
    if (!checkout) return;
    checkout.command = e.commandName;
    checkout.database = e.databaseName;
    checkout.collection = collectionOf(e);
    checkout.running = true;
    checkout.commandSince = this.#options.now();
  };

  #onCommandSucceeded = (e: CommandSucceededEvent): void => {
    this.commandsSucceeded++;
    this.#commandFinished(e, false);
  };

  #onCommandFailed = (e: CommandFailedEvent): void => {
    this.commandsFailed++;
    this.#commandFinished(e, true);
  };

  // deno-lint-ignore no-explicit-any -- one table of differently typed driver events
  readonly #handlers: [string, (event: any) => void][] = [
    ["connectionPoolCreated", this.#onPoolCreated],
    ["connectionPoolCleared", this.#onPoolCleared],
    ["connectionPoolClosed", this.#onPoolClosed],
    ["connectionCreated", this.#onCreated],
    ["connectionReady", this.#onReady],
    ["connectionClosed", this.#onClosed],
    ["connectionCheckOutStarted", this.#onCheckOutStarted],
    ["connectionCheckOutFailed", this.#onCheckOutFailed],
    ["connectionCheckedOut", this.#onCheckedOut],
    ["connectionCheckedIn", this.#onCheckedIn],
    ["serverHeartbeatFailed", this.#onHeartbeatFailed],
    ["serverHeartbeatSucceeded", this.#onHeartbeatSucceeded],
    ["commandStarted", this.#onCommandStarted],
    ["commandSucceeded", this.#onCommandSucceeded],
    ["commandFailed", this.#onCommandFailed],
  ];
}

/** The collection a command works on: the value of its first key for CRUD commands, `collection` for getMore. */
function collectionOf(event: CommandStartedEvent): string | null {
  const command = event.command;
  const target = command[event.commandName];
  if (typeof target === "string") return target;
  if (typeof command.collection === "string") return command.collection;
  return null;
}
