/**
 * Canonical string keys for BSON values, so that values MongoDB calls equal share one Map key.
 *
 * Numbers of every BSON type compare by value (1, 1.0, Long(1) and Decimal128("1.0") are one key), strings and the
 * other scalars by type and value, documents by field order and values.
 *
 * @module
 */
import { EJSON } from "bson";

type Tagged = { _bsontype?: string; toString(): string };

/** The canonical key of a value; missing and null share one key, as they do in MongoDB indexes. */
export function canonicalKey(value: unknown): string {
  switch (typeof value) {
    case "string":
      return "s" + value;
    case "number":
      return "n" + (value === 0 ? "0" : String(value));
    case "boolean":
      return value ? "bt" : "bf";
    case "undefined":
      return "z";
    case "bigint":
      return "n" + value.toString();
  }
  if (value === null) return "z";
  if (value instanceof Date) return "d" + value.getTime();
  if (value instanceof RegExp) return "r" + value.source + "/" + value.flags;
  if (Array.isArray(value)) return "a[" + value.map(canonicalKey).join(",") + "]";
  const tagged = value as Tagged;
  switch (tagged._bsontype) {
    case "ObjectId":
      return "o" + tagged.toString();
    case "Long":
    case "Int32":
    case "Double": {
      const asNumber = Number(tagged.toString());
      return "n" +
        (Number.isSafeInteger(asNumber) || !Number.isInteger(asNumber) ? String(asNumber) : tagged);
    }
    case "Decimal128": {
      // A decimal a double holds exactly enough (15 significant digits) shares the number's key, so that
      // indexes find it by an equal int, long or double, as mongod's do.
      const text = tagged.toString();
      const digits = text.replace(/^-/, "").replace(/[eE].*$/, "").replace(".", "").replace(/^0+/, "")
        .replace(/0+$/, "");
      const asNumber = Number(text);
      return Number.isFinite(asNumber) && digits.length <= 15
        ? "n" + (asNumber === 0 ? "0" : String(asNumber))
        : "m" + text;
    }
    case undefined: {
      const fields = Object.entries(value as Record<string, unknown>);
      return "{" + fields.map(([k, v]) => JSON.stringify(k) + ":" + canonicalKey(v)).join(",") + "}";
    }
    default:
      return "e" + EJSON.stringify(value as never, { relaxed: false });
  }
}

/** Whether a query value is a plain scalar whose equality match is exactly canonical-key equality. */
export function isIndexableScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
  }
  if (value instanceof Date) return true;
  const tag = (value as Tagged | null)?._bsontype;
  return tag === "ObjectId";
}

/**
 * The values a dotted path reaches in a document, arrays expanded as MongoDB's multikey indexes do.
 * A path that reaches nothing yields `[undefined]`.
 */
export function valuesAtPath(doc: unknown, path: readonly string[], at = 0): unknown[] {
  if (at === path.length) {
    if (Array.isArray(doc)) return doc.length ? doc : [undefined];
    return [doc];
  }
  if (Array.isArray(doc)) {
    const found: unknown[] = [];
    const position = /^\d+$/.test(path[at]) ? Number(path[at]) : -1;
    if (position >= 0 && position < doc.length) found.push(...valuesAtPath(doc[position], path, at + 1));
    for (const element of doc) {
      if (isPlainObject(element)) {
        const inner = valuesAtPath(element[path[at]], path, at + 1);
        for (const value of inner) if (value !== undefined) found.push(value);
      }
    }
    return found.length ? found : [undefined];
  }
  if (isPlainObject(doc)) return valuesAtPath(doc[path[at]], path, at + 1);
  return [undefined];
}

/** A value of the kind BSON stores as an embedded document (not an array, Date or BSON class). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The first value a dotted path reaches, without expanding arrays (for TTL and error messages). */
export function valueAtPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
