/**
 * Per-organisation databases on the one client: a tenant is a `Db` handle, never a pool of its own.
 *
 * @module
 */
import type { Db, MongoClient } from "mongodb";
import { LRUCache } from "lru-cache";

/** What we know of one tenant's handle. */
export interface TenantInfo {
  orgId: string;
  dbName: string;
  lastUsed: Date;
  useCount: number;
}

/** Thrown for an orgId that cannot name a database. */
export class InvalidTenantError extends Error {
  constructor(orgId: string) {
    super(
      `Invalid tenant id ${JSON.stringify(orgId.slice(0, 64))}: expected 1 to 32 letters, digits, '_' or '-'`,
    );
    this.name = "InvalidTenantError";
  }
}

const orgIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

interface Entry {
  db: Db;
  info: TenantInfo;
}

/**
 * Hands out `Db` handles for tenants from the shared client. Handles are cheap (no sockets), cached with
 * their last use and use count, and bounded so a flood of tenant ids cannot grow memory without limit.
 *
 * @example
 * ```ts
 * const tenants = new TenantDbs(client, { prefix: "zien_org_", max: 1000 });
 * const db = tenants.tenantDb("acme"); // database zien_org_acme, same pool
 * ```
 */
export class TenantDbs {
  readonly #client: MongoClient;
  readonly #prefix: string;
  readonly #cache: LRUCache<string, Entry>;

  constructor(client: MongoClient, options: { prefix: string; max?: number }) {
    this.#client = client;
    this.#prefix = options.prefix;
    this.#cache = new LRUCache({ max: options.max ?? 1000 });
  }

  /**
   * The `Db` for one organisation.
   *
   * @throws {InvalidTenantError} when `orgId` is not 1-32 of `[A-Za-z0-9_-]`
   */
  tenantDb(orgId: string): Db {
    if (typeof orgId !== "string" || !orgIdPattern.test(orgId)) throw new InvalidTenantError(String(orgId));
    let entry = this.#cache.get(orgId);
    if (!entry) {
      const dbName = this.#prefix + orgId;
      entry = {
        db: this.#client.db(dbName),
        info: { orgId, dbName, lastUsed: new Date(), useCount: 0 },
      };
      this.#cache.set(orgId, entry);
    }
    entry.info.lastUsed = new Date();
    entry.info.useCount++;
    return entry.db;
  }

  /** How many tenants are cached, the bound, and the `limit` most recently used. */
  stats(limit = 20): { cached: number; max: number; tenants: TenantInfo[] } {
    const tenants = [...this.#cache.values()].slice(0, limit).map((e) => ({ ...e.info }));
    return { cached: this.#cache.size, max: this.#cache.max, tenants };
  }
}
