/**
 * One process, the whole call flow: a devdb, the concepts, the call runtime with the simulated provider, its
 * webhook routes on a loopback server, and the two periodic workers at short intervals.
 *
 * @module
 */
import { Hono } from "hono";
import { loadConfig } from "../../src/config.ts";
import { type Concepts, createConcepts, ensureConceptIndexes } from "../../src/concepts/mod.ts";
import type { OutcomePlan } from "../../src/telephony/mod.ts";
import { type CallEvent, type CallRuntime, createCallRuntime } from "../../src/calls/mod.ts";
import { webhookRoutes } from "../../src/server/mod.ts";
import { createWorkers, type PeriodicWorker } from "../../src/workers/mod.ts";
import { type TestDb, testDb } from "../helpers/db.ts";

/** Settings short enough for a test; each can be overridden. */
export const FAST_CALLS: Record<string, string> = {
  CALL_WINDOW_INTERVAL_MS: "150",
  CALL_SCHEDULER_INTERVAL_MS: "100",
  CALL_LEASE_MS: "5000",
  CALL_RETRY_BASE_MS: "50",
  CALL_RETRY_MAX_MS: "200",
  TELEPHONY_SIM_RING_MS: "10",
};

/** What a test gets: the database fixture and the call flow over it. */
export interface CallHarness extends Omit<TestDb, "server"> {
  /** The devdb (the fixture's `server`; here `server` would read as the webhook server). */
  devdb: TestDb["server"];
  concepts: Concepts;
  runtime: CallRuntime;
  workers: PeriodicWorker[];
  /** Every call event, in order. */
  events: CallEvent[];
  baseUrl: string;
  /** Starts both workers. */
  start(): void;
  /** Stops the workers, releases leases and closes the provider, the server, the client and the devdb. */
  close(): Promise<void>;
}

/** Opens the harness; `outcome` plans the simulated provider's answers. */
export async function openCallHarness(
  options: { env?: Record<string, string>; outcome?: OutcomePlan; instance?: string } = {},
): Promise<CallHarness> {
  const fixture = await testDb({ dbName: "zien_calls_test" });
  const { db } = fixture;
  const concepts = createConcepts(db, { tokenCacheMs: 0 });
  await ensureConceptIndexes(concepts);
  const config = loadConfig({ ...FAST_CALLS, ...options.env }, { isTerminal: false });
  const events: CallEvent[] = [];
  let baseUrl = "";
  const runtime = createCallRuntime({
    db,
    concepts,
    config,
    instance: options.instance ?? "zien-backend:test:1",
    callbackBaseUrl: () => baseUrl,
    telephony: options.outcome === undefined ? {} : { simulatedOutcome: options.outcome },
    onCallEvent: (event) => events.push(event),
  });
  const app = new Hono();
  app.route("/", webhookRoutes(runtime.webhooks));
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr as Deno.NetAddr) },
    app.fetch,
  );
  baseUrl = `http://127.0.0.1:${(await listening.promise).port}`;
  const workers = createWorkers(config, runtime);
  const close = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await runtime.close();
    await server.shutdown();
    await fixture.close();
  };
  return {
    devdb: fixture.server,
    client: fixture.client,
    db,
    concepts,
    runtime,
    workers,
    events,
    baseUrl,
    start: () => workers.forEach((w) => w.start()),
    close,
    [Symbol.asyncDispose]: close,
  };
}
