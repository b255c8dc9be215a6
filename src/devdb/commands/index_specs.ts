/**
 * Index specs from createIndexes requests, refused where mongod 8.0 refuses them or where the devdb would
 * only pretend (text, geo and collation indexes).
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { isPlainObject } from "../storage/keys.ts";
import type { IndexSpec } from "../storage/secondary_index.ts";

// mongod 8.0 allows these in a partialFilterExpression, and nothing else.
const PARTIAL_OPERATORS = new Set(["$eq", "$gt", "$gte", "$lt", "$lte", "$exists", "$type", "$in"]);

function defaultIndexName(key: Document): string {
  return Object.entries(key).map(([field, direction]) => `${field}_${direction}`).join("_");
}

/** The spec a createIndexes request stores; CannotCreateIndex (67) for what mongod or the devdb refuses. */
export function indexSpecOf(request: Document): IndexSpec {
  const key = request.key as Document | undefined;
  if (!key || typeof key !== "object" || Object.keys(key).length === 0) {
    throw new CommandError("CannotCreateIndex", "Index keys cannot be empty.");
  }
  const name = typeof request.name === "string" ? request.name : defaultIndexName(key);
  for (const direction of Object.values(key)) {
    if (typeof direction === "string" && direction !== "hashed") {
      throw new CommandError(
        "CannotCreateIndex",
        `Error in specification ${
          JSON.stringify({ key, name })
        } :: caused by :: ${direction} indexes are not supported by the devdb (embedded server)`,
      );
    }
  }
  if (request.collation !== undefined && (request.collation as Document)?.locale !== "simple") {
    throw new CommandError(
      "CannotCreateIndex",
      `Error in specification ${
        JSON.stringify({ key, name })
      } :: caused by :: indexes with a collation are not supported by the devdb (embedded server)`,
    );
  }
  if (request.partialFilterExpression !== undefined) {
    if (!isPlainObject(request.partialFilterExpression)) {
      throw new CommandError("TypeMismatch", "The field 'partialFilterExpression' must be an object");
    }
    const unsupported = unsupportedInPartial(request.partialFilterExpression, 0);
    if (unsupported) {
      throw new CommandError(
        "CannotCreateIndex",
        `Error in specification ${
          JSON.stringify({ key, name })
        } :: caused by :: Expression not supported in partial index: ${unsupported}`,
      );
    }
  }
  const { v: _v, key: _key, name: _name, ns: _ns, background: _background, ...options } = request;
  return { v: 2, key: key as IndexSpec["key"], name, ...options };
}

// The first part of a partial filter mongod refuses, or undefined when it takes all of it.
function unsupportedInPartial(filter: Document, depth: number): string | undefined {
  for (const [field, condition] of Object.entries(filter)) {
    if (field === "$and" || field === "$or") {
      if (!Array.isArray(condition)) return field;
      // mongod allows `$or` only at the top level and `$and` within it.
      if (field === "$or" && depth > 0) return "$or";
      for (const part of condition) {
        if (!isPlainObject(part)) return field;
        const inner = unsupportedInPartial(part, depth + 1);
        if (inner) return inner;
      }
      continue;
    }
    if (field.startsWith("$")) return field;
    if (condition instanceof RegExp) return `${field} regex`;
    if (!isPlainObject(condition) || !Object.keys(condition).some((op) => op.startsWith("$"))) continue;
    for (const [operator, value] of Object.entries(condition)) {
      if (!PARTIAL_OPERATORS.has(operator)) return `${field} ${operator}`;
      if (operator === "$exists" && value !== true) return `${field} $exists: ${String(value)}`;
    }
  }
  return undefined;
}
