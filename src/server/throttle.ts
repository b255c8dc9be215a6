/**
 * Per-address allowances for the account routes, kept in this process (`lru-cache`, bounded, each entry
 * forgotten when its window ends): register attempts, and failed logins across every username, which the
 * per-username counters in the database cannot see (a guesser trying a new username each time).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { expandIPv6 } from "hono/utils/ipaddr";
import { isIP } from "node:net";
import { LRUCache } from "lru-cache";
import { refusal } from "./errors.ts";

/** Register attempts one address may make per window. */
export const REGISTER_PER_ADDRESS = 5;
/** Failed logins one address may make per window, over all usernames. */
export const LOGIN_FAILURES_PER_ADDRESS = 30;
/** The window both allowances are counted over. */
export const ADDRESS_WINDOW_MS = 15 * 60_000;

/** The allowances, for tests. */
export interface AddressLimits {
  /** @default REGISTER_PER_ADDRESS */
  registerPerAddress?: number;
  /** @default LOGIN_FAILURES_PER_ADDRESS */
  loginFailuresPerAddress?: number;
  /** @default ADDRESS_WINDOW_MS */
  windowMs?: number;
}

/**
 * The key an address is counted under: an IPv4 address as it is, an IPv6 address by its /64, the block one
 * subscriber usually holds (counting each of its 2^64 addresses apart would throttle nothing).
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${expandIPv6(address.toLowerCase()).split(":").slice(0, 4).join(":")}::/64`;
}

/**
 * A fixed-window counter per key: `count` events per `windowMs`, the window starting with the key's first
 * event. At most `maxKeys` keys are remembered; the least recently used goes first.
 */
export class WindowCounter {
  readonly #counts: LRUCache<string, { count: number }>;
  readonly #limit: number;

  constructor(limit: number, windowMs: number, maxKeys = 50_000) {
    this.#limit = limit;
    // noUpdateTTL: counting again must not stretch the window.
    this.#counts = new LRUCache({ max: maxKeys, ttl: windowMs, noUpdateTTL: true });
  }

  /**
   * Counts one event for `key` and returns 0, or, when `key` has used its allowance, counts nothing and
   * returns the seconds until its window ends. Counting before the work is done keeps a burst of
   * parallel requests from all passing one check.
   */
  take(key: string): number {
    const entry = this.#counts.get(key);
    if (!entry) {
      this.#counts.set(key, { count: 1 });
      return 0;
    }
    if (entry.count >= this.#limit) return Math.max(1, Math.ceil(this.#counts.getRemainingTTL(key) / 1000));
    entry.count++;
    return 0;
  }

  /** Gives back one event `take` counted, for a request that turned out not to count. */
  refund(key: string): void {
    const entry = this.#counts.get(key);
    if (entry && entry.count > 0) entry.count--;
  }
}

// Refused before the action ran (malformed, too large, not JSON), or failed on our side: nothing the
// caller should be charged for.
const notCounted = (status: number) => [400, 405, 413, 415].includes(status) || status >= 500;

function take(counter: WindowCounter, address: string, message: string): void {
  const wait = counter.take(address);
  if (wait > 0) throw refusal(429, message, { headers: { "Retry-After": String(wait) } });
}

/**
 * The two account throttles, as middleware for `UserAuth/register` and `UserAuth/login`; `clientKey` says
 * who the client is (`addressKey` of `clientAddress`).
 */
export function accountThrottles(clientKey: (c: Context) => string, limits: AddressLimits = {}): {
  register: MiddlewareHandler;
  login: MiddlewareHandler;
} {
  const windowMs = limits.windowMs ?? ADDRESS_WINDOW_MS;
  const registers = new WindowCounter(limits.registerPerAddress ?? REGISTER_PER_ADDRESS, windowMs);
  const loginFailures = new WindowCounter(
    limits.loginFailuresPerAddress ?? LOGIN_FAILURES_PER_ADDRESS,
    windowMs,
  );
  // The app's error handler renders a refusal before control returns to these, so `c.res` is final.
  return {
    register: async (c, next) => {
      const key = clientKey(c);
      take(registers, key, "Too many accounts registered from your address; try again later.");
      try {
        await next();
      } finally {
        // A taken username still counts: register must not become a way to probe names.
        if (notCounted(c.res.status)) registers.refund(key);
      }
    },
    login: async (c, next) => {
      const key = clientKey(c);
      take(loginFailures, key, "Too many failed logins from your address; try again later.");
      try {
        await next();
      } finally {
        // Counted as a failure up front; a success, or a request that never reached the password, is not.
        if (c.res.status === 200 || notCounted(c.res.status)) loginFailures.refund(key);
      }
    },
  };
}
