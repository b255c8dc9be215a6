/**
 * Dashboard sessions: the admin token is exchanged once for a random session id kept in memory with an
 * expiry, so the token itself never travels in a cookie, a URL or a log line.
 *
 * @module
 */
import { timingSafeEqual } from "hono/utils/buffer";

/** A session lasts this long from login. */
export const SESSION_TTL_MS = 8 * 60 * 60_000;
/** At most this many sessions are kept; logging in past it drops the oldest. */
export const MAX_SESSIONS = 1_000;

/**
 * Whether `given` is the admin token, compared as `requireAdmin` compares bearer tokens (SHA-256 digests in
 * constant time). The one place the dashboard checks the token: the form posts it, so the bearer guard
 * itself does not apply.
 */
export async function isAdminToken(given: string, expected: string): Promise<boolean> {
  return given.length > 0 && await timingSafeEqual(given, expected);
}

/**
 * Session ids in memory, each with its expiry.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore();
 * const id = sessions.open();
 * sessions.valid(id); // true until SESSION_TTL_MS has passed or close(id)
 * ```
 */
export class SessionStore {
  readonly #expiries = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Starts a session and returns its id: 32 random bytes, base64url. */
  open(): string {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
      /=+$/,
      "",
    );
    this.#prune();
    if (this.#expiries.size >= MAX_SESSIONS) this.#expiries.delete(this.#expiries.keys().next().value!);
    this.#expiries.set(id, this.#now() + this.#ttlMs);
    return id;
  }

  /** Whether `id` names a session that has not expired. */
  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expiry = this.#expiries.get(id);
    if (expiry === undefined) return false;
    if (expiry > this.#now()) return true;
    this.#expiries.delete(id);
    return false;
  }

  /** Ends a session (logout). */
  close(id: string | undefined): void {
    if (id !== undefined) this.#expiries.delete(id);
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(id);
  }
}
