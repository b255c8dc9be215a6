/**
 * The API's one error shape, `{ error, requestId, issues? }`, and how refusals are raised: as Hono's
 * `HTTPException`, so any route or middleware throws and the app's one `onError` renders the answer.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { ConceptError, type ConceptErrorKind } from "../concepts/mod.ts";

/** A field the input got wrong. */
export interface FieldIssue {
  /** The field's path, dotted (e.g. `order.2`); `(body)` for the body as a whole. */
  field: string;
  message: string;
}

/** The body of every error answer. */
export interface ErrorBody {
  /** A sentence saying what was wrong. */
  error: string;
  /** The request's `X-Request-Id`, for the logs. */
  requestId?: string;
  issues?: FieldIssue[];
}

/**
 * Each problem zod found, as a field and a sentence; a key the schema does not know is named in full, with
 * `unknownKey` as its message.
 */
export function fieldIssues(error: z.ZodError, unknownKey: string): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const at = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: unknownKey }));
    }
    const message = issue.code === "invalid_key" ? issue.issues[0]?.message ?? issue.message : issue.message;
    return [{ field: at || "(body)", message }];
  });
}

/** What a refusal may carry besides its status and sentence. */
export interface RefusalOptions {
  /** The fields at fault, for a 400. */
  issues?: FieldIssue[];
  /** Headers the answer must carry (`Retry-After`, `WWW-Authenticate`, `Allow`). */
  headers?: Record<string, string>;
}

// The issues ride in `cause`: HTTPException has no field of its own for them.
interface IssuesCause {
  issues: FieldIssue[];
}

/**
 * A refusal as Hono's `HTTPException`: throw it from a route or middleware and `errorHandler()` renders it.
 * Headers travel in the exception's `res`, as Hono's own middleware does it.
 *
 * @example
 * ```ts
 * throw refusal(429, "Too many attempts; try again later.", { headers: { "Retry-After": "30" } });
 * ```
 */
export function refusal(
  status: ContentfulStatusCode,
  message: string,
  options: RefusalOptions = {},
): HTTPException {
  const res = options.headers ? new Response(null, { headers: options.headers }) : undefined;
  const cause: IssuesCause | undefined = options.issues ? { issues: options.issues } : undefined;
  return new HTTPException(status, { message, res, cause });
}

/** The status a domain refusal answers with. */
export const CONCEPT_ERROR_STATUS: Readonly<Record<ConceptErrorKind, ContentfulStatusCode>> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
};

/** The challenge a 401 carries. */
export const BEARER_CHALLENGE = 'Bearer realm="zien"';

/** A concept's domain refusal as the HTTP refusal it answers with. */
export function fromConceptError(err: ConceptError): HTTPException {
  const headers: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.retryAfterSeconds);
  if (err.kind === "unauthorized") headers["WWW-Authenticate"] = BEARER_CHALLENGE;
  return refusal(CONCEPT_ERROR_STATUS[err.kind], err.message, { headers });
}

/** The refusal `err` stands for: an `HTTPException` as it is, a `ConceptError` mapped; otherwise undefined. */
export function asRefusal(err: unknown): HTTPException | undefined {
  if (err instanceof HTTPException) return err;
  if (err instanceof ConceptError) return fromConceptError(err);
  return undefined;
}

/** The one JSON error answer, with the request id. */
export function errorJson(
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  issues?: FieldIssue[],
): Response {
  const body: ErrorBody = { error: message, requestId: c.get("requestId") as string | undefined };
  if (issues) body.issues = issues;
  return c.json(body, status);
}

// Headers a refusal's `res` carries that describe that body, not ours.
const BODY_HEADERS = new Set(["content-type", "content-length"]);

/** Renders an `HTTPException` (ours or one from Hono's middleware) in the one error shape. */
export function renderRefusal(c: Context, err: HTTPException): Response {
  err.res?.headers.forEach((value, name) => {
    if (!BODY_HEADERS.has(name)) c.header(name, value);
  });
  const status = err.status as ContentfulStatusCode;
  const cause = err.cause as Partial<IssuesCause> | undefined;
  const issues = Array.isArray(cause?.issues) ? cause.issues : undefined;
  return errorJson(c, status, err.message || defaultMessage(status), issues);
}

function defaultMessage(status: number): string {
  if (status === 401) return "Authentication is required.";
  if (status === 413) return "The body is too large.";
  return `The request was refused (${status}).`;
}
