/**
 * The connection budget: the worst case this deployment can open, against the cluster's cap.
 *
 * @module
 */
import { ConnectionString } from "mongodb-connection-string-url";

/**
 * Connections the driver keeps per host outside the pool: one monitor, plus one RTT pinger when the
 * streaming protocol is in use (the default against MongoDB 4.4+).
 */
export const MONITORING_CONNECTIONS_PER_HOST = 2;

/** `mongodb+srv://` hides its hosts behind DNS; a replica set of three is the common case (Atlas). */
export const ASSUMED_SRV_HOSTS = 3;

/** The inputs of the arithmetic. */
export interface BudgetInput {
  appInstances: number;
  hosts: number;
  maxPoolSize: number;
  /** The cluster's connection cap per member (500 on an Atlas M0); undefined when not configured. */
  connectionLimit: number | undefined;
}

/** The arithmetic and its verdict. */
export interface ConnectionBudget extends BudgetInput {
  perInstance: number;
  worstCase: number;
  /** worstCase / connectionLimit, or null when there is no limit to compare with. */
  ratio: number | null;
  status: "ok" | "warning" | "over" | "unknown";
  /** The arithmetic in one sentence, for logs and start-up refusals. */
  message: string;
}

/** How many hosts a connection string names (an SRV record counts as `ASSUMED_SRV_HOSTS`). */
export function hostCount(url: string): number {
  const parsed = new ConnectionString(url);
  if (parsed.isSRV) return ASSUMED_SRV_HOSTS;
  return Math.max(1, parsed.hosts.length);
}

/**
 * Works out the worst case: instances × hosts × (maxPoolSize + monitoring connections per host), and
 * compares it with the limit: above 80% is a warning, above 100% is over.
 *
 * @example
 * ```ts
 * connectionBudget({ appInstances: 3, hosts: 3, maxPoolSize: 100, connectionLimit: 500 }).status; // "over"
 * ```
 */
export function connectionBudget(input: BudgetInput): ConnectionBudget {
  const perHost = input.maxPoolSize + MONITORING_CONNECTIONS_PER_HOST;
  const perInstance = input.hosts * perHost;
  const worstCase = input.appInstances * perInstance;
  const arithmetic = `${input.appInstances} instance(s) × ${input.hosts} host(s) × (maxPoolSize ` +
    `${input.maxPoolSize} + ${MONITORING_CONNECTIONS_PER_HOST} monitoring) = ${worstCase} connections`;
  if (input.connectionLimit === undefined) {
    return {
      ...input,
      perInstance,
      worstCase,
      ratio: null,
      status: "unknown",
      message: `${arithmetic}; no DB_CONNECTION_LIMIT set to compare with`,
    };
  }
  const ratio = worstCase / input.connectionLimit;
  const status = ratio > 1 ? "over" : ratio > 0.8 ? "warning" : "ok";
  const percent = Math.round(ratio * 100);
  return {
    ...input,
    perInstance,
    worstCase,
    ratio,
    status,
    message: `${arithmetic}, ${percent}% of the limit of ${input.connectionLimit}`,
  };
}
