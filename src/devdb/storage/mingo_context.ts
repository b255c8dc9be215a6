/**
 * The devdb's mingo: every mingo operator, with the comparison query operators replaced by ones that compare
 * numbers across BSON types (Decimal128, Long, Int32, Double and plain numbers by value, as mongod does) and
 * compare strings under the command's collation. mingo applies a collation only to `$sort`, so matching
 * needs these; everything else is mingo's own.
 *
 * @module
 */
import type { Document } from "bson";
import { Aggregator as AggregatorBase } from "mingo/aggregator";
import { Context } from "mingo/core";
import * as accumulator from "mingo/operators/accumulator";
import * as expression from "mingo/operators/expression";
import * as pipeline from "mingo/operators/pipeline";
import * as projection from "mingo/operators/projection";
import * as query from "mingo/operators/query";
import * as window from "mingo/operators/window";
import { Query as QueryBase } from "mingo/query";
import type { CollationSpec, Options } from "mingo/types";
import { compare, ensureArray, flatten, isEqual, isRegExp, resolve, typeOf } from "mingo/util";
import { CommandError } from "../errors.ts";
import { jsonSchemaValidator } from "./json_schema.ts";
import { canonicalKey, isIndexableScalar } from "./keys.ts";

/** What a command adds to matching: its collation and its `let` variables. */
export interface MatchOptions {
  collation?: Document;
  variables?: Document;
}

type Tagged = { _bsontype?: string; toString(): string };

/** The numeric value of a number of any BSON type, or undefined for anything else. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  switch ((value as Tagged | null | undefined)?._bsontype) {
    case "Decimal128":
    case "Long":
    case "Int32":
    case "Double":
      return Number((value as Tagged).toString());
  }
  return undefined;
}

function same(a: unknown, b: unknown, collator: Intl.Collator | undefined): boolean {
  if (a === b) return true;
  const x = numericValue(a);
  if (x !== undefined) {
    const y = numericValue(b);
    if (y !== undefined) return x === y || (Number.isNaN(x) && Number.isNaN(y));
  }
  if (collator && typeof a === "string" && typeof b === "string") return collator.compare(a, b) === 0;
  return isEqual(a, b);
}

// The comparison result of two values of one BSON type bracket, or undefined when the brackets differ
// (range operators never match across brackets).
function order(a: unknown, b: unknown, collator: Intl.Collator | undefined): number | undefined {
  const x = numericValue(a);
  const y = numericValue(b);
  if (x !== undefined || y !== undefined) return x !== undefined && y !== undefined ? x - y : undefined;
  if (collator && typeof a === "string" && typeof b === "string") return collator.compare(a, b);
  return typeOf(a) === typeOf(b) ? compare(a, b) : undefined;
}

type Predicate = (lhs: unknown, rhs: unknown, collator: Intl.Collator | undefined, depth: number) => boolean;

function eq(lhs: unknown, rhs: unknown, collator: Intl.Collator | undefined, depth: number): boolean {
  if (same(lhs, rhs, collator)) return true;
  if ((lhs === null || lhs === undefined) && (rhs === null || rhs === undefined)) return true;
  if (Array.isArray(lhs)) {
    return lhs.some((v) => same(v, rhs, collator)) || flatten(lhs, depth).some((v) => same(v, rhs, collator));
  }
  return false;
}

function inList(lhs: unknown, rhs: unknown, collator: Intl.Collator | undefined, depth: number): boolean {
  if (!Array.isArray(rhs)) throw new CommandError("BadValue", "$in needs an array");
  if (lhs === null || lhs === undefined) return rhs.some((v) => v === null);
  const values = ensureArray(lhs);
  if (rhs.some((candidate) => !isRegExp(candidate) && eq(lhs, candidate, collator, depth))) return true;
  const patterns = rhs.filter(isRegExp) as RegExp[];
  return patterns.length > 0 &&
    values.some((v) => typeof v === "string" && patterns.some((re) => re.test(v)));
}

// `$in` over many scalars (a page of ids, say) tests each document against a Set of canonical keys instead
// of every candidate in turn; canonical keys equal exactly where `same` does without a collation.
function inOperator(negate: boolean) {
  const general = operator(inList, negate);
  return (selector: string, value: unknown, options: Options) => {
    if (
      !Array.isArray(value) || value.length < 8 || collatorOf(options.collation) ||
      !value.every(isIndexableScalar)
    ) {
      return general(selector, value, options);
    }
    const keys = new Set(value.map(canonicalKey));
    const resolveOptions = { unwrapArray: true };
    return (doc: Document) => {
      const lhs = resolve(doc, selector, resolveOptions);
      let found = false;
      if (Array.isArray(lhs)) {
        found = keys.has(canonicalKey(lhs)) || lhs.some((v) => keys.has(canonicalKey(v))) ||
          flatten(lhs, selector.split(".").length - 1 || 1).some((v) => keys.has(canonicalKey(v)));
      } else if (lhs !== undefined && lhs !== null) {
        found = keys.has(canonicalKey(lhs));
      }
      return negate ? !found : found;
    };
  };
}

const ranged = (test: (order: number) => boolean): Predicate => (lhs, rhs, collator) => {
  for (const value of ensureArray(lhs)) {
    const result = order(value, rhs, collator);
    if (result !== undefined && test(result)) return true;
  }
  return false;
};

const collators = new Map<string, Intl.Collator>();

/** The Intl collator for a MongoDB collation document, or undefined for the simple (binary) collation. */
export function collatorOf(spec: Document | CollationSpec | undefined): Intl.Collator | undefined {
  if (!spec || spec.locale === "simple") return undefined;
  const key = JSON.stringify(spec);
  let collator = collators.get(key);
  if (!collator) {
    if (typeof spec.locale !== "string") {
      throw new CommandError(
        "FailedToParse",
        "BSON field 'collation.locale' is missing but a required field",
      );
    }
    const strength = spec.strength ?? 3;
    let sensitivity: Intl.CollatorOptions["sensitivity"] = strength === 1
      ? "base"
      : strength === 2
      ? "accent"
      : "variant";
    if (spec.caseLevel === true && sensitivity === "base") sensitivity = "case";
    collator = new Intl.Collator(spec.locale, {
      sensitivity,
      numeric: spec.numericOrdering === true,
      caseFirst: spec.caseFirst === "upper" || spec.caseFirst === "lower" ? spec.caseFirst : "false",
      ignorePunctuation: spec.alternate === "shifted",
    });
    collators.set(key, collator);
  }
  return collator;
}

