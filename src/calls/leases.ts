/**
 * The call leases this instance holds right now, counted in memory from what the call flow does with them:
 * a claim takes one, a placement or a heartbeat renews it, an attempt that ends here (completed, retried,
 * failed, its claim given back) or the release at shutdown gives it back, and a lease not renewed before its
 * deadline is lost (its call ended elsewhere, or another instance may recover it). Nothing is read from the
 * database: the count is for the workers' status, `/metrics` and the dashboard.
 *
 * @module
 */
import { type Clock, systemClock } from "../concepts/mod.ts";
import type { CallAttempt } from "../concepts/CallScheduler/mod.ts";

/**
 * The leases of this instance, by call: the attempt each covers and until when.
 *
 * @example
 * ```ts
 * const leases = new HeldLeases({ leaseMs: 120_000 });
 * leases.claimed({ call: call._id, attempt: call.attempts });
 * leases.count(); // 1
 * ```
 */
export class HeldLeases {
  readonly #leaseMs: number;
  readonly #now: Clock;
  readonly #held = new Map<string, { attempt: number; until: number }>();

  constructor(options: { leaseMs: number; now?: Clock }) {
    this.#leaseMs = options.leaseMs;
    this.#now = options.now ?? systemClock;
  }

  /** A claim succeeded: the attempt is leased to this instance for one lease from now. */
  claimed(attempt: CallAttempt): void {
    this.#held.set(attempt.call, { attempt: attempt.attempt, until: this.#deadline() });
  }

  /**
   * A placement or the heartbeat renewed these attempts for one lease from now. A lease already lost is not
   * taken back: by then another instance may have recovered its call.
   */
  renewed(attempts: readonly CallAttempt[]): void {
    this.#dropLapsed();
    for (const { call, attempt } of attempts) {
      const held = this.#held.get(call);
      if (held?.attempt === attempt) held.until = this.#deadline();
    }
  }

  /** The attempt ended here (completed, retried, failed, or its claim given back): its lease is over. */
  ended(attempt: CallAttempt): void {
    if (this.#held.get(attempt.call)?.attempt === attempt.attempt) this.#held.delete(attempt.call);
  }

  /** Every lease was released at shutdown. */
  releasedAll(): void {
    this.#held.clear();
  }

  /** How many leases this instance holds now, the lapsed ones dropped. */
  count(): number {
    this.#dropLapsed();
    return this.#held.size;
  }

  #deadline(): number {
    return this.#now().getTime() + this.#leaseMs;
  }

  #dropLapsed(): void {
    const now = this.#now().getTime();
    for (const [call, { until }] of this.#held) if (until <= now) this.#held.delete(call);
  }
}
