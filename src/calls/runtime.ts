/**
 * The calls, wired once per process over the shared `Db`: the telephony provider, the worker side of
 * CallScheduler, what the two ticks and the webhook adapter hand their work to, and what to do at shutdown
 * once the workers have stopped (release this instance's leases, then close the provider).
 *
 * @example
 * ```ts
 * const calls = createCallRuntime({ db, concepts, config, instance: appName, callbackBaseUrl: () => base });
 * const workers = createWorkers(config, calls);
 * startServer({ ..., routes: [conceptRoutes({ concepts }), webhookRoutes(calls.webhooks)] });
 * lifecycle.add("workers", "calls", async () => { await stopAll(workers); await calls.close(); });
 * ```
 * @module
 */
import type { Db } from "mongodb";
import type { Config } from "../config.ts";
import type { Clock, Concepts } from "../concepts/mod.ts";
import { CallQueue, OccurrenceClaims } from "../concepts/CallScheduler/mod.ts";
import { getLogger } from "../log.ts";
import { createTelephonyProvider, type TelephonyDeps, type TelephonyProvider } from "../telephony/mod.ts";
import type { CallEventHook } from "./events.ts";
import { HeldLeases } from "./leases.ts";
import type { CallFlowDeps } from "./outcomes.ts";
import type { PlacementDeps } from "./place.ts";
import type { SchedulingDeps } from "./schedule.ts";

const log = getLogger(["calls"]);

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

/** What the webhook adapter needs: the call flow, and how to check and answer the provider's requests. */
export interface CallWebhooks {
  flow: CallFlowDeps;
  /** When set, every request must be signed with it (`TWILIO_AUTH_TOKEN`). */
  authToken?: string;
  /** The base URL Twilio signed (`PUBLIC_BASE_URL`); unset, the URL the request arrived at. */
  publicBaseUrl?: string;
  /** Where the TwiML sends the next transcript: the base the calls were placed with. */
  callbackBaseUrl: () => string;
}

/** The wired calls. */
export interface CallRuntime {
  /** What the call-window tick schedules with. */
  scheduling: SchedulingDeps;
  /** What the call-scheduler tick places with. */
  placement: PlacementDeps;
  /** What `webhookRoutes` answers the provider with. */
  webhooks: CallWebhooks;
  provider: TelephonyProvider;
  queue: CallQueue;
  /** The call leases this instance holds now: the call-scheduler worker's `leasesHeld`. */
  leases: HeldLeases;
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
  const leases = new HeldLeases({ now: options.now, leaseMs: config.calls.leaseMs });
  const flow: CallFlowDeps = {
    concepts: options.concepts,
    queue,
    leases,
    backoff: { baseMs: config.calls.retryBaseMs, maxMs: config.calls.retryMaxMs },
    instance,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onCallEvent ? { onCallEvent: options.onCallEvent } : {}),
  };
  let closing: Promise<void> | undefined;
  const close = async () => {
    try {
      const { requeued, released } = await queue.releaseLeases({ owner: instance });
      leases.releasedAll();
      log.info(
        "released this instance's call leases: {requeued} claim(s) requeued, {released} placed call(s)",
        { requeued, released },
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
    scheduling: {
      ...flow,
      occurrences: new OccurrenceClaims(db, { now: options.now }),
      claimStaleMs: config.calls.leaseMs,
    },
    placement: {
      ...flow,
      provider,
      concurrency: config.calls.concurrency,
      callbackBaseUrl: options.callbackBaseUrl,
    },
    webhooks: {
      flow,
      authToken: config.telephony.twilio.authToken,
      publicBaseUrl: config.telephony.publicBaseUrl,
      callbackBaseUrl: options.callbackBaseUrl,
    },
    provider,
    queue,
    leases,
    close: () => closing ??= close(),
  };
}
