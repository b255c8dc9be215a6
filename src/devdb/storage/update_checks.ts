/**
 * The checks mongod makes on an operator update that mingo does not: conflicting paths, unused or missing
 * array filters (before any document is read), and operands of the wrong type (per document).
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { formatValue } from "./duplicate_key.ts";
import { bsonTypeOf } from "./json_schema.ts";
import { isPlainObject } from "./keys.ts";
import { numericValue } from "./mingo_context.ts";

const IDENTIFIER = /^\$\[([a-z][a-zA-Z0-9]*)?\]$/;

/** ConflictingUpdateOperators, FailedToParse or BadValue when an operator update cannot be applied at all. */
export function checkUpdate(update: unknown, arrayFilters: unknown): void {
  if (Array.isArray(update)) {
    if (arrayFilters !== undefined) {
      throw new CommandError("FailedToParse", "arrayFilters may not be specified for pipeline-style updates");
    }
    return;
  }
  if (!isPlainObject(update) || !Object.keys(update)[0]?.startsWith("$")) return;
  const paths: string[] = [];
  for (const [operator, fields] of Object.entries(update)) {
    if (!isPlainObject(fields)) continue;
    for (const [path, value] of Object.entries(fields)) {
      paths.push(path);
      if (operator === "$rename" && typeof value === "string") paths.push(value);
    }
  }
  checkConflicts(paths);
  checkArrayFilters(paths, arrayFilters, update);
}

function checkConflicts(paths: string[]): void {
  const split = paths.map((path) => path.split("."));
  for (let i = 0; i < split.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = split[i].length <= split[j].length ? [split[i], split[j]] : [split[j], split[i]];
      if (a.every((part, k) => part === b[k])) {
        throw new CommandError(
          "ConflictingUpdateOperators",
          `Updating the path '${paths[i]}' would create a conflict at '${a.join(".")}'`,
        );
      }
    }
  }
}

function checkArrayFilters(paths: string[], arrayFilters: unknown, update: Document): void {
  const used = new Set<string>();
  for (const path of paths) {
    for (const part of path.split(".")) {
      const identifier = IDENTIFIER.exec(part)?.[1];
      if (identifier) used.add(identifier);
    }
  }
  const filters = arrayFilters === undefined || arrayFilters === null ? [] : arrayFilters;
  if (!Array.isArray(filters)) {
    throw new CommandError(
      "TypeMismatch",
      "BSON field 'arrayFilters' is the wrong type, expected type 'array'",
    );
  }
  const given = new Set<string>();
  for (const filter of filters) {
    if (!isPlainObject(filter) || Object.keys(filter).length === 0) {
      throw new CommandError(
        "FailedToParse",
        "Cannot use an expression without a top-level field name in arrayFilters",
      );
    }
    const identifiers = new Set(Object.keys(filter).map((field) => field.split(".")[0]));
    if (identifiers.size > 1) {
      throw new CommandError(
        "FailedToParse",
        `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${
          [...identifiers][0]
        }' and '${[...identifiers][1]}'`,
      );
    }
    const [identifier] = identifiers;
    if (given.has(identifier)) {
      throw new CommandError(
        "FailedToParse",
        `Found multiple array filters with the same top-level field name ${identifier}`,
      );
    }
    given.add(identifier);
    if (!used.has(identifier)) {
      throw new CommandError(
        "FailedToParse",
        `The array filter for identifier '${identifier}' was not used in the update ${formatValue(update)}`,
      );
    }
  }
  for (const identifier of used) {
    if (!given.has(identifier)) {
      const path = paths.find((p) => p.includes(`$[${identifier}]`));
      throw new CommandError(
        "BadValue",
        `No array filter found for identifier '${identifier}' in path '${path}'`,
      );
    }
  }
}

const NUMERIC_OPERATORS = new Set(["$inc", "$mul"]);
const ARRAY_OPERATORS = new Set(["$push", "$addToSet", "$pull", "$pullAll", "$pop"]);

/** TypeMismatch or BadValue when an operator meets a stored value (or an operand) of the wrong type. */
export function checkOperands(doc: Document, modifier: Document): void {
  for (const [operator, fields] of Object.entries(modifier)) {
    if (!NUMERIC_OPERATORS.has(operator) && !ARRAY_OPERATORS.has(operator)) continue;
    for (const [path, operand] of Object.entries(fields as Document)) {
      if (NUMERIC_OPERATORS.has(operator) && numericValue(operand) === undefined) {
        throw new CommandError(
          "TypeMismatch",
          `Cannot ${operator === "$inc" ? "increment" : "multiply"} with non-numeric argument: {${path}: ${
            formatValue(operand)
          }}`,
        );
      }
      if (path.includes("$")) continue;
      const found = plainValueAt(doc, path);
      if (!found) continue;
      const { value } = found;
      const field = path.split(".").at(-1);
      if (NUMERIC_OPERATORS.has(operator) && numericValue(value) === undefined) {
        throw new CommandError(
          "TypeMismatch",
          `Cannot apply ${operator} to a value of non-numeric type. {_id: ${
            formatValue(doc._id)
          }} has the field '${field}' of non-numeric type ${bsonTypeOf(value)}`,
        );
      }
      if (ARRAY_OPERATORS.has(operator) && !Array.isArray(value)) {
        throw arrayError(operator, path, value, doc);
      }
    }
  }
}

function arrayError(operator: string, path: string, value: unknown, doc: Document): CommandError {
  const type = bsonTypeOf(value);
  switch (operator) {
    case "$push":
      return new CommandError(
        "BadValue",
        `The field '${path}' must be an array but is of type ${type} in document {_id: ${
          formatValue(doc._id)
        }}`,
      );
    case "$addToSet":
      return new CommandError(
        "BadValue",
        `Cannot apply $addToSet to non-array field. Field named '${
          path.split(".").at(-1)
        }' has non-array type ${type}`,
      );
    case "$pop":
      return new CommandError(
        "TypeMismatch",
        `Path '${path}' contains an element of non-array type '${type}'`,
      );
    default:
      return new CommandError("BadValue", `Cannot apply ${operator} to a non-array value`);
  }
}

// The value a dotted path names in a document, numeric parts indexing arrays; undefined when it is absent.
function plainValueAt(doc: Document, path: string): { value: unknown } | undefined {
  let value: unknown = doc;
  for (const part of path.split(".")) {
    if (Array.isArray(value) && /^\d+$/.test(part)) value = value[Number(part)];
    else if (isPlainObject(value)) value = value[part];
    else return undefined;
    if (value === undefined) return undefined;
  }
  return { value };
}
