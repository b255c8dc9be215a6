/**
 * `POST /api/analytics/track`: a client-side analytics event (a name and a few flat properties),
 * validated, size-limited, and handed to a batch writer. The answer is 202: accepted, written later.
 *
 * @example
 * ```ts
 * const analytics = new BatchWriter<AnalyticsEvent>(db.collection("analytics_events"), {
 *   name: "analytics_events",
 * });
 * app.route("/", analyticsRoutes(analytics));
 * ```
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { getLogger } from "../log.ts";
import { addEvent, type EventSink } from "./usage.ts";
import { isJsonType } from "./concepts/body.ts";
import { optionalUser, type OptionalUserEnv, type TokenAuthenticator } from "./auth.ts";
import { fieldIssues, refusal } from "./errors.ts";
import type { RequestVariables } from "./request_context.ts";

const log = getLogger(["http", "analytics"]);

/** The largest body accepted, bytes. */
export const MAX_TRACK_BODY_BYTES = 8 * 1024;
/** The most properties an event may carry. */
export const MAX_PROPERTIES = 50;

/** A property value: flat, so the events stay cheap to store and to query. */
export type PropertyValue = string | number | boolean | null;

/** One analytics event, as stored in `analytics_events`. */
export type AnalyticsEvent = {
  name: string;
  properties: Record<string, PropertyValue>;
  /** The person, from the bearer token when the request carried one (`c.var.user`), never from the body. */
  user?: string;
  at: Date;
};

const propertyKey = z.string()
  .min(1, "property names may not be empty")
  .max(100, "property names are at most 100 characters")
  .refine((key) => !key.startsWith("$"), "property names may not start with '$'")
  .refine((key) => !key.includes("."), "property names may not contain '.'")
  // The database cannot store a field name holding NUL: refuse it here rather than fail at the writer.
  .refine((key) => !key.includes("\0"), "property names may not contain the NUL character");

const propertyValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "must be a string, a number, a boolean or null",
});

/** The body of `POST /api/analytics/track`. Unknown fields (a `user`, say) are refused. */
export const trackBody = z.strictObject({
  name: z.string({ error: "is required, as a string" })
    .min(1, "may not be empty")
    .max(100, "is at most 100 characters")
    .regex(/^[A-Za-z0-9_.:-]+$/, "may contain only letters, digits and _ . : -"),
  properties: z.record(propertyKey, propertyValue, { error: "must be an object" })
    .refine((properties) => Object.keys(properties).length <= MAX_PROPERTIES, {
      error: `at most ${MAX_PROPERTIES} properties`,
    })
    .optional(),
});

/** What the routes read from the context: the person (when a token came) and the request id. */
export type AnalyticsEnv = { Variables: Partial<RequestVariables> & OptionalUserEnv["Variables"] };

/**
 * The analytics routes: `POST /api/analytics/track` with `{ name, properties? }` answers 202
 * `{ accepted: true }` once the event is in the writer's buffer. Refusals, each naming what was wrong and
 * writing nothing: 415 for a body that is not JSON, 413 past 8 KiB, 400 for malformed JSON or an invalid
 * field, 401 for an `Authorization` header without a valid token, 503 with Retry-After while shutting down
 * or while the writer has no room left (memory and disk). With a valid bearer token (checked by `users`),
 * the event carries the person.
 */
export function analyticsRoutes(
  writer: EventSink<AnalyticsEvent>,
  users?: TokenAuthenticator,
): Hono<AnalyticsEnv> {
  const app = new Hono<AnalyticsEnv>();
  app.post(
    "/api/analytics/track",
    users ? optionalUser(users) : async (_c, next) => await next(),
    async (c, next) => {
      if (!isJsonType(c.req.header("content-type"))) {
        throw refusal(415, "Send the event as JSON (Content-Type: application/json).");
      }
      await next();
    },
    bodyLimit({
      maxSize: MAX_TRACK_BODY_BYTES,
      onError: () => {
        throw refusal(413, `The event is larger than ${MAX_TRACK_BODY_BYTES} bytes.`);
      },
    }),
    async (c) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        // The parser's message quotes the body: say only what kind of error it is.
        throw refusal(400, "The request body is not valid JSON.");
      }
      const parsed = trackBody.safeParse(body);
      if (!parsed.success) {
        const issues = fieldIssues(parsed.error, "is not a field of an event");
        const summary = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
        throw refusal(400, `Invalid event: ${summary}`, { issues });
      }
      const event: AnalyticsEvent = {
        name: parsed.data.name,
        properties: parsed.data.properties ?? {},
        at: new Date(),
      };
      const user = c.get("user");
      if (user !== undefined) event.user = user;
      const accepted = await addEvent(
        writer,
        event,
        (error) => log.warn("analytics event {name} not accepted: {error}", { name: event.name, error }),
      );
      if (!accepted) {
        throw refusal(503, "Events are not being accepted right now; retry shortly.", {
          headers: { "Retry-After": "1" },
        });
      }
      return c.json({ accepted: true }, 202);
    },
  );
  return app;
}
