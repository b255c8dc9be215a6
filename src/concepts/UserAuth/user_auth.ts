/**
 * UserAuth: accounts with a username and password, and the bearer tokens that stand for a logged-in person.
 *
 * @module
 */
import type { Collection, Db } from "mongodb";
import { LRUCache } from "lru-cache";
import { getLogger } from "../../log.ts";
import { type Clock, type ConceptOptions, newId, systemClock } from "../common.ts";
import { ConceptError, isDuplicateKeyError } from "../errors.ts";
import { type LoginLimits, LoginThrottle } from "./login_throttle.ts";
import { hashPassword, type PasswordHash, verifyPassword } from "./password.ts";
import { hashToken, newToken, TOKEN_PATTERN } from "./tokens.ts";

const log = getLogger(["concepts", "UserAuth"]);

/** How long a token lives. */
export const TOKEN_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const USERNAME_INDEX = "usernameKey_unique";

interface UserDoc {
  _id: string;
  username: string;
  /** The username lower-cased: usernames are unique regardless of case. */
  usernameKey: string;
  password: PasswordHash;
  createdAt: Date;
}

interface TokenDoc {
  /** The token's SHA-256 in hex. */
  _id: string;
  user: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Options for `UserAuth` beyond the shared ones. */
export interface UserAuthOptions extends ConceptOptions {
  /**
   * How long a resolved token is remembered in this process, in milliseconds (0: never). Logout forgets it at
   * once here; another instance may accept a revoked token for at most this long.
   * @default 5000
   */
  tokenCacheMs?: number;
  /** The failed-login allowances; the defaults are the exported constants. */
  loginLimits?: LoginLimits;
}

/** Where a login attempt came from, for the throttle. */
export interface LoginSource {
  /** The client's address as the server saw it; attempts without one share the key `unknown`. */
  from?: string;
}

/** The UserAuth concept. Collections: `UserAuth.users`, `UserAuth.tokens`, `UserAuth.loginThrottle`. */
export class UserAuth {
  readonly #users: Collection<UserDoc>;
  readonly #tokens: Collection<TokenDoc>;
  readonly #throttle: LoginThrottle;
  readonly #now: Clock;
  readonly #cache?: LRUCache<string, { user: string; expiresAt: number }>;
  #dummyHash?: Promise<PasswordHash>;

  constructor(db: Db, options: UserAuthOptions = {}) {
    this.#now = options.now ?? systemClock;
    this.#users = db.collection<UserDoc>("UserAuth.users");
    this.#tokens = db.collection<TokenDoc>("UserAuth.tokens");
    this.#throttle = new LoginThrottle(db, this.#now, options.loginLimits);
    const cacheMs = options.tokenCacheMs ?? 5_000;
    if (cacheMs > 0) this.#cache = new LRUCache({ max: 10_000, ttl: cacheMs });
  }

  /** `_countUsers`: accounts across everyone (an estimate from collection metadata). */
  async _countUsers(): Promise<{ users: number }[]> {
    return [{ users: await this.#users.estimatedDocumentCount() }];
  }

  /** Creates this concept's indexes; safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.#users.createIndex({ usernameKey: 1 }, { name: USERNAME_INDEX, unique: true });
    await this.#tokens.createIndex({ user: 1 }, { name: "user" });
    await this.#tokens.createIndex({ expiresAt: 1 }, { name: "expiresAt_ttl", expireAfterSeconds: 0 });
    await this.#throttle.ensureIndexes();
  }

  /** Creates an account. Refuses a username that is taken (in any letter case). */
  async register(input: { username: string; password: string }): Promise<{ user: string }> {
    const doc: UserDoc = {
      _id: newId(),
      username: input.username,
      usernameKey: input.username.toLowerCase(),
      password: await hashPassword(input.password),
      createdAt: this.#now(),
    };
    try {
      await this.#users.insertOne(doc);
    } catch (err) {
      if (isDuplicateKeyError(err, USERNAME_INDEX)) {
        throw new ConceptError("conflict", "That username is taken; choose another.");
      }
      throw err;
    }
    log.info("registered user {user}", { user: doc._id });
    return { user: doc._id };
  }

  /**
   * Checks a username and password and hands out a new token. Wrong credentials and unknown usernames get the
   * same answer in about the same time. Repeated failures are slowed down (`rate_limited`): soon for one
   * source on one username, much later for one username from everywhere (see `login_throttle.ts`).
   */
  async login(
    input: { username: string; password: string },
    source: LoginSource = {},
  ): Promise<{ token: string; user: string }> {
    const key = input.username.toLowerCase();
    const from = source.from ?? "unknown";
    const attempt = await this.#throttle.begin(from, key);
    const found = await this.#users.findOne({ usernameKey: key });
    // Unknown usernames still pay for one hash, so timing does not tell which usernames exist.
    const ok = found
      ? await verifyPassword(input.password, found.password)
      : await verifyPassword(input.password, await this.#dummy()).then(() => false);
    if (!found || !ok) {
      await this.#throttle.failed(from, key, attempt);
      log.info("failed login, attempt {attempt} on one username from one address", { attempt });
      throw new ConceptError("unauthorized", "Wrong username or password.");
    }
    await this.#throttle.succeeded(from, key);
    const token = newToken();
    const now = this.#now();
    await this.#tokens.insertOne({
      _id: hashToken(token),
      user: found._id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS),
    });
    return { token, user: found._id };
  }

  /** Revokes `token`. Revoking a token that is unknown or already revoked is not an error. */
  async logout(input: { token: string }): Promise<Record<string, never>> {
    const id = hashToken(input.token);
    this.#cache?.delete(id);
    await this.#tokens.deleteOne({ _id: id });
    return {};
  }

  /** The person a token stands for; refuses (`unauthorized`) a token that is unknown, revoked or expired. */
  async authenticate(input: { token: string }): Promise<{ user: string }> {
    // Made only when needed: an Error captures a stack, and this runs on every request.
    const refused = () =>
      new ConceptError("unauthorized", "Your session token is missing, invalid or expired.");
    if (!TOKEN_PATTERN.test(input.token)) throw refused();
    const id = hashToken(input.token);
    const now = this.#now().getTime();
    let found = this.#cache?.get(id);
    if (!found) {
      const doc = await this.#tokens.findOne({ _id: id }, { projection: { user: 1, expiresAt: 1 } });
      if (!doc) throw refused();
      found = { user: doc.user, expiresAt: doc.expiresAt.getTime() };
      this.#cache?.set(id, found);
    }
    if (found.expiresAt <= now) throw refused();
    return { user: found.user };
  }

  /** The account's public face: `[{ user, username }]`, or `[]` when there is no such user. */
  async _getUser(input: { user: string }): Promise<{ user: string; username: string }[]> {
    const doc = await this.#users.findOne({ _id: input.user }, { projection: { username: 1 } });
    return doc ? [{ user: doc._id, username: doc.username }] : [];
  }

  #dummy(): Promise<PasswordHash> {
    this.#dummyHash ??= hashPassword(crypto.randomUUID());
    return this.#dummyHash;
  }
}
