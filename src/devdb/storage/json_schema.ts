/**
 * MongoDB's `$jsonSchema` (draft 4 with `bsonType`, without `$ref`, `default`, `definitions`, `format` or
 * `id`), compiled to a predicate that mingo's `$jsonSchema` operator calls.
 *
 * Hand-written because JSON Schema libraries know JSON types only: `bsonType`, and telling an ObjectId or a
 * Date from an object, need BSON's.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { canonicalKey, isPlainObject } from "./keys.ts";

type Check = (value: unknown) => boolean;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The BSON type name of a value as the devdb stores it (`$type` names). */
export function bsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "bigint":
      return "long";
    case "number":
      // The driver sends integers in int32 range as int32 and every other number as a double.
      return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX ? "int" : "double";
  }
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "date";
  if (value instanceof RegExp) return "regex";
  const tag = (value as { _bsontype?: string })._bsontype;
  switch (tag) {
    case undefined:
      return "object";
    case "ObjectId":
      return "objectId";
    case "Decimal128":
      return "decimal";
    case "Long":
      return "long";
    case "Int32":
      return "int";
    case "Double":
      return "double";
    case "Binary":
      return "binData";
    case "BSONRegExp":
      return "regex";
    case "Timestamp":
      return "timestamp";
    case "MinKey":
      return "minKey";
    case "MaxKey":
      return "maxKey";
    case "Code":
      return "javascript";
    case "BSONSymbol":
      return "symbol";
    default:
      return tag.toLowerCase();
  }
}

const NUMBER_TYPES = new Set(["int", "long", "double", "decimal"]);
const JSON_TYPES: Record<string, (bson: string) => boolean> = {
  object: (t) => t === "object",
  array: (t) => t === "array",
  number: (t) => NUMBER_TYPES.has(t),
  boolean: (t) => t === "bool",
  string: (t) => t === "string",
  null: (t) => t === "null",
};
const BSON_TYPES = new Set([
  "double",
  "string",
  "object",
  "array",
  "binData",
  "undefined",
  "objectId",
  "bool",
  "date",
  "null",
  "regex",
  "dbPointer",
  "javascript",
  "symbol",
  "javascriptWithScope",
  "int",
  "timestamp",
  "long",
  "decimal",
  "minKey",
  "maxKey",
  "number",
]);

function fail(message: string): never {
  throw new CommandError("FailedToParse", message);
}

function typeNames(keyword: string, spec: unknown, known: (name: string) => boolean): string[] {
  const names = Array.isArray(spec) ? spec : [spec];
  for (const name of names) {
    if (typeof name !== "string" || !known(name)) fail(`Unknown type name alias: ${String(name)}`);
  }
  if (names.length === 0) fail(`$jsonSchema keyword '${keyword}' must name at least one type`);
  return names as string[];
}

const asNumber = (value: unknown): number | undefined =>
  typeof value === "number"
    ? value
    : (value as { _bsontype?: string })?._bsontype
    ? Number(String(value))
    : undefined;

function numberArg(keyword: string, value: unknown): number {
  const number = asNumber(value);
  if (number === undefined || Number.isNaN(number)) fail(`$jsonSchema keyword '${keyword}' must be a number`);
  return number;
}

function schemaArg(keyword: string, value: unknown): Document {
  if (!isPlainObject(value)) fail(`$jsonSchema keyword '${keyword}' must be an object`);
  return value;
}

