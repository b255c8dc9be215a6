/**
 * MongoDB's comparison order of BSON values (types first, then values), for ordered index scans.
 *
 * Hand-written because mingo's `compare` orders JavaScript values, not BSON types (it does not know Decimal128,
 * ObjectId or MinKey), and index order must agree with the range operators.
 *
 * @module
 */
import { numericValue } from "./mingo_context.ts";
import { canonicalKey } from "./keys.ts";

// mongod's order of types: MinKey, null, numbers, symbol/string, object, array, binData, ObjectId, bool,
// Date, Timestamp, regex, MaxKey.
function rank(value: unknown): number {
  if (value === null || value === undefined) return 1;
  switch (typeof value) {
    case "number":
    case "bigint":
      return 2;
    case "string":
      return 3;
    case "boolean":
      return 8;
  }
  if (Array.isArray(value)) return 5;
  if (value instanceof Date) return 9;
  if (value instanceof RegExp) return 11;
  switch ((value as { _bsontype?: string })._bsontype) {
    case undefined:
      return 4;
    case "MinKey":
      return 0;
    case "Decimal128":
    case "Long":
    case "Int32":
    case "Double":
      return 2;
    case "BSONSymbol":
      return 3;
    case "Binary":
      return 6;
    case "ObjectId":
      return 7;
    case "Timestamp":
      return 10;
    case "BSONRegExp":
      return 11;
    case "MaxKey":
      return 12;
    default:
      return 4;
  }
}

/** Negative, zero or positive as `a` sorts before, with or after `b` in MongoDB's order. */
export function compareBson(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
    case 1:
    case 12:
      return 0;
    case 2: {
      const x = numericValue(a)!;
      const y = numericValue(b)!;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3:
    case 7: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 8:
      return Number(a) - Number(b);
    case 9:
      return (a as Date).getTime() - (b as Date).getTime();
    default: {
      const x = canonicalKey(a);
      const y = canonicalKey(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}
