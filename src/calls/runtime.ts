/**
 * The calls, wired once per process: the telephony provider, the worker-side CallScheduler, the ticks of the
 * two workers and the webhook routes, all over the shared `Db`; and what to do at shutdown once the workers
 * have stopped (release this instance's leases, then close the provider).
 *
 * @example
 * ```ts
 * const calls = createCallRuntime({ db, concepts, config, instance: appName, callbackBaseUrl: () => base });
 * const workers = createWorkers(config, calls.ticks);
 * startServer({ ..., routes: [conceptRoutes({ concepts }), calls.webhooks] });
 * lifecycle.add("flushers", "calls", () => calls.close());
 * ```
 * @module
 */
import type { Hono } from "hono";
import type { Db } from "mongodb";
import type { Config } from "../config.ts";
import type { Clock, Concepts } from "../concepts/mod.ts";
import { CallQueue, OccurrenceClaims } from "../concepts/CallScheduler/mod.ts";
import { getLogger } from "../log.ts";
import { webhookRoutes } from "../server/webhooks.ts";
import { createTelephonyProvider, type TelephonyDeps, type TelephonyProvider } from "../telephony/mod.ts";
import type { CallEventHook } from "./events.ts";
import type { CallFlowDeps } from "./outcomes.ts";
import { createCallSchedulerTick } from "./place.ts";
import { createCallWindowTick } from "./schedule.ts";
import type { Tick } from "../workers/periodic_worker.ts";

const log = getLogger(["workers", "calls"]);

/** What the call runtime is made from. */
export interface CallRuntimeOptions {
  db: Db;
  concepts: Concepts;
  config: Config;
  /** This instance's appName: lease and claim owner. */
  instance: string;
  /** The base URL callbacks reach: `PUBLIC_BASE_URL`, or this instance's address once it listens. */
  callbackBaseUrl: () => string;
  /** For tests: the simulated provider's outcomes, or a different `fetch`. */
  telephony?: TelephonyDeps;
  /** Where call events go; the `call_events` batch writer plugs in here. */
  onCallEvent?: CallEventHook;
  now?: Clock;
}

/** The wired calls. */
export interface CallRuntime {
  ticks: { callWindow: Tick; callScheduler: Tick };
  webhooks: Hono;
  provider: TelephonyProvider;
  queue: CallQueue;
  /**
   * For the shutdown, after the workers stopped: releases the leases this instance still holds, then closes
   * the provider (the simulated one cancels its pending callbacks). Nothing touches the database afterwards.
   */
  close(): Promise<void>;
}

/** Wires the calls; see the module documentation. */
export function createCallRuntime(options: CallRuntimeOptions): CallRuntime {
  const { config, db, instance } = options;
  const provider = createTelephonyProvider(config.telephony, options.telephony);
  const queue = new CallQueue(db, { now: options.now, leaseMs: config.calls.leaseMs });
  const flow: CallFlowDeps = {
    concepts: options.concepts,
    queue,
    backoff: { baseMs: config.calls.retryBaseMs, maxMs: config.calls.retryMaxMs },
    instance,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onCallEvent ? { onCallEvent: options.onCallEvent } : {}),
  };
  const callWindow = createCallWindowTick({
    ...flow,
    occurrences: new OccurrenceClaims(db, { now: options.now }),
    claimStaleMs: config.calls.leaseMs,
  });
  const callScheduler = createCallSchedulerTick({
    ...flow,
    provider,
    concurrency: config.calls.concurrency,
    callbackBaseUrl: options.callbackBaseUrl,
  });
  const webhooks = webhookRoutes({
    ...flow,
    authToken: config.telephony.twilio.authToken,
    publicBaseUrl: config.telephony.publicBaseUrl,
    callbackBaseUrl: options.callbackBaseUrl,
  });
  let closing: Promise<void> | undefined;
  const close = async () => {
    try {
      const { requeued, released } = await queue.releaseLeases({ owner: instance });
      log.info(
        "released this instance's call leases: {requeued} claim(s) requeued, {released} placed call(s)",
        {
          requeued,
          released,
        },
      );
    } finally {
      await provider.close();
    }
  };
  log.info("calls: {provider} telephony, callbacks to {base}", {
    provider: provider.name,
    base: config.telephony.publicBaseUrl ?? "this instance's address",
  });
  return {
    ticks: { callWindow, callScheduler },
    webhooks,
    provider,
    queue,
    close: () => closing ??= close(),
  };
}
