/**
 * Admission: at most `limit` requests inside the app at once; the rest wait in a plain FIFO before any of
 * the app's per-request work (context, log context, driver wait-queue entry) is made. With a pool of 10 and
 * 1,000 clients, 990 requests otherwise each hold all of that while they wait for a connection, and garbage
 * collection took twice its share of the CPU (`scripts/bench/README.md`, runtime). A request that waits
 * longer than `timeoutMs` is answered 503 with `Retry-After`, as a pool checkout timeout is. Health probes and
 * metrics scrapes are never queued: they must see the process, however busy.
 *
 * @example
 * ```ts
 * const admission = new Admission({ limit: 64, timeoutMs: 5_000 });
 * if (!(await admission.enter(request))) return admission.refusal();
 * try { return await app.fetch(request); } finally { admission.leave(request); }
 * ```
 *
 * @module
 */

/** How many requests may be inside the app at once, and how long the others may wait. */
export interface AdmissionOptions {
  /** 0 turns admission off: every request goes straight in. */
  limit: number;
  /** How long a request may wait; 0 waits as long as it takes, as the driver's waitQueueTimeoutMS 0 does. */
  timeoutMs: number;
}

interface Waiter {
  admit(): void;
}

// Probes and scrapes are answered whatever the load: `/health/live`, `/health/ready` and `/metrics`.
const NEVER_QUEUED = /^https?:\/\/[^/]+\/(health\/|metrics(\?|$))/;

/** The gate in front of the app; see the module's description. */
export class Admission {
  readonly #limit: number;
  readonly #timeoutMs: number;
  readonly #waiting: Waiter[] = [];
  readonly #bypassed = new WeakSet<Request>();
  #inside = 0;
  #refused = 0;

  constructor(options: AdmissionOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 0) {
      throw new RangeError(`admission limit must be a whole number >= 0, got ${options.limit}`);
    }
    this.#limit = options.limit;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Requests inside the app now (admitted and not yet left). */
  get inside(): number {
    return this.#inside;
  }

  /** Requests waiting to be admitted. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Requests that waited past the timeout since start (each answered `refusal()`). */
  get refused(): number {
    return this.#refused;
  }

  /** Resolves true once `request` may go in, or false when it waited past the timeout (answer `refusal()`). */
  enter(request: Request): Promise<boolean> {
    if (this.#limit === 0 || NEVER_QUEUED.test(request.url)) {
      this.#bypassed.add(request);
      return Promise.resolve(true);
    }
    if (this.#inside < this.#limit) {
      this.#inside++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer);
          this.#inside++;
          resolve(true);
        },
      };
      const timer = this.#timeoutMs > 0
        ? setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          this.#refused++;
          resolve(false);
        }, this.#timeoutMs)
        : undefined;
      this.#waiting.push(waiter);
    });
  }

  /** Call once for every request `enter` admitted: the next waiter goes in. */
  leave(request: Request): void {
    if (this.#bypassed.has(request)) return;
    this.#inside--;
    this.#waiting.shift()?.admit();
  }

  /** The answer for a request that waited too long: the app's one error shape, 503 with Retry-After. */
  refusal(): Response {
    const requestId = crypto.randomUUID();
    return Response.json(
      { error: "The server is busy; retry shortly.", requestId },
      { status: 503, headers: { "Retry-After": "1", "X-Request-Id": requestId } },
    );
  }
}