function schemaList(keyword: string, value: unknown): Check[] {
  if (!Array.isArray(value) || value.length === 0) {
    fail(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
  }
  return value.map((item) => compile(schemaArg(keyword, item)));
}

type Keyword = (arg: unknown, schema: Document, keyword: string) => Check | undefined;

const none: Keyword = () => undefined;

// `minLength`, `maxItems` and the like: a bound on a size that only values of one kind have.
const sizeBound =
  (applies: (v: unknown) => boolean, size: (v: never) => number): Keyword => (arg, _, keyword) => {
    const bound = numberArg(keyword, arg);
    const ok = keyword.startsWith("min") ? (n: number) => n >= bound : (n: number) => n <= bound;
    return (v) => !applies(v) || ok(size(v as never));
  };

const numberBound: Keyword = (arg, schema, keyword) => {
  const bound = numberArg(keyword, arg);
  const minimum = keyword === "minimum";
  const exclusive = schema[minimum ? "exclusiveMinimum" : "exclusiveMaximum"] === true;
  return (v) => {
    const n = asNumber(v);
    if (n === undefined) return true;
    if (minimum) return exclusive ? n > bound : n >= bound;
    return exclusive ? n < bound : n <= bound;
  };
};

const isString = (v: unknown) => typeof v === "string";

const TYPE_KEYWORDS: Record<string, Keyword> = {
  bsonType: (arg, _, keyword) => {
    const names = typeNames(keyword, arg, (name) => BSON_TYPES.has(name));
    return (v) => {
      const t = bsonTypeOf(v);
      return names.some((name) => name === t || (name === "number" && NUMBER_TYPES.has(t)));
    };
  },
  type: (arg, _, keyword) => {
    const names = typeNames(keyword, arg, (name) => name in JSON_TYPES);
    return (v) => names.some((name) => JSON_TYPES[name](bsonTypeOf(v)));
  },
  enum: (arg) => {
    if (!Array.isArray(arg) || arg.length === 0) fail("$jsonSchema keyword 'enum' must be a non-empty array");
    const allowed = new Set(arg.map(canonicalKey));
    return (v) => allowed.has(canonicalKey(v));
  },
};

const SCALAR_KEYWORDS: Record<string, Keyword> = {
  minimum: numberBound,
  maximum: numberBound,
  exclusiveMinimum: (arg, _, keyword) => {
    if (typeof arg !== "boolean") fail(`$jsonSchema keyword '${keyword}' must be a boolean`);
    return undefined;
  },
  multipleOf: (arg, _, keyword) => {
    const divisor = numberArg(keyword, arg);
    return (v) => asNumber(v) === undefined || asNumber(v)! % divisor === 0;
  },
  minLength: sizeBound(isString, (v: string) => [...v].length),
  maxLength: sizeBound(isString, (v: string) => [...v].length),
  pattern: (arg) => {
    if (typeof arg !== "string") fail("$jsonSchema keyword 'pattern' must be a string");
    const re = new RegExp(arg, "u");
    return (v) => typeof v !== "string" || re.test(v);
  },
};
SCALAR_KEYWORDS.exclusiveMaximum = SCALAR_KEYWORDS.exclusiveMinimum;

const ARRAY_KEYWORDS: Record<string, Keyword> = {
  minItems: sizeBound(Array.isArray, (v: unknown[]) => v.length),
  maxItems: sizeBound(Array.isArray, (v: unknown[]) => v.length),
  uniqueItems: (arg) => {
    if (typeof arg !== "boolean") fail("$jsonSchema keyword 'uniqueItems' must be a boolean");
    return arg ? (v) => !Array.isArray(v) || new Set(v.map(canonicalKey)).size === v.length : undefined;
  },
  items: (arg, schema, keyword) => {
    if (!Array.isArray(arg)) {
      const check = compile(schemaArg(keyword, arg));
      return (v) => !Array.isArray(v) || v.every(check);
    }
    const checks = arg.map((item) => compile(schemaArg(keyword, item)));
    const extra = schema.additionalItems;
    const rest = isPlainObject(extra) ? compile(extra) : undefined;
    const itemOk = (item: unknown, i: number) =>
      i < checks.length ? checks[i](item) : extra === false ? false : !rest || rest(item);
    return (v) => !Array.isArray(v) || v.every(itemOk);
  },
  additionalItems: none,
};

const OBJECT_KEYWORDS: Record<string, Keyword> = {
  required: (arg) => {
    if (!Array.isArray(arg) || arg.some((f) => typeof f !== "string")) {
      fail("$jsonSchema keyword 'required' must be an array of strings");
    }
    return (v) => !isPlainObject(v) || arg.every((field) => v[field] !== undefined);
  },
  minProperties: sizeBound(isPlainObject, (v: Document) => Object.keys(v).length),
  maxProperties: sizeBound(isPlainObject, (v: Document) => Object.keys(v).length),
  properties: (_, schema) => propertiesCheck(schema),
  patternProperties: none,
  additionalProperties: none,
  dependencies: (arg, _, keyword) => {
    const deps = Object.entries(schemaArg(keyword, arg)).map(([field, dep]) => {
      const check: Check = Array.isArray(dep)
        ? (v) => dep.every((f) => (v as Document)[f] !== undefined)
        : compile(schemaArg(keyword, dep));
      return [field, check] as const;
    });
    return (v) => !isPlainObject(v) || deps.every(([field, check]) => v[field] === undefined || check(v));
  },
};

const LOGIC_KEYWORDS: Record<string, Keyword> = {
  allOf: (arg, _, keyword) => {
    const checks = schemaList(keyword, arg);
    return (v) => checks.every((check) => check(v));
  },
  anyOf: (arg, _, keyword) => {
    const checks = schemaList(keyword, arg);
    return (v) => checks.some((check) => check(v));
  },
  oneOf: (arg, _, keyword) => {
    const checks = schemaList(keyword, arg);
    return (v) => checks.filter((check) => check(v)).length === 1;
  },
  not: (arg, _, keyword) => {
    const check = compile(schemaArg(keyword, arg));
    return (v) => !check(v);
  },
  title: none,
  description: none,
};

// Each keyword applies only to values of its own type, as in JSON Schema: `minLength` passes a number.
const KEYWORDS: Record<string, Keyword> = {
  ...TYPE_KEYWORDS,
  ...SCALAR_KEYWORDS,
  ...ARRAY_KEYWORDS,
  ...OBJECT_KEYWORDS,
  ...LOGIC_KEYWORDS,
};

function keywordCheck(keyword: string, arg: unknown, schema: Document): Check | undefined {
  if (Object.hasOwn(KEYWORDS, keyword)) return KEYWORDS[keyword](arg, schema, keyword);
  if (keyword.startsWith("$") || ["default", "definitions", "format", "id"].includes(keyword)) {
    fail(`$jsonSchema keyword '${keyword}' is not currently supported`);
  }
  fail(`Unknown $jsonSchema keyword: ${keyword}`);
}

// `properties`, `patternProperties` and `additionalProperties` together decide each field of an object.
function propertiesCheck(schema: Document): Check | undefined {
  const properties = Object.entries(schemaArg("properties", schema.properties ?? {}))
    .map(([field, sub]) => [field, compile(schemaArg("properties", sub))] as const);
  const patterns = Object.entries(schemaArg("patternProperties", schema.patternProperties ?? {}))
    .map(([pattern, sub]) =>
      [new RegExp(pattern, "u"), compile(schemaArg("patternProperties", sub))] as const
    );
  const additional = schema.additionalProperties;
  if (additional !== undefined && typeof additional !== "boolean" && !isPlainObject(additional)) {
    fail("$jsonSchema keyword 'additionalProperties' must be either an object or a boolean");
  }
  const rest = isPlainObject(additional) ? compile(additional) : undefined;
  const named = new Map(properties);
  return (v) => {
    if (!isPlainObject(v)) return true;
    for (const [field, value] of Object.entries(v)) {
      if (value === undefined) continue;
      const check = named.get(field);
      if (check && !check(value)) return false;
      const matching = patterns.filter(([re]) => re.test(field));
      if (matching.some(([, sub]) => !sub(value))) return false;
      if (!check && matching.length === 0) {
        if (additional === false) return false;
        if (rest && !rest(value)) return false;
      }
    }
    return true;
  };
}

function compile(schema: Document): Check {
  const checks: Check[] = [];
  const hasPropertyKeywords = ["properties", "patternProperties", "additionalProperties"]
    .some((keyword) => keyword in schema);
  for (const [keyword, arg] of Object.entries(schema)) {
    const check = keyword === "patternProperties" || keyword === "additionalProperties"
      ? undefined
      : keywordCheck(keyword, arg, schema);
    if (check) checks.push(check);
  }
  if (hasPropertyKeywords && !("properties" in schema)) checks.push(propertiesCheck(schema)!);
  return (value) => checks.every((check) => check(value));
}

/** mingo's `jsonSchemaValidator` option: compiles a schema (FailedToParse when it is invalid). */
export function jsonSchemaValidator(schema: Record<string, unknown>): (doc: unknown) => boolean {
  if (!isPlainObject(schema)) fail("$jsonSchema must be an object");
  return compile(schema);
}
