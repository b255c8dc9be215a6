/**
 * Atlas M0's operation-rate limit: 100 operations per second; past it, operations wait for the next
 * one-second window (Atlas's one-second cool-down).
 *
 * @module
 */

/** A fixed one-second window with a budget of operations; O(1) while under it. */
export class OpRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  #windowStart = 0;
  #used = 0;
  #throttled = 0;

  constructor(limit = 100, windowMs = 1_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** How many operations have had to wait. */
  get throttled(): number {
    return this.#throttled;
  }

  /** Takes one operation from the budget: undefined when it may run now, else a wait for the next window. */
  take(): Promise<void> | undefined {
    const now = Date.now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.#used < this.#limit) {
      this.#used++;
      return undefined;
    }
    this.#throttled++;
    const wait = this.#windowStart + this.#windowMs - now;
    return new Promise<void>((resolve) => setTimeout(resolve, wait)).then(() => this.take());
  }
}
