/**
 * The set of active pool warnings: each is logged once when it starts (or changes level) and once when it
 * clears, and subscribers hear the same transitions.
 *
 * @module
 */
import type { Logger } from "../../log.ts";
import type { PoolWarning, PoolWarningChange } from "./types.ts";

/** A listener for warning transitions. */
export type PoolWarningListener = (change: PoolWarningChange) => void;

/**
 * Active warnings by key (one key per condition: `utilization`, `leak:<address>#<id>`, ...).
 *
 * @example
 * ```ts
 * const board = new WarningBoard(getLogger(["db", "pool"]));
 * board.raise("churn", { level: "warning", kind: "churn", message: "...", since: Date.now(), details: {} });
 * board.clear("churn");
 * ```
 */
export class WarningBoard {
  readonly #log: Logger;
  readonly #active = new Map<string, PoolWarning>();
  readonly #listeners = new Set<PoolWarningListener>();
  readonly #now: () => number;

  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  /**
   * Makes `warning` active under `key`; logs and notifies only when it is new or its level changed. A level
   * change ends the old level first (cleared, then started), so every start an operator saw has its clear.
   */
  raise(key: string, warning: PoolWarning): void {
    const previous = this.#active.get(key);
    if (previous?.level === warning.level) {
      this.#active.set(key, { ...warning, since: previous.since });
      return;
    }
    if (previous) this.clear(key);
    this.#active.set(key, warning);
    const properties = {
      ...warning.details,
      kind: warning.kind,
      level: warning.level,
      message: warning.message,
    };
    if (warning.level === "critical") this.#log.error("pool {level}: {message}", properties);
    else this.#log.warn("pool {level}: {message}", properties);
    this.#notify({ change: "started", warning });
  }

  /** Ends the warning under `key`, if any. */
  clear(key: string): void {
    const warning = this.#active.get(key);
    if (!warning) return;
    this.#active.delete(key);
    this.#log.info("pool {kind} cleared: {message}", {
      ...warning.details,
      kind: warning.kind,
      message: warning.message,
      lastedMs: this.#now() - warning.since,
    });
    this.#notify({ change: "cleared", warning });
  }

  /** Whether a warning is active under `key`. */
  has(key: string): boolean {
    return this.#active.has(key);
  }

  /** The keys of active warnings of one kind. */
  keysOf(kind: PoolWarning["kind"]): string[] {
    return [...this.#active].filter(([, warning]) => warning.kind === kind).map(([key]) => key);
  }

  /** The active warnings, oldest first. */
  active(): PoolWarning[] {
    return [...this.#active.values()].sort((a, b) => a.since - b.since);
  }

  /** Calls `listener` on every transition from now on; returns the unsubscribe function. */
  subscribe(listener: PoolWarningListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(change: PoolWarningChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#log.error("pool warning listener failed: {error}", { error: String(error) });
      }
    }
  }
}
