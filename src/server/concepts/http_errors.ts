/**
 * The API's error answers: one JSON shape, `{ error, requestId, issues? }`, and the status for each refusal.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ConceptErrorKind } from "../../concepts/errors.ts";

/** A field the input got wrong. */
export interface FieldIssue {
  /** The field's path, dotted (e.g. `order.2`); `(body)` for the body as a whole. */
  field: string;
  message: string;
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

/** A refusal made before an action runs (bad body, unknown route, missing token). */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly issues?: FieldIssue[];
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    message: string,
    options: { issues?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.issues = options.issues;
    this.headers = options.headers ?? {};
  }
}

/** The status a domain refusal answers with. */
export const CONCEPT_ERROR_STATUS: Readonly<Record<ConceptErrorKind, ContentfulStatusCode>> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
};

/** The JSON answer for a refusal, carrying the request id. */
export function errorResponse(c: Context, err: ApiError): Response {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  const requestId = c.get("requestId") as string | undefined;
  const body: { error: string; requestId?: string; issues?: FieldIssue[] } = {
    error: err.message,
    requestId,
  };
  if (err.issues) body.issues = err.issues;
  return c.json(body, err.status);
}
