/**
 * The API document's entries for the routes outside the concept API: stats, analytics, health, metrics,
 * the admin report, the telephony webhooks and the document itself. (The dashboard is a page for people,
 * not an API, and is left out.)
 *
 * @module
 */
import { z } from "zod";
import { trackBody } from "../analytics.ts";
import { StatsAnswer } from "../stats.ts";
import type { JsonObject, SchemaComponents } from "./openapi_schema.ts";

/** The one error shape every JSON refusal has. */
export const ErrorBody = z.object({
  error: z.string().describe("A sentence saying what was wrong."),
  requestId: z.string().optional().describe("The X-Request-Id of the request, for the logs."),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional()
    .describe("Each field the input got wrong."),
}).meta({ id: "Error" });

const Status = z.object({ status: z.literal("ok") });
const Unavailable = z.object({ status: z.literal("unavailable"), reason: z.string() });
const ConnectionsReport = z.object({
  success: z.literal(true),
  timestamp: z.iso.datetime(),
  action: z.literal("details").optional(),
  stats: z.object({
    pool: z.record(z.string(), z.unknown()).describe("The live pool figures (in use, idle, waiting, ...)."),
    server: z.unknown().describe(
      "The server's view of our connections by appName; null before the first read.",
    ),
    tenants: z.unknown(),
    budget: z.record(z.string(), z.unknown()).describe("The connection budget against DB_CONNECTION_LIMIT."),
    workers: z.array(z.record(z.string(), z.unknown())),
  }).catchall(z.unknown()).describe("Also the batch writers, the stats cache, command latencies, dashboard."),
  recentMetrics: z.array(z.record(z.string(), z.unknown())).describe("Pool samples, one per 10 s."),
  warnings: z.array(z.record(z.string(), z.unknown())).describe("The pool warnings active now."),
}).meta({ id: "ConnectionsReport" });

type Op = JsonObject & { responses: JsonObject };

const text = (description: string, type = "text/plain") => ({
  description,
  content: { [type]: { schema: { type: "string" } } },
});

/** The operations of these routes, keyed by path and method. */
export function otherRoutes(
  schemas: SchemaComponents,
  errors: (codes: number[]) => JsonObject,
): Record<string, Record<string, Op>> {
  const json = (description: string, schema: z.ZodType) => ({
    description,
    content: { "application/json": { schema: schemas.convert(schema, "output") } },
  });
  const body = (schema: z.ZodType) => ({
    required: true,
    content: { "application/json": { schema: schemas.convert(schema, "input") } },
  });
  const form = (properties: Record<string, string>, required: string[]) => ({
    required: true,
    content: {
      "application/x-www-form-urlencoded": {
        schema: {
          type: "object",
          required,
          properties: Object.fromEntries(
            Object.entries(properties).map(([name, description]) => [name, { type: "string", description }]),
          ),
        },
      },
    },
  });
  const webhook = (summary: string, ok: JsonObject, id: string): Op => ({
    operationId: id,
    summary,
    tags: ["Webhooks"],
    security: [],
    parameters: [{ name: "callId", in: "query", required: true, schema: { type: "string" } }],
    requestBody: form(
      { CallSid: "The provider's call id.", CallStatus: "The call's status (status only)." },
      [
        "CallSid",
      ],
    ),
    responses: {
      ...ok,
      400: text("A callback missing its fields."),
      403: text("A missing or forged X-Twilio-Signature."),
      ...errors([500, 503]),
    },
  });
  return {
    "/api/stats": {
      get: {
        operationId: "getStats",
        summary: "Your figures and the platform totals (cached; fresh after your own changes).",
        tags: ["Stats"],
        security: [{ bearer: [] }],
        responses: { 200: json("Your figures and the platform's.", StatsAnswer), ...errors([401, 500, 503]) },
      },
    },
    "/api/analytics/track": {
      post: {
        operationId: "trackEvent",
        summary: "Record one analytics event; accepted once it is buffered.",
        tags: ["Analytics"],
        security: [{}, { bearer: [] }],
        requestBody: body(trackBody),
        responses: {
          202: json("Accepted.", z.object({ accepted: z.literal(true) })),
          ...errors([400, 413, 415, 500, 503]),
        },
      },
    },
    "/health/live": {
      get: {
        operationId: "live",
        summary: "Liveness: the process answers.",
        tags: ["Health"],
        security: [],
        responses: { 200: json("Alive.", Status), ...errors([404, 500]) },
      },
    },
    "/health/ready": {
      get: {
        operationId: "ready",
        summary: "Readiness: the database answers a ping within a second and no shutdown is under way.",
        tags: ["Health"],
        security: [],
        responses: {
          200: json("Ready.", Status),
          ...errors([404]),
          503: json("Not ready, with the reason.", Unavailable),
        },
      },
    },
    "/api/health/connections": {
      get: {
        operationId: "connectionsReport",
        summary: "The admin report: pool, server view, budget, workers, batch writers, caches, warnings.",
        tags: ["Admin"],
        security: [{ admin: [] }],
        responses: { 200: json("The report.", ConnectionsReport), ...errors([401, 500]) },
      },
      post: {
        operationId: "connectionsDetails",
        summary: "The same report, also written to the log.",
        tags: ["Admin"],
        security: [{ admin: [] }],
        requestBody: body(z.object({ action: z.literal("details") })),
        responses: { 200: json("The report.", ConnectionsReport), ...errors([400, 401, 500]) },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics (behind METRICS_TOKEN when it is set).",
        tags: ["Metrics"],
        security: [{}, { metrics: [] }],
        responses: {
          200: text("The metrics, in the Prometheus text format.", "text/plain; version=0.0.4"),
          401: text("No token, or the wrong one."),
        },
      },
    },
    "/webhooks/telephony/status": {
      post: webhook(
        "A call's status from the telephony provider.",
        { 204: { description: "Recorded." } },
        "callStatus",
      ),
    },
    "/webhooks/telephony/transcript": {
      post: webhook("The speech for one prompt; answers the next prompt's TwiML.", {
        200: text("TwiML: the next prompt, or a goodbye.", "application/xml"),
      }, "callTranscript"),
    },
    "/webhooks/telephony/voice": {
      post: webhook("The person picked up; answers the first prompt's TwiML.", {
        200: text("TwiML: the first prompt, or a hang-up.", "application/xml"),
      }, "callVoice"),
    },
    "/api/openapi.json": {
      get: {
        operationId: "openApi",
        summary: "This document.",
        tags: ["Docs"],
        security: [],
        responses: {
          200: json("The OpenAPI 3.1 document.", z.record(z.string(), z.unknown())),
          ...errors([404, 500]),
        },
      },
    },
    "/docs": {
      get: {
        operationId: "docs",
        summary: "The API reference, rendered from this document.",
        tags: ["Docs"],
        security: [],
        responses: { 200: text("The reference page.", "text/html"), ...errors([404, 500]) },
      },
    },
  };
}
