/**
 * One stats endpoint, cached: a person's figures for 5 minutes (dropped as soon as their entries or calls
 * change in this process) and the platform totals for an hour. The seeds queried these on every page view.
 *
 * @module
 */
import { Hono } from "hono";
import {
  ACTIONS_CHANGING_USER_STATS,
  type Concepts,
  type PlatformStats,
  type UserStats,
} from "../concepts/mod.ts";
import { requireUser, type UserEnv } from "./auth.ts";
import { LRUCache } from "lru-cache";
import type { Registry } from "prom-client";
import { Counter, Gauge } from "prom-client";
import type { ActionDone } from "./concepts/registry.ts";
import { z } from "zod";

/** The answer of `GET /api/stats`; the route shapes its answer through it and the API document shows it. */
export const StatsAnswer = z.object({
  user: z.object({
    entries: z.int(),
    currentStreak: z.int().describe("Consecutive local days with an entry, ending today or yesterday."),
    callsCompleted: z.int(),
    callsFailed: z.int(),
    lastEntryDate: z.string().nullable().describe("The local date (YYYY-MM-DD) of the newest entry."),
  }),
  platform: z.object({ users: z.int(), entries: z.int(), callsCompleted: z.int() }),
}).meta({ id: "Stats" });

/** Where the figures come from: one query per person, one for the platform. */
export interface StatsQueries {
  userStats(user: string): Promise<UserStats>;
  platformStats(): Promise<PlatformStats>;
}

/** Cache lifetimes. */
export interface StatsCacheOptions {
  userTtlMs?: number;
  platformTtlMs?: number;
  maxUsers?: number;
  /** Registers hit and miss counters here when given. */
  registry?: Registry;
  /** The clock the TTLs run on, in milliseconds; tests move it. @default performance */
  clock?: { now(): number };
}

/** The user figures are kept this long unless the person's entries or calls change first. */
export const USER_STATS_TTL_MS = 5 * 60_000;
/** The platform totals are kept this long. */
export const PLATFORM_STATS_TTL_MS = 60 * 60_000;

const PLATFORM = "platform";

/**
 * Stats behind in-process caches (`lru-cache`, whose `fetch` also folds concurrent misses into one query).
 *
 * @example
 * ```ts
 * const stats = new StatsCache(queries, { registry: metrics.registry });
 * await stats.forUser(user); // a query; the next call within 5 minutes is a hit
 * stats.invalidate(user);    // after a new entry
 * ```
 */
export class StatsCache {
  readonly #users: LRUCache<string, UserStats>;
  readonly #platform: LRUCache<string, PlatformStats>;
  readonly #counts = { hits: 0, misses: 0 };
  readonly #requests?: Counter<"cache" | "result">;

  constructor(queries: StatsQueries, options: StatsCacheOptions = {}) {
    this.#users = new LRUCache({
      max: options.maxUsers ?? 10_000,
      ttl: options.userTtlMs ?? USER_STATS_TTL_MS,
      fetchMethod: (user) => queries.userStats(user),
      perf: options.clock,
    });
    this.#platform = new LRUCache({
      max: 1,
      ttl: options.platformTtlMs ?? PLATFORM_STATS_TTL_MS,
      fetchMethod: () => queries.platformStats(),
      perf: options.clock,
    });
    if (options.registry) {
      this.#requests = new Counter({
        name: "zien_stats_cache_requests_total",
        help: "Stats cache lookups, by cache (user, platform) and result (hit, miss).",
        labelNames: ["cache", "result"],
        registers: [options.registry],
      });
      const counts = this.#counts;
      new Gauge({
        name: "zien_stats_cache_hit_ratio",
        help: "Stats cache hits over all lookups since start, 0..1 (0 before the first lookup).",
        registers: [options.registry],
        collect() {
          const lookups = counts.hits + counts.misses;
          this.set(lookups === 0 ? 0 : counts.hits / lookups);
        },
      });
    }
  }

  /** A person's figures, from the cache when fresh. */
  async forUser(user: string): Promise<UserStats> {
    return await this.#lookup("user", this.#users, user);
  }

  /** The platform totals, from the cache when fresh. */
  async platform(): Promise<PlatformStats> {
    return await this.#lookup("platform", this.#platform, PLATFORM);
  }

  /** Forgets a person's figures: their entries or calls changed. */
  invalidate(user: string): void {
    this.#users.delete(user);
  }

  /** Hits and misses since start, for the health output and the dashboard. */
  stats(): { hits: number; misses: number; hitRate: number | null; cachedUsers: number } {
    const lookups = this.#counts.hits + this.#counts.misses;
    return {
      ...this.#counts,
      hitRate: lookups === 0 ? null : this.#counts.hits / lookups,
      cachedUsers: this.#users.size,
    };
  }

  /**
   * The concept routes' `onAction`: forgets a person's figures only after an action that changes them
   * (`ACTIONS_CHANGING_USER_STATS`); reads and unrelated writes keep the cache.
   */
  readonly afterAction = (done: ActionDone): void => {
    if (done.user && ACTIONS_CHANGING_USER_STATS.has(`${done.concept}.${done.action}`)) {
      this.invalidate(done.user);
    }
  };

  async #lookup<V extends object>(
    cache: "user" | "platform",
    lru: LRUCache<string, V>,
    key: string,
  ): Promise<V> {
    const result = lru.has(key) ? "hit" : "miss";
    this.#counts[result === "hit" ? "hits" : "misses"]++;
    this.#requests?.inc({ cache, result });
    const value = await lru.fetch(key);
    if (value === undefined) throw new Error(`no ${cache} stats for ${key}`);
    return value;
  }
}

/**
 * `GET /api/stats` with `Authorization: Bearer <token>`: the caller's figures and the platform totals in one
 * answer.
 */
export function statsRoutes(stats: StatsCache, concepts: Pick<Concepts, "userAuth">): Hono<UserEnv> {
  const app = new Hono<UserEnv>();
  app.get("/api/stats", requireUser(concepts.userAuth), async (c) => {
    const [mine, platform] = await Promise.all([stats.forUser(c.get("user")), stats.platform()]);
    return c.json(StatsAnswer.parse({ user: mine, platform }));
  });
  return app;
}
