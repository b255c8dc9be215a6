/**
 * The connection budget: the most connections this deployment can hold on one member of the cluster,
 * against the cap the cluster applies per member (Atlas: 500 on an M0).
 *
 * What the Node driver opens, per client (one per instance):
 * - on every member: its monitoring connections (`MONITORING_CONNECTIONS_PER_HOST`);
 * - on the primary: the pool, up to maxPoolSize;
 * - on each secondary: a pool kept at minPoolSize (the driver readies the pool of every data-bearing
 *   member), growing to maxPoolSize only when the read preference sends reads there.
 *
 * Any member can be elected, so the worst member holds instances × (maxPoolSize + monitoring).
 *
 * @module
 */
import { ConnectionString } from "mongodb-connection-string-url";
import type { ReadPreferenceSetting, WriteConcernSetting } from "../config.ts";

/**
 * Connections the driver keeps per member outside the pool: one monitor, plus one RTT pinger when the
 * streaming protocol is in use (the default against MongoDB 4.4+ outside FaaS environments).
 */
export const MONITORING_CONNECTIONS_PER_HOST = 2;

/** `mongodb+srv://` hides its hosts behind DNS; a replica set of three is the common case (Atlas). */
export const ASSUMED_SRV_HOSTS = 3;

/** The inputs of the arithmetic. */
export interface BudgetInput {
  appInstances: number;
  /** Members of the cluster (1 for a standalone). */
  hosts: number;
  maxPoolSize: number;
  /** The pool the driver keeps on a secondary that no read is sent to. @default 0 */
  minPoolSize?: number;
  /** Where reads go: anything but `primary` may fill a pool on every secondary. @default "primary" */
  readPreference?: ReadPreferenceSetting;
  /** Reported with the arithmetic; it does not change the count. @default "majority" */
  writeConcern?: WriteConcernSetting;
  /** The cluster's connection cap per member (500 on an Atlas M0); undefined when not configured. */
  connectionLimit: number | undefined;
}

/** The arithmetic and its verdict. */
export interface ConnectionBudget extends BudgetInput {
  readPreference: ReadPreferenceSetting;
  writeConcern: WriteConcernSetting;
  /** One instance's connections on the primary: maxPoolSize + monitoring. */
  perInstanceOnPrimary: number;
  /** One instance's connections on each secondary: minPoolSize (or maxPoolSize) + monitoring. */
  perInstanceOnSecondary: number;
  /** The worst member (the primary, or any member once elected): what DB_CONNECTION_LIMIT is compared with. */
  perMember: number;
  /** Every member together, for one instance. */
  perInstance: number;
  /** Every member together, for every instance. */
  worstCase: number;
  /** perMember / connectionLimit, or null when there is no limit to compare with. */
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
 * Works out the worst member: instances × (maxPoolSize + monitoring), and compares it with the limit per
 * member: above 80% is a warning, above 100% is over.
 *
 * @example
 * ```ts
 * connectionBudget({ appInstances: 3, hosts: 3, maxPoolSize: 100, connectionLimit: 500 }).status; // "warning"
 * ```
 */
export function connectionBudget(input: BudgetInput): ConnectionBudget {
  const readPreference = input.readPreference ?? "primary";
  const writeConcern = input.writeConcern ?? "majority";
  const minPoolSize = input.minPoolSize ?? 0;
  const monitoring = MONITORING_CONNECTIONS_PER_HOST;
  const readsOnSecondaries = readPreference !== "primary";
  const perInstanceOnPrimary = input.maxPoolSize + monitoring;
  const perInstanceOnSecondary = (readsOnSecondaries ? input.maxPoolSize : minPoolSize) + monitoring;
  const secondaries = input.hosts - 1;
  const perInstance = perInstanceOnPrimary + secondaries * perInstanceOnSecondary;
  const perMember = input.appInstances * perInstanceOnPrimary;
  const worstCase = input.appInstances * perInstance;
  const where = secondaries === 0
    ? "standalone"
    : readsOnSecondaries
    ? `reads ${readPreference}: every member may be filled`
    : `secondaries ${input.appInstances} × (minPoolSize ${minPoolSize} + ${monitoring} monitoring) = ` +
      `${input.appInstances * perInstanceOnSecondary} each, reads go to the primary`;
  const arithmetic = `per member: ${input.appInstances} instance(s) × (maxPoolSize ${input.maxPoolSize} + ` +
    `${monitoring} monitoring) = ${perMember} connections (${where}; ${worstCase} over ${input.hosts} ` +
    `member(s); w: ${writeConcern})`;
  const base = { ...input, readPreference, writeConcern, perInstanceOnPrimary, perInstanceOnSecondary };
  if (input.connectionLimit === undefined) {
    return {
      ...base,
      perMember,
      perInstance,
      worstCase,
      ratio: null,
      status: "unknown",
      message: `${arithmetic}; no DB_CONNECTION_LIMIT set to compare with`,
    };
  }
  const ratio = perMember / input.connectionLimit;
  const status = ratio > 1 ? "over" : ratio > 0.8 ? "warning" : "ok";
  const percent = Math.round(ratio * 100);
  return {
    ...base,
    perMember,
    perInstance,
    worstCase,
    ratio,
    status,
    message: `${arithmetic}: ${percent}% of DB_CONNECTION_LIMIT=${input.connectionLimit} (per member)`,
  };
}
