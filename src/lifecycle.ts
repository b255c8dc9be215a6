/**
 * The shutdown sequence: phases run in a fixed order, so nothing touches the database after the client
 * closes. A deadline bounds the whole; a second signal exits at once, but copies of the first that arrive
 * together (a process group's delivery) count as one.
 *
 * @module
 */
import { getLogger } from "./log.ts";

const log = getLogger(["lifecycle"]);

/** The phases, in the order they run. */
export const SHUTDOWN_PHASES = ["http", "workers", "flushers", "client", "devdb"] as const;
/** One phase of the shutdown. */
export type ShutdownPhase = typeof SHUTDOWN_PHASES[number];

/** A step gets the deadline (epoch ms) by which the whole shutdown must be done. */
export type ShutdownStep = (deadline: number) => Promise<void> | void;

/**
 * Copies of the first signal that arrive within this many ms of it are that same signal. Ctrl-C in a
 * terminal and systemd's KillMode=control-group signal every process of the group, so `deno task` and the
 * app both get one, and `deno task` forwards its copy to the app milliseconds later.
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

/** How the lifecycle behaves; `exit` and `now` (the clock that times duplicate signals) are injectable for tests. */
export interface LifecycleOptions {
  timeoutMs: number;
  drainDelayMs: number;
  exit?: (code: number) => void;
  now?: () => number;
}

/**
 * Coordinates a graceful stop. Register steps per phase as the process starts; `shutdown()` then
 * marks the process as not ready, waits the drain delay, and runs the phases in order (steps within a
 * phase run together). Past the deadline it logs what is still pending, runs the `onDeadline` steps and
 * exits 1.
 *
 * @example
 * ```ts
 * const lifecycle = new Lifecycle({ timeoutMs: 10_000, drainDelayMs: 0 });
 * lifecycle.add("client", "mongo client", () => client.close());
 * lifecycle.listenForSignals();
 * ```
 */
export class Lifecycle {
  readonly #options: LifecycleOptions;
  readonly #steps = new Map<ShutdownPhase, Map<string, ShutdownStep>>();
  readonly #deadlineSteps: [string, () => Promise<void> | void][] = [];
  readonly #abort = new AbortController();
  #done: Promise<void> | undefined;
  #signalCleanup: (() => void) | undefined;
  #firstSignal: { signal: Deno.Signal; at: number } | undefined;

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  /** True from the first signal on: readiness answers 503. */
  get shuttingDown(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Aborts when the shutdown starts (cancels start-up waits such as connection retries). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Registers a step to run in `phase`. */
  add(phase: ShutdownPhase, name: string, step: ShutdownStep): void {
    let steps = this.#steps.get(phase);
    if (!steps) this.#steps.set(phase, steps = new Map());
    steps.set(name, step);
  }

  /**
   * Registers what must still happen when the deadline passes with phases unfinished (spill what is
   * buffered, force-close sockets). They run last-registered first, like deferred cleanups: what was made
   * later (a writer) is dealt with before what it depends on (the client). Then the process exits 1.
   */
  onDeadline(name: string, step: () => Promise<void> | void): void {
    this.#deadlineSteps.push([name, step]);
  }

  /**
   * What a SIGINT or SIGTERM does: the first starts the shutdown; the same signal again within
   * `DUPLICATE_SIGNAL_WINDOW_MS` is its process group's copy and is ignored; any later one exits 1 at once.
   */
  handleSignal(signal: Deno.Signal): void {
    const now = (this.#options.now ?? Date.now)();
    const first = this.#firstSignal;
    if (first === undefined && !this.shuttingDown) {
      this.#firstSignal = { signal, at: now };
      log.info("{signal} received: shutting down", { signal });
      void this.shutdown(0);
      return;
    }
    if (first !== undefined && first.signal === signal && now - first.at < DUPLICATE_SIGNAL_WINDOW_MS) {
      const ms = now - first.at;
      log.info("{signal} again after {ms} ms: the group's copy of the first; send it again to exit now", {
        signal,
        ms,
      });
      return;
    }
    log.warn("second {signal}: exiting now", { signal });
    this.#exit(1);
  }

  /** SIGINT and SIGTERM go to `handleSignal`. Uncaught errors shut down with 1. */
  listenForSignals(): void {
    const onSignal = (signal: Deno.Signal) => () => this.handleSignal(signal);
    const onError = (event: ErrorEvent | PromiseRejectionEvent) => {
      event.preventDefault();
      const error = "reason" in event ? event.reason : event.error;
      log.fatal("uncaught {error}", { error: error instanceof Error ? error.stack ?? error.message : error });
      void this.shutdown(1);
    };
    const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
    for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
    globalThis.addEventListener("error", onError);
    globalThis.addEventListener("unhandledrejection", onError);
    this.#signalCleanup = () => {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onError);
    };
  }

  /**
   * Runs the shutdown once (later calls return the same promise) and exits with `code`, or with 1 when
   * the deadline passes first.
   */
  shutdown(code: number): Promise<void> {
    this.#done ??= this.#run(code);
    return this.#done;
  }

  async #run(code: number): Promise<void> {
    this.#abort.abort(new Error("shutting down"));
    const deadline = Date.now() + this.#options.timeoutMs;
    const pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#options.timeoutMs);
    });
    const outcome = await Promise.race([this.#phases(deadline, pending), timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      log.error("shutdown passed its {timeoutMs} ms deadline; still pending: {pending}", {
        timeoutMs: this.#options.timeoutMs,
        pending: [...pending].join(", ") || "nothing",
      });
      await this.#forceClose();
      code = 1;
    } else {
      log.info("shutdown complete");
    }
    this.#signalCleanup?.();
    this.#exit(code);
  }

  async #phases(deadline: number, pending: Set<string>): Promise<"done"> {
    if (this.#options.drainDelayMs > 0) {
      pending.add("drain delay");
      await new Promise((resolve) => setTimeout(resolve, this.#options.drainDelayMs));
      pending.delete("drain delay");
    }
    for (const phase of SHUTDOWN_PHASES) {
      const steps = [...(this.#steps.get(phase) ?? new Map<string, ShutdownStep>())];
      await Promise.all(steps.map(async ([name, step]) => {
        const label = `${phase}: ${name}`;
        pending.add(label);
        try {
          await step(deadline);
        } catch (err) {
          log.error("shutdown step {label} failed: {error}", {
            label,
            error: err instanceof Error ? err.message : String(err),
          });
        } finally {
          pending.delete(label);
        }
      }));
    }
    return "done";
  }

  async #forceClose(): Promise<void> {
    for (const [name, step] of this.#deadlineSteps.toReversed()) {
      try {
        await step();
      } catch (err) {
        log.error("deadline step {name} failed: {error}", {
          name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  #exit(code: number): void {
    (this.#options.exit ?? Deno.exit)(code);
  }
}
