/**
 * The worker runtime: a job that runs every interval inside the server process, on the shared `Db`.
 *
 * @module
 */
import { backoffDelayMs } from "../backoff.ts";
import { getLogger } from "../log.ts";

const log = getLogger(["workers"]);

/** A worker's state, for health output and metrics. */
export interface WorkerStatus {
  name: string;
  running: boolean;
  /** Epoch milliseconds when the last tick started, or null before the first. */
  lastTickAt: number | null;
  lastDurationMs: number | null;
  ticks: number;
  failures: number;
  lastError: string | null;
  /** The call leases this instance holds now, for a worker that takes them; absent for the others. */
  leasesHeld?: number;
}

/** What a worker does each tick. The signal aborts when the worker is asked to stop. */
export type Tick = (signal: AbortSignal) => Promise<void>;

/** How a periodic worker runs. */
export interface PeriodicWorkerOptions {
  name: string;
  intervalMs: number;
  tick: Tick;
  /** Spread of the interval, as a fraction: 0.1 waits 90% to 110% of it, so instances do not tick in step. */
  jitter?: number;
  /** Tick once right after `start()` rather than one interval later. */
  runAtStart?: boolean;
  random?: () => number;
  /** For a worker that takes call leases: how many this instance holds now, read for each status. */
  leasesHeld?: () => number;
  /**
   * Whether a tick's failure is the database being away for a moment (an election, a restart): such a tick
   * is counted as failed and logged as a warning naming the error, without a stack, and the next tick retries.
   */
  isTransient?: (err: unknown) => boolean;
}

/**
 * Runs `tick` every interval (with jitter). Ticks never overlap: the next is scheduled when one ends. A tick
 * that throws is logged and counted, never fatal. `stop()` resolves once the tick in flight has finished.
 *
 * @example
 * ```ts
 * const worker = new PeriodicWorker({ name: "cleanup", intervalMs: 60_000, tick: async () => {} });
 * worker.start();
 * await worker.stop();
 * ```
 */
export class PeriodicWorker {
  readonly name: string;
  readonly #options: PeriodicWorkerOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | undefined;
  #abort = new AbortController();
  #running = false;
  #status: Omit<WorkerStatus, "name" | "running"> = {
    lastTickAt: null,
    lastDurationMs: null,
    ticks: 0,
    failures: 0,
    lastError: null,
  };

  constructor(options: PeriodicWorkerOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
    }
    this.name = options.name;
    this.#options = options;
  }

  /** Starts ticking; calling it on a running worker does nothing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#schedule(this.#options.runAtStart ? 0 : this.#nextDelay());
    log.info("worker {name} started, every {intervalMs} ms", {
      name: this.name,
      intervalMs: this.#options.intervalMs,
    });
  }

  /** Stops scheduling, signals the tick in flight, and resolves once it has finished. */
  async stop(): Promise<void> {
    if (!this.#running) return await this.#inFlight;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort(new Error(`worker ${this.name} is stopping`));
    await this.#inFlight;
    log.info("worker {name} stopped after {ticks} tick(s)", { name: this.name, ticks: this.#status.ticks });
  }

  /** Whether a tick is running right now (a shutdown that times out names such workers). */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  /** The worker's state now. */
  status(): WorkerStatus {
    const leasesHeld = this.#options.leasesHeld;
    return {
      name: this.name,
      running: this.#running,
      ...this.#status,
      ...(leasesHeld === undefined ? {} : { leasesHeld: leasesHeld() }),
    };
  }

  #nextDelay(): number {
    const intervalMs = this.#options.intervalMs;
    const spread = { baseMs: intervalMs, maxMs: intervalMs, factor: 1, jitter: this.#options.jitter ?? 0.1 };
    return backoffDelayMs(spread, 1, this.#options.random);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#inFlight = this.#runTick().finally(() => {
        this.#inFlight = undefined;
        if (this.#running) this.#schedule(this.#nextDelay());
      });
    }, delayMs);
  }

  async #runTick(): Promise<void> {
    const started = performance.now();
    this.#status.lastTickAt = Date.now();
    try {
      await this.#options.tick(this.#abort.signal);
    } catch (err) {
      this.#status.failures++;
      this.#status.lastError = err instanceof Error ? err.message : String(err);
      if (this.#options.isTransient?.(err)) {
        log.warn("worker {name} tick: database unavailable ({error}); the next tick retries", {
          name: this.name,
          error: err instanceof Error ? err.name : String(err),
        });
        return;
      }
      log.error("worker {name} tick failed: {error}", {
        name: this.name,
        error: err instanceof Error ? err.stack ?? err.message : String(err),
      });
    } finally {
      this.#status.ticks++;
      this.#status.lastDurationMs = Math.round(performance.now() - started);
    }
  }
}
