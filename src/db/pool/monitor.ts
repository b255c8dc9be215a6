/**
 * Watches the one connection pool: live figures from the driver's CMAP, heartbeat and command-monitoring
 * events, a history sample every 10 s for the last hour, a periodic log line, and warnings for sustained
 * utilization, leaked checkouts, connection churn, checkout timeouts, failing heartbeats, and a server that
 * refuses new connections.
 *
 * @example
 * ```ts
 * const client = new MongoClient(url, { maxPoolSize: 10, appName, monitorCommands: true });
 * const monitor = new PoolMonitor(client, { maxPoolSize: 10, leakThresholdMs: 30_000, logIntervalMs: 60_000 });
 * monitor.start();
 * await client.connect();
 * monitor.snapshot().inUse;
 * // at shutdown, after client.close():
 * monitor.stop();
 * ```
 * @module
 */
import type { MongoClient } from "mongodb";
import { getLogger } from "../../log.ts";
import { redactText } from "../../redact.ts";
import { type Checkout, PoolLedger } from "./ledger.ts";
import type {
  PoolMonitorOptions,
  PoolObserver,
  PoolSample,
  PoolSnapshot,
  PoolWarning,
  PoolWarningChange,
} from "./types.ts";
import { WarningBoard } from "./warnings.ts";
import type { HistogramSeries } from "./histogram.ts";

export type * from "./types.ts";

const log = getLogger(["db", "pool"]);

/**
 * The pool's watcher. Construct it before `client.connect()`: it listens from the first connection on.
 * `client` should be made with `monitorCommands: true`, or leak hints cannot name the command.
 */
export class PoolMonitor {
  readonly #client: MongoClient;
  readonly #options: Required<PoolMonitorOptions>;
  readonly #ledger: PoolLedger;
  readonly #board: WarningBoard;
  readonly #history: (PoolSample | undefined)[];
  #historyNext = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #detached = false;
  #churnWindow: { start: number; created: number; total: number } | null = null;
  #timeoutsSeen = 0;
  #lastTimeoutAt = 0;
  #refusedSeen = 0;
  #lastRefusedAt = 0;

