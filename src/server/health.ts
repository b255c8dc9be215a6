/**
 * Health routes: liveness, readiness, and the admin view of the connections.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { getLogger } from "../log.ts";
import { requireAdmin } from "./auth.ts";
import { refusal } from "./errors.ts";

const log = getLogger(["health"]);

/** The admin report of `GET /api/health/connections`. */
export interface ConnectionsReport {
  stats: { pool: unknown; server: unknown; tenants: unknown; budget: unknown; [more: string]: unknown };
  recentMetrics: unknown[];
  warnings: unknown[];
}

/** What the health routes read. */
export interface HealthSources {
  isShuttingDown(): boolean;
  /** Resolves when the database answers a ping within `timeoutMs`; rejects otherwise. */
  pingDb(timeoutMs: number): Promise<void>;
  connectionsReport(): Promise<ConnectionsReport>;
  adminToken: string;
}

const actionBody = z.object({ action: z.string() });

/** Readiness waits this long for a ping before answering 503. */
export const READY_PING_TIMEOUT_MS = 1_000;

/**
 * `GET /health/live`, `GET /health/ready`, and the admin-only `GET|POST /api/health/connections`.
 *
 * @example
 * ```ts
 * app.route("/", healthRoutes(sources));
 * ```
 */
export function healthRoutes(sources: HealthSources): Hono {
  const app = new Hono();
  app.get("/health/live", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", async (c) => {
    if (sources.isShuttingDown()) return c.json({ status: "unavailable", reason: "shutting down" }, 503);
    try {
      await sources.pingDb(READY_PING_TIMEOUT_MS);
      return c.json({ status: "ok" });
    } catch (err) {
      const reason = err instanceof Error ? err.name : "ping failed";
      return c.json({ status: "unavailable", reason: `database ping failed (${reason})` }, 503);
    }
  });

  const admin = requireAdmin(sources.adminToken);
  app.get("/api/health/connections", admin, async (c) => {
    const report = await sources.connectionsReport();
    return c.json({ success: true, timestamp: new Date().toISOString(), ...report });
  });
  app.post("/api/health/connections", admin, async (c) => {
    const body = actionBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      throw refusal(400, 'Expected a JSON body {"action": "details"}.');
    }
    if (body.data.action !== "details") {
      throw refusal(400, `Unknown action ${JSON.stringify(body.data.action)}; the one action is "details".`);
    }
    const report = await sources.connectionsReport();
    log.info("connection details: {report}", { report });
    return c.json({ success: true, timestamp: new Date().toISOString(), action: "details", ...report });
  });
  return app;
}
