/**
 * The database side of the app: the one client, the connection budget, tenants, pool watching and the
 * batch writers.
 *
 * @example
 * ```ts
 * import { connectWithRetry, createMongoClient, instanceAppName, PoolMonitor } from "./db/mod.ts";
 * const client = createMongoClient(url, config.pool, instanceAppName());
 * const monitor = new PoolMonitor(client, { maxPoolSize: 10, leakThresholdMs: 30_000, logIntervalMs: 60_000 });
 * await connectWithRetry(client, url, config.retry);
 * ```
 * @module
 */
export {
  APP_NAME_PREFIX,
  ConnectFailedError,
  ConnectNotPermittedError,
  connectWithRetry,
  createMongoClient,
  instanceAppName,
  type RetryPolicy,
  SecondClientError,
} from "./client.ts";
export {
  ASSUMED_SRV_HOSTS,
  type BudgetInput,
  type ConnectionBudget,
  connectionBudget,
  hostCount,
  MONITORING_CONNECTIONS_PER_HOST,
} from "./budget.ts";
export { isTransientDbError, type ReadRetryOptions, retryRead } from "./errors.ts";
export { InvalidTenantError, TenantDbs, type TenantInfo } from "./tenants.ts";
export { type EmbeddedDevDb, EmbeddedDevDbError, startEmbeddedDevDb } from "./embedded.ts";
export * from "./pool/mod.ts";
export * from "./server_view.ts";
export * from "./batch/mod.ts";