  constructor(client: MongoClient, options: PoolMonitorOptions) {
    this.#client = client;
    this.#options = {
      sampleIntervalMs: 10_000,
      historyMs: 3_600_000,
      warnUtilization: 0.6,
      criticalUtilization: 0.8,
      sustainMs: 30_000,
      checkIntervalMs: 1_000,
      churnWindowMs: 60_000,
      churnMinCreated: Math.max(10, 2 * options.maxPoolSize),
      refusedQuietMs: 10_000,
      now: Date.now,
      ...options,
    };
    const now = this.#options.now;
    this.#board = new WarningBoard(log, now);
    this.#ledger = new PoolLedger({
      defaultMaxPoolSize: options.maxPoolSize,
      warnUtilization: this.#options.warnUtilization,
      criticalUtilization: this.#options.criticalUtilization,
      now,
      hooks: {
        poolCleared: (address) => log.warn("connection pool for {address} cleared", { address }),
        heartbeat: (address, failure) => this.#heartbeat(address, failure),
      },
    });
    this.#history = new Array(
      Math.max(1, Math.ceil(this.#options.historyMs / this.#options.sampleIntervalMs)),
    );
    this.#ledger.attach(client);
    if (!client.options.monitorCommands) {
      log.info("command monitoring is off: leak hints cannot name the command a connection is running");
    }
  }

  /** Starts the sampling, logging and checking timers. Calling it again does nothing. */
  start(): void {
    if (this.#timers.length > 0 || this.#detached) return;
    const { sampleIntervalMs, logIntervalMs, checkIntervalMs } = this.#options;
    this.#timers = [
      setInterval(() => this.sampleNow(), sampleIntervalMs),
      setInterval(() => this.logNow(), logIntervalMs),
      setInterval(() => this.checkNow(), checkIntervalMs),
    ];
    // The monitor never keeps the process alive on its own.
    for (const timer of this.#timers) timer.unref();
  }

  /** Clears every timer and stops listening to the client. Final; calling it again does nothing. */
  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (!this.#detached) this.#ledger.detach(this.#client);
    this.#detached = true;
  }

  /** The live figures (see `PoolSnapshot` for what each means). */
  snapshot(): PoolSnapshot {
    return this.#ledger.snapshot();
  }

  /** The samples of the last `historyMs`, oldest first. */
  history(): PoolSample[] {
    const size = this.#history.length;
    const ordered: PoolSample[] = [];
    for (let i = 0; i < size; i++) {
      const sample = this.#history[(this.#historyNext + i) % size];
      if (sample) ordered.push(sample);
    }
    const oldest = this.#options.now() - this.#options.historyMs;
    return ordered.filter((sample) => sample.at >= oldest);
  }

  /** The warnings active now, oldest first. */
  warnings(): PoolWarning[] {
    return this.#board.active();
  }

  /** Calls `listener` when a warning starts, changes level or clears; returns the unsubscribe function. */
  onWarning(listener: (change: PoolWarningChange) => void): () => void {
    return this.#board.subscribe(listener);
  }

  /** Every successful checkout's wait in ms since the monitor was made, for the Prometheus histogram. */
  checkoutWaits(): HistogramSeries {
    return this.#ledger.waits;
  }

  /** Feeds per-event measurements to `observer` (the metrics' histograms); returns the unsubscribe function. */
  observe(observer: PoolObserver): () => void {
    this.#ledger.observers.push(observer);
    return () => {
      const index = this.#ledger.observers.indexOf(observer);
      if (index >= 0) this.#ledger.observers.splice(index, 1);
    };
  }

  /** Takes a history sample and starts a new wait-time window (the sample timer calls this). */
  sampleNow(): PoolSample {
    const s = this.#ledger.snapshot();
    const sample: PoolSample = {
      at: this.#options.now(),
      total: s.total,
      inUse: s.inUse,
      idle: s.idle,
      waiting: s.waiting,
      utilization: s.utilization,
      waitP50Ms: s.checkoutWaitMs.p50,
      waitP99Ms: s.checkoutWaitMs.p99,
      connectionsCreated: s.connectionsCreated,
      checkoutTimeouts: s.checkoutFailures.timeout,
      commandsSucceeded: s.commands.succeeded,
      commandsFailed: s.commands.failed,
    };
    this.#history[this.#historyNext] = sample;
    this.#historyNext = (this.#historyNext + 1) % this.#history.length;
    this.#ledger.recentWaits.rotate();
    return sample;
  }

  /** Writes the live figures to the log (the log timer calls this). */
  logNow(): void {
    const s = this.#ledger.snapshot();
    log.info(
      "pool: {total} open ({inUse} in use, {idle} idle, {connecting} connecting), {waiting} waiting, " +
        "max {maxPoolSize}, utilization {utilizationPct}%, checkout wait p50 {waitP50Ms} ms p99 {waitP99Ms} ms, " +
        "{checkoutTimeouts} checkout timeouts, {connectionsCreated} created, {connectionsClosed} closed, " +
        "{connectionsRefused} refused, " +
        "{poolClears} clears, {heartbeatFailures} heartbeat failures, {activeWarnings} active warnings",
      {
        total: s.total,
        inUse: s.inUse,
        idle: s.idle,
        connecting: s.connecting,
        waiting: s.waiting,
        maxPoolSize: s.maxPoolSize,
        utilizationPct: Math.round(s.utilization * 100),
        waitP50Ms: s.checkoutWaitMs.p50,
        waitP99Ms: s.checkoutWaitMs.p99,
        checkoutTimeouts: s.checkoutFailures.timeout,
        checkoutPoolClosed: s.checkoutFailures.poolClosed,
        checkoutConnectionErrors: s.checkoutFailures.connectionError,
        connectionsCreated: s.connectionsCreated,
        connectionsClosed: s.connectionsClosed,
        connectionsRefused: s.connectionsRefused,
        poolClears: s.poolClears,
        heartbeatFailures: s.heartbeatFailures,
        commandsSucceeded: s.commands.succeeded,
        commandsFailed: s.commands.failed,
        activeWarnings: this.#board.active().length,
      },
    );
  }

  /** Evaluates utilization, leaks, churn and checkout timeouts (the check timer calls this). */
  checkNow(): void {
    const now = this.#options.now();
    this.#checkUtilization(now);
    this.#checkLeaks(now);
    this.#checkChurn(now);
    this.#checkTimeouts(now);
    this.#checkRefused(now);
  }

  // The seeds' failure: a cluster at its connection cap accepts and closes (or refuses) new connections,
  // while the ones already open keep working, so nothing else would say so.
  #checkRefused(now: number): void {
    const refused = this.#ledger.refused;
    if (refused > this.#refusedSeen) {
      const fresh = refused - this.#refusedSeen;
      this.#refusedSeen = refused;
      this.#lastRefusedAt = now;
      // A server that is down refuses too, but its failing heartbeats already say so, and more plainly.
      if (this.#board.keysOf("heartbeat").length > 0) return;
      this.#board.raise("refusing", {
        level: "warning",
        kind: "refusing",
        since: now,
        message: "the server is refusing new connections: at its connection limit? " +
          `${fresh} connection(s) closed during the handshake or refused (${refused} since start)`,
        details: { refusedSinceStart: refused },
      });
    } else if (now - this.#lastRefusedAt >= this.#options.refusedQuietMs) {
      this.#board.clear("refusing");
    }
  }

  #checkUtilization(now: number): void {
    const { sustainMs } = this.#options;
    let worst: {
      level: PoolWarning["level"];
      address: string;
      inUse: number;
      max: number;
      waiting: number;
      since: number;
    } | null = null;
    for (const pool of this.#ledger.pools.values()) {
      if (pool.closed) continue;
      const figures = {
        address: pool.address,
        inUse: pool.inUse,
        max: pool.maxPoolSize,
        waiting: Math.max(0, pool.waiting),
      };
      if (pool.critSince !== null && now - pool.critSince >= sustainMs) {
        worst = { level: "critical", ...figures, since: pool.critSince };
      } else if (
        pool.warnSince !== null && now - pool.warnSince >= sustainMs && worst?.level !== "critical"
      ) {
        worst = { level: "warning", ...figures, since: pool.warnSince };
      }
    }
    if (!worst) return this.#board.clear("utilization");
    const threshold = worst.level === "critical"
      ? this.#options.criticalUtilization
      : this.#options.warnUtilization;
    this.#board.raise("utilization", {
      level: worst.level,
      kind: "utilization",
      since: worst.since,
      message: `connection pool ${worst.address} at or above ${Math.round(threshold * 100)}% for ` +
        `${
          Math.round((now - worst.since) / 1000)
        } s: ${worst.inUse} of ${worst.max} in use, ${worst.waiting} waiting`,
      details: { address: worst.address, inUse: worst.inUse, maxPoolSize: worst.max, waiting: worst.waiting },
    });
  }

  #checkLeaks(now: number): void {
    const seen = new Set<string>();
    for (const pool of this.#ledger.pools.values()) {
      for (const [connectionId, checkout] of pool.checkedOut) {
        const heldMs = now - checkout.since;
        if (heldMs < this.#options.leakThresholdMs) continue;
        const key = `leak:${pool.address}#${connectionId}`;
        seen.add(key);
        this.#board.raise(key, {
          level: "warning",
          kind: "leak",
          since: checkout.since,
          message:
            `connection ${connectionId} to ${pool.address} checked out for ${Math.round(heldMs / 1000)} s, ` +
            (this.#client.options.monitorCommands
              ? describeCommand(checkout, now)
              : "command unknown (the client was made without monitorCommands)"),
          details: {
            address: pool.address,
            connectionId,
            heldMs,
            command: checkout.command ?? "",
            database: checkout.database ?? "",
            collection: checkout.collection ?? "",
          },
        });
      }
    }
    for (const key of this.#board.keysOf("leak")) if (!seen.has(key)) this.#board.clear(key);
  }

  #checkChurn(now: number): void {
    const { created, pools } = this.#ledger;
    let total = 0;
    for (const pool of pools.values()) total += pool.total;
    const window = this.#churnWindow;
    if (!window) {
      this.#churnWindow = { start: now, created, total };
      return;
    }
    if (now - window.start < this.#options.churnWindowMs) return;
    const createdInWindow = created - window.created;
    const netChange = total - window.total;
    this.#churnWindow = { start: now, created, total };
    // Flat: the pool ended the window about where it began, so the new connections replaced closed ones.
    const flat = Math.abs(netChange) <= Math.max(1, createdInWindow / 4);
    if (createdInWindow >= this.#options.churnMinCreated && flat) {
      this.#board.raise("churn", {
        level: "warning",
        kind: "churn",
        since: window.start,
        message: `${createdInWindow} connections created in ${Math.round((now - window.start) / 1000)} s ` +
          `while the pool went from ${window.total} to ${total}: connections are being closed and reopened`,
        details: { createdInWindow, totalBefore: window.total, totalAfter: total },
      });
    } else {
      this.#board.clear("churn");
    }
  }

  #checkTimeouts(now: number): void {
    const timeouts = this.#ledger.failures.timeout;
    if (timeouts > this.#timeoutsSeen) {
      const fresh = timeouts - this.#timeoutsSeen;
      this.#timeoutsSeen = timeouts;
      this.#lastTimeoutAt = now;
      this.#board.raise("checkoutTimeout", {
        level: "critical",
        kind: "checkoutTimeout",
        since: now,
        message: `${fresh} checkout(s) timed out waiting for a connection (${timeouts} since start)`,
        details: { timeoutsSinceStart: timeouts },
      });
    } else if (now - this.#lastTimeoutAt >= this.#options.sustainMs) {
      this.#board.clear("checkoutTimeout");
    }
  }

  #heartbeat(address: string, failure: Error | null): void {
    const key = `heartbeat:${address}`;
    if (!failure) {
      if (this.#board.has(key)) this.#board.clear(key);
      return;
    }
    this.#board.raise(key, {
      level: "critical",
      kind: "heartbeat",
      since: this.#options.now(),
      message: `heartbeat to ${address} failed: ${redactText(`${failure.name}: ${failure.message}`)}`,
      details: { address },
    });
  }
}

function describeCommand(checkout: Checkout, now: number): string {
  if (!checkout.command) return "no command seen on it since checkout";
  const target = checkout.collection ? `${checkout.database}.${checkout.collection}` : checkout.database;
  return checkout.running
    ? `running ${checkout.command} on ${target} for ${Math.round((now - checkout.commandSince) / 1000)} s`
    : `idle after ${checkout.command} on ${target}`;
}
