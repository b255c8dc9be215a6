/**
 * Slows down guessing: failed logins per username are counted in the database, so the limit holds across
 * every instance of the server, and past a few failures each further attempt must wait twice as long.
 *
 * @module
 */
import type { Collection, Db } from "mongodb";
import { ConceptError, isDuplicateKeyError } from "../errors.ts";
import type { Clock } from "../common.ts";

/** Attempts without a lock; from this many consecutive failures on, the username is locked for a while. */
export const FREE_ATTEMPTS = 5;
/** The longest lock, in seconds. */
export const MAX_LOCK_SECONDS = 15 * 60;
// Long enough to cover one password verification: attempts on one username run one at a time.
const IN_FLIGHT_MS = 5_000;
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

interface AttemptsDoc {
  /** The username, lower-cased; unique. */
  username: string;
  /** Attempts since the last success, this one included. */
  attempts: number;
  lockedUntil: Date;
  expiresAt: Date;
}

/** How long the username is locked after `attempts` consecutive failures, in seconds. */
export function lockSeconds(attempts: number): number {
  if (attempts < FREE_ATTEMPTS) return 0;
  return Math.min(2 ** (attempts - FREE_ATTEMPTS), MAX_LOCK_SECONDS);
}

/** The login attempt counter of the `UserAuth` concept, in `UserAuth.loginAttempts`. */
export class LoginThrottle {
  readonly #attempts: Collection<AttemptsDoc>;
  readonly #now: Clock;

  constructor(db: Db, now: Clock) {
    this.#attempts = db.collection<AttemptsDoc>("UserAuth.loginAttempts");
    this.#now = now;
  }

  /** Creates the unique index the atomic claim relies on, and the TTL index that forgets old counters. */
  async ensureIndexes(): Promise<void> {
    await this.#attempts.createIndex({ username: 1 }, { name: "username_unique", unique: true });
    await this.#attempts.createIndex({ expiresAt: 1 }, { name: "expiresAt_ttl", expireAfterSeconds: 0 });
  }

  /**
   * Claims the right to check one password for `key`, or refuses with `rate_limited` while it is locked.
   * The claim and the lock test are one atomic update, so parallel guesses cannot slip past together.
   * Returns how many attempts this one makes.
   */
  async begin(key: string): Promise<number> {
    const now = this.#now();
    try {
      const doc = await this.#attempts.findOneAndUpdate(
        { username: key, lockedUntil: { $lte: now } },
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
      // The filter missed an existing document, so the upsert collided with it: the username is locked.
      if (!isDuplicateKeyError(err, "username_unique")) throw err;
      const locked = await this.#attempts.findOne({ username: key });
      const waitMs = (locked?.lockedUntil.getTime() ?? now.getTime()) - now.getTime();
      throw new ConceptError("rate_limited", "Too many failed logins for this username; try again later.", {
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      });
    }
  }

  /** Records that attempt number `attempts` on `key` failed: locks the username if it is past the free ones. */
  async failed(key: string, attempts: number): Promise<void> {
    const until = new Date(this.#now().getTime() + lockSeconds(attempts) * 1000);
    await this.#attempts.updateOne({ username: key }, { $set: { lockedUntil: until } });
  }

  /** Forgets the failures on `key` after a successful login. */
  async succeeded(key: string): Promise<void> {
    await this.#attempts.deleteOne({ username: key });
  }
}
