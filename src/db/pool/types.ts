/**
 * The shapes the pool monitor reports: live snapshot, history sample, warning, and the observer that the
 * metrics module uses to feed its histograms.
 *
 * @module
 */

/** How a `PoolMonitor` watches and when it warns. */
export interface PoolMonitorOptions {
  /** The configured `maxPoolSize`, used until a `connectionPoolCreated` event reports the driver's own. */
  maxPoolSize: number;
  /** A connection checked out longer than this is reported as a possible leak. */
  leakThresholdMs: number;
  /** A log line with the live figures this often. */
  logIntervalMs: number;
  /** A history sample this often. @default 10000 */
  sampleIntervalMs?: number;
  /** How much history is kept. @default 3600000 */
  historyMs?: number;
  /** Utilization at or above this, sustained, is a warning. @default 0.6 */
  warnUtilization?: number;
  /** Utilization at or above this, sustained, is critical. @default 0.8 */
  criticalUtilization?: number;
  /** How long utilization must stay at a level before it is reported. @default 30000 */
  sustainMs?: number;
  /** How often leaks, utilization, churn and checkout timeouts are evaluated. @default 1000 */
  checkIntervalMs?: number;
  /** The window over which churn is measured. @default 60000 */
  churnWindowMs?: number;
  /** At least this many connections created in one window, with the total flat, is churn. @default max(10, 2 x maxPoolSize) */
  churnMinCreated?: number;
  /** A refusing-connections warning clears after this long without a refused connection. @default 10000 */
  refusedQuietMs?: number;
  /** The clock, in epoch milliseconds; injectable for tests. @default Date.now */
  now?: () => number;
}

/** Checkout failures by the driver's reason. */
export interface CheckoutFailures {
  /** `waitQueueTimeoutMS` ran out while waiting for a connection. */
  timeout: number;
  /** The pool was closed (client closing) while waiting. */
  poolClosed: number;
  /** Establishing a connection failed, or the pool was cleared, while waiting. */
  connectionError: number;
}

/**
 * The live figures, summed across every pool (the driver keeps one pool per server address).
 *
 * - `total`: connections open or being opened; `inUse` checked out; `connecting` being established;
 *   `idle` = total - inUse - connecting; `waiting`: checkouts queued for a connection.
 * - `maxPoolSize`: per pool, as the driver reports it; `pools`: how many pools are open.
 * - `utilization`: the busiest pool's inUse / maxPoolSize, 0..1 (a queue forms per pool, so the busiest one
 *   is what matters, not the average).
 * - `checkoutWaitMs`: wait-time percentiles of successful checkouts over the last one to two sample
 *   intervals (since start when `start()` was never called); bucket upper bounds, driver resolution 1 ms.
 * - Everything else counts events since the monitor was made.
 */
export interface PoolSnapshot {
  total: number;
  inUse: number;
  idle: number;
  connecting: number;
  waiting: number;
  maxPoolSize: number;
  pools: number;
  utilization: number;
  checkoutWaitMs: { p50: number; p99: number };
  checkouts: number;
  checkoutFailures: CheckoutFailures;
  connectionsCreated: number;
  connectionsClosed: number;
  /**
   * Connections that closed before their handshake finished: the server refused them or closed them at
   * once, as a server at its connection limit does (or one that is down).
   */
  connectionsRefused: number;
  poolClears: number;
  heartbeatFailures: number;
  commands: { started: number; succeeded: number; failed: number };
}

/** One history point, taken every `sampleIntervalMs`. */
export interface PoolSample {
  /** Epoch milliseconds. */
  at: number;
  total: number;
  inUse: number;
  idle: number;
  waiting: number;
  utilization: number;
  waitP50Ms: number;
  waitP99Ms: number;
  /** Cumulative counters, so rates come from differences between samples. */
  connectionsCreated: number;
  checkoutTimeouts: number;
  commandsSucceeded: number;
  commandsFailed: number;
}

/** What a warning is about. */
export type PoolWarningKind = "utilization" | "leak" | "churn" | "checkoutTimeout" | "heartbeat" | "refusing";

/** A condition that is active now. */
export interface PoolWarning {
  level: "warning" | "critical";
  kind: PoolWarningKind;
  message: string;
  /** Epoch milliseconds when the condition started. */
  since: number;
  /** Structured details (address, connection id, command, collection, figures). */
  details: Record<string, string | number>;
}

/** A warning that started (or changed level) or cleared. */
export type PoolWarningChange = { change: "started" | "cleared"; warning: PoolWarning };

/**
 * Receives per-event measurements, for histograms. Called synchronously from the driver's event handlers,
 * so implementations must be cheap.
 */
export interface PoolObserver {
  /** A connection was checked out this long before it came back. */
  connectionUse?(ms: number): void;
  /** A command finished. */
  command?(name: string, durationMs: number, failed: boolean): void;
}
