/**
 * Reading an action's body: JSON only, already size-checked by `bodyLimit`, free of operator keys, and
 * valid against the action's schema. Each failure is a `refusal` (Hono's `HTTPException`) that names what
 * was wrong.
 *
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import { fieldIssues, refusal } from "../errors.ts";
import { findUnsafeKey } from "./injection.ts";

/** The largest body an action accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Whether a Content-Type header declares JSON (`application/json`, `application/x+json`, with parameters). */
export function isJsonType(contentType: string | undefined): boolean {
  return JSON_TYPE.test(contentType ?? "");
}

/** Refuses (415) a body declared as anything but JSON. A missing Content-Type is judged once the body is read. */
export function checkContentType(c: Context): void {
  const type = c.req.header("content-type");
  if (type !== undefined && !isJsonType(type)) {
    throw refusal(415, "Send the body as JSON (Content-Type: application/json).");
  }
}

/** The body parsed as JSON; an empty body counts as `{}`. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  if (c.req.header("content-type") === undefined) {
    throw refusal(415, "Send the body as JSON (Content-Type: application/json).");
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the body, which may hold a password: say only what kind of error it is.
    throw refusal(400, "The request body is not valid JSON.");
  }
}

const UNSAFE_KEY = "field names may not start with '$' or contain '.' or the NUL character";

/** Refuses (400) any key that starts with `$` or contains `.` or NUL, wherever it is. */
export function refuseOperatorKeys(body: unknown): void {
  const unsafe = findUnsafeKey(body);
  if (unsafe) {
    const shown = unsafe.path.replaceAll("\0", "\\0");
    throw refusal(400, `Field names may not start with '$' or contain '.' or NUL: ${shown}`, {
      issues: [{ field: unsafe.path, message: UNSAFE_KEY }],
    });
  }
}

/**
 * The body validated by `schema`, or a 400 naming every field that is wrong. A body that is not a JSON
 * object (`null`, an array, a number) is refused before the schema sees it, so no refinement ever runs on it.
 */
export function validate<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    const kind = body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`;
    throw refusal(400, `The body must be a JSON object, not ${kind}.`, {
      issues: [{ field: "(body)", message: "must be a JSON object" }],
    });
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = fieldIssues(result.error, "is not a field of this action");
  throw refusal(400, `Invalid input: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`, {
    issues,
  });
}
