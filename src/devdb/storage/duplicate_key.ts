/**
 * The duplicate-key error as mongod words it.
 *
 * @module
 */
import { EJSON } from "bson";
import { CommandError } from "../errors.ts";

/** A value as mongod prints it in error messages. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  const tag = (value as { _bsontype?: string })._bsontype;
  if (tag === "ObjectId") return `ObjectId('${String(value)}')`;
  return EJSON.stringify(value as never);
}

/**
 * A DuplicateKey (11000) error for index `indexName` of `db.collection`, with `keyPattern` and `keyValue`.
 */
export function duplicateKeyError(
  namespace: string,
  indexName: string,
  keyPattern: Record<string, unknown>,
  values: unknown[],
): CommandError {
  const fields = Object.keys(keyPattern);
  const keyValue: Record<string, unknown> = {};
  fields.forEach((field, i) => keyValue[field] = values[i] ?? null);
  const shown = fields.map((field, i) => `${field}: ${formatValue(values[i])}`).join(", ");
  return new CommandError(
    "DuplicateKey",
    `E11000 duplicate key error collection: ${namespace} index: ${indexName} dup key: { ${shown} }`,
    { keyPattern, keyValue },
  );
}
