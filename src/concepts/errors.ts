/**
 * The one error type concepts throw for domain refusals, and helpers for recognising database errors that
 * are refusals in disguise.
 *
 * @module
 */

/**
 * Why a concept refused an action. The HTTP layer maps each kind to a status: `invalid` 400, `unauthorized`
 * 401, `not_found` 404, `conflict` 409, `rate_limited` 429.
 */
export type ConceptErrorKind = "invalid" | "unauthorized" | "not_found" | "conflict" | "rate_limited";

/** Extra facts a refusal may carry. */
export interface ConceptErrorDetails {
  /** For `rate_limited`: how long the caller should wait before trying again. */
  retryAfterSeconds?: number;
}

/**
 * A domain refusal: the request was understood and refused for a reason the caller can act on. The message is
 * a sentence meant for the person using the app, so it must never carry secrets or internals.
 *
 * @example
 * ```ts
 * throw new ConceptError("conflict", "That window overlaps your 09:00-10:00 window on Monday.");
 * ```
 */
export class ConceptError extends Error {
  /** Why the action was refused. */
  readonly kind: ConceptErrorKind;
  /** For `rate_limited`: seconds until a retry may succeed. */
  readonly retryAfterSeconds?: number;

  constructor(kind: ConceptErrorKind, message: string, details: ConceptErrorDetails = {}) {
    super(message);
    this.name = "ConceptError";
    this.kind = kind;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/**
 * Whether `err` is MongoDB's duplicate-key error (code 11000), optionally on the named index. Concepts use it
 * to turn a unique index's verdict into a `conflict`, so the database, not a read before the write, decides.
 */
export function isDuplicateKeyError(err: unknown, indexName?: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || e.code !== 11000) return false;
  if (indexName === undefined) return true;
  return typeof e.message === "string" && e.message.includes(indexName);
}