function operator(predicate: Predicate, negate = false) {
  return (selector: string, value: unknown, options: Options) => {
    const collator = collatorOf(options.collation);
    const depth = selector.split(".").length - 1 || 1;
    const resolveOptions = { unwrapArray: true };
    return (doc: Document) => {
      const result = predicate(resolve(doc, selector, resolveOptions), value, collator, depth);
      return negate ? !result : result;
    };
  };
}

const comparison = {
  $eq: operator(eq),
  $ne: operator(eq, true),
  $in: inOperator(false),
  $nin: inOperator(true),
  $gt: operator(ranged((n) => n > 0)),
  $gte: operator(ranged((n) => n >= 0)),
  $lt: operator(ranged((n) => n < 0)),
  $lte: operator(ranged((n) => n <= 0)),
};

const CONTEXT = Context.init({
  accumulator,
  expression,
  pipeline,
  projection,
  query: { ...query, ...comparison } as never,
  window,
});

/** mingo options for a command: the devdb's operators, its collation, its variables, `$jsonSchema`. */
export function mingoOptions(match: MatchOptions = {}, extra: Partial<Options> = {}): Partial<Options> {
  const options: Record<string, unknown> = { context: CONTEXT, jsonSchemaValidator, ...extra };
  if (match.collation && match.collation.locale !== "simple") {
    collatorOf(match.collation);
    options.collation = match.collation;
  }
  if (match.variables) options.variables = match.variables;
  return options as Partial<Options>;
}

/** A compiled query with the devdb's operators. */
export class Query extends QueryBase {
  constructor(condition: Document, match: MatchOptions = {}) {
    super(condition, mingoOptions(match));
  }
}

/** An aggregation pipeline with the devdb's operators. */
export class Aggregator extends AggregatorBase {
  constructor(stages: Document[], match: MatchOptions = {}, extra: Partial<Options> = {}) {
    super(stages, mingoOptions(match, extra));
  }
}
