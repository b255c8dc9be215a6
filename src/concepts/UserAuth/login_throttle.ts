/**
 * Slows down guessing without handing strangers a way to lock an owner out. Failed logins are counted in
 * the database, so the limits hold across every instance of the server, on two keys:
 *
 * - the pair (where the attempt came from, username): past a few failures each further attempt from there
 *   must wait twice as long, so one address guessing one password after another is stopped quickly, while
 *   the owner, coming from elsewhere, still logs in;
 * - the username alone, from anywhere: a much larger allowance with a slower lock, against guessing spread
 *   over many addresses.
 *
 * @module
 */
import type { Collection, Db } from "mongodb";
import { ConceptError, isDuplicateKeyError } from "../errors.ts";
import type { Clock } from "../common.ts";

/** Failures from one place on one username without a lock; from this many on, the pair is locked. */
export const FREE_ATTEMPTS = 5;
/** Failures on one username from anywhere without a lock. */
export const USERNAME_FREE_ATTEMPTS = 50;
/** The username lock doubles every this many further failures: slower than the pair's. */
export const USERNAME_DOUBLING_ATTEMPTS = 5;
/** The longest lock, in seconds. */
export const MAX_LOCK_SECONDS = 15 * 60;
// Long enough to cover one password verification: attempts from one place on one username run one at a time.
const IN_FLIGHT_MS = 5_000;
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/** One counter: a pair (`pair <from> <username>`) or a username (`user <username>`), in `_id`. */
interface ThrottleDoc {
  _id: string;
  /** Failures since the last success (for a pair, attempts, this one included). */
  attempts: number;
  lockedUntil: Date;
  expiresAt: Date;
}

/** How long a pair is locked after `attempts` consecutive failures, in seconds. */
export function lockSeconds(attempts: number, free = FREE_ATTEMPTS): number {
  if (attempts < free) return 0;
  return Math.min(2 ** (attempts - free), MAX_LOCK_SECONDS);
}

/** How long a username is locked after `failures` failures from anywhere, in seconds. */
export function usernameLockSeconds(failures: number, free = USERNAME_FREE_ATTEMPTS): number {
  if (failures < free) return 0;
  return Math.min(2 ** Math.floor((failures - free) / USERNAME_DOUBLING_ATTEMPTS), MAX_LOCK_SECONDS);
}

/** The allowances, for tests that cannot afford 50 password hashes. */
export interface LoginLimits {
  /** @default FREE_ATTEMPTS */
  perPair?: number;
  /** @default USERNAME_FREE_ATTEMPTS */
  perUsername?: number;
}

function retryAfter(until: Date | undefined, now: Date): number {
  return Math.max(1, Math.ceil(((until?.getTime() ?? now.getTime()) - now.getTime()) / 1000));
}

/** The login counters of the `UserAuth` concept, in `UserAuth.loginThrottle`. */
export class LoginThrottle {
  readonly #counters: Collection<ThrottleDoc>;
  readonly #now: Clock;
  readonly #perPair: number;
  readonly #perUsername: number;

  constructor(db: Db, now: Clock, limits: LoginLimits = {}) {
    this.#counters = db.collection<ThrottleDoc>("UserAuth.loginThrottle");
    this.#now = now;
    this.#perPair = limits.perPair ?? FREE_ATTEMPTS;
    this.#perUsername = limits.perUsername ?? USERNAME_FREE_ATTEMPTS;
  }

  /** Creates the TTL index that forgets old counters (the key is `_id`, unique by itself). */
  async ensureIndexes(): Promise<void> {
    await this.#counters.createIndex({ expiresAt: 1 }, { name: "expiresAt_ttl", expireAfterSeconds: 0 });
  }

  /**
   * Claims the right to check one password for `username` coming from `from`, or refuses with
   * `rate_limited` while the username or the pair is locked. The pair's claim and lock test are one atomic
   * update, so parallel guesses from one place cannot slip past together. Returns the pair's attempt count.
   */
  async begin(from: string, username: string): Promise<number> {
    const now = this.#now();
    const user = await this.#counters.findOne({ _id: userKey(username) }, { projection: { lockedUntil: 1 } });
    if (user && user.lockedUntil > now) {
      throw new ConceptError("rate_limited", "Too many failed logins for this username; try again later.", {
        retryAfterSeconds: retryAfter(user.lockedUntil, now),
      });
    }
    const key = pairKey(from, username);
    try {
      const doc = await this.#counters.findOneAndUpdate(
        { _id: key, lockedUntil: { $lte: now } },
        {
          $inc: { attempts: 1 },
          $set: {
            lockedUntil: new Date(now.getTime() + IN_FLIGHT_MS),
            expiresAt: new Date(now.getTime() + FORGET_AFTER_MS),
          },
        },
        { upsert: true, returnDocument: "after" },
      );
      return doc?.attempts ?? 1;
    } catch (err) {
      // The filter missed an existing counter, so the upsert collided with its _id: the pair is locked.
      if (!isDuplicateKeyError(err)) throw err;
      const locked = await this.#counters.findOne({ _id: key });
      throw new ConceptError(
        "rate_limited",
        "Too many failed logins for this username from your address; try again later.",
        { retryAfterSeconds: retryAfter(locked?.lockedUntil, now) },
      );
    }
  }

  /** Records that the pair's attempt number `attempts` failed: locks the pair, and maybe the username. */
  async failed(from: string, username: string, attempts: number): Promise<void> {
    const now = this.#now();
    const until = new Date(now.getTime() + lockSeconds(attempts, this.#perPair) * 1000);
    await this.#counters.updateOne({ _id: pairKey(from, username) }, { $set: { lockedUntil: until } });
    const user = await this.#counters.findOneAndUpdate(
      { _id: userKey(username) },
      {
        $inc: { attempts: 1 },
        $setOnInsert: { lockedUntil: now },
        $set: { expiresAt: new Date(now.getTime() + FORGET_AFTER_MS) },
      },
      { upsert: true, returnDocument: "after" },
    );
    const seconds = usernameLockSeconds(user?.attempts ?? 1, this.#perUsername);
    if (seconds > 0) {
      const lockedUntil = new Date(now.getTime() + seconds * 1000);
      await this.#counters.updateOne({ _id: userKey(username) }, { $set: { lockedUntil } });
    }
  }

  /** Forgets the failures on the pair and on the username after a successful login. */
  async succeeded(from: string, username: string): Promise<void> {
    await this.#counters.deleteMany({ _id: { $in: [pairKey(from, username), userKey(username)] } });
  }
}

// Usernames hold no spaces, so neither key can be mistaken for the other.
const pairKey = (from: string, username: string) => `pair ${from} ${username}`;
const userKey = (username: string) => `user ${username}`;
