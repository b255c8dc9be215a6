/**
 * Choosing how an index serves a filter: equality lookups on a prefix (its first field may be an `$in`), or
 * an ordered scan for a range after an equality prefix or for a sort in index order.
 *
 * @module
 */
import type { Document } from "bson";
import { canonicalKey, isIndexableScalar, isPlainObject } from "./keys.ts";
import type { OrderedEntry, Range } from "./ordered_keys.ts";
import type { SecondaryIndex } from "./secondary_index.ts";

/** What `equalityValue` answers when a condition is no plain equality. */
export const NO_EQUALITY = Symbol("no equality");

/** `{ f: v }` or `{ f: { $eq: v } }` with a scalar v that canonical keys compare exactly: v. */
export function equalityValue(condition: unknown): unknown {
  if (isIndexableScalar(condition)) return condition;
  if (isPlainObject(condition)) {
    const keys = Object.keys(condition);
    if (keys.length === 1 && keys[0] === "$eq" && isIndexableScalar(condition.$eq)) return condition.$eq;
  }
  return NO_EQUALITY;
}

/** `{ $in: [v, ...] }` alone, every v a scalar that canonical keys compare exactly: the vs. */
export function inValues(condition: unknown): unknown[] | undefined {
  if (!isPlainObject(condition)) return undefined;
  const keys = Object.keys(condition);
  if (keys.length !== 1 || keys[0] !== "$in" || !Array.isArray(condition.$in)) return undefined;
  return condition.$in.every(isIndexableScalar) ? condition.$in : undefined;
}

/**
 * The ids an index's longest equality prefix in `filter` selects (its first field may be an `$in`), or
 * undefined when the filter constrains not even its first field by equality.
 */
export function prefixLookup(index: SecondaryIndex, filter: Document): Set<string> | undefined {
  let heads: string[][] = [];
  const first = filter[index.fields[0]];
  const values = first === undefined ? undefined : inValues(first);
  if (values) heads = values.map((value) => [canonicalKey(value)]);
  else {
    const value = first === undefined ? NO_EQUALITY : equalityValue(first);
    if (value === NO_EQUALITY) return undefined;
    heads = [[canonicalKey(value)]];
  }
  for (const field of index.fields.slice(1)) {
    const value = filter[field] === undefined ? NO_EQUALITY : equalityValue(filter[field]);
    if (value === NO_EQUALITY) break;
    for (const head of heads) head.push(canonicalKey(value));
  }
  const ids = new Set<string>();
  for (const head of heads) for (const id of index.lookupPrefix(head) ?? []) ids.add(id);
  return ids;
}

/** Whether a condition is a value rather than an operator document. */
export function isPlainValue(condition: unknown): boolean {
  return !isPlainObject(condition);
}

const RANGE_OPERATORS = new Set(["$gt", "$gte", "$lt", "$lte"]);

// `{ $gt: a, $lte: b, ... }` with scalar bounds, as a range; undefined for any other condition.
function rangeOf(condition: unknown, multikey: boolean): Range | undefined {
  if (!isPlainObject(condition)) return undefined;
  const range: Range = {};
  for (const [operator, value] of Object.entries(condition)) {
    if (!RANGE_OPERATORS.has(operator) || !isIndexableScalar(value)) return undefined;
    const side = operator.startsWith("$g") ? "lo" : "hi";
    if (range[side]) return undefined;
    range[side] = { value, inclusive: operator.endsWith("e") };
  }
  // On an array field each bound may hold for a different element, so only one side can bound the scan.
  if (multikey && range.lo) delete range.hi;
  return range.lo || range.hi ? range : undefined;
}

/** An ordered plan: the ids in scan order and the index that gave them. */
export interface OrderedPlan {
  ids: Set<string>;
  indexes: string[];
  sorted: boolean;
}

/**
 * The ordered scan of the index that serves `filter` best: with `sort`, one whose order (after the filter's
 * equality prefix) is the sort's or its reverse, its entries then in sort order; without, one with a range
 * on the field after the equality prefix. Undefined when no index can with at most `maxSize` index keys.
 */
export function orderedPlan(
  indexes: Iterable<SecondaryIndex>,
  filter: Document,
  sort: Record<string, 1 | -1> | undefined,
  entries: (index: SecondaryIndex) => OrderedEntry[],
  maxSize = Infinity,
): OrderedPlan | undefined {
  let best: OrderedPlan | undefined;
  for (const index of indexes) {
    if (!index.narrowsFor(filter) || index.spec.key[index.fields[0]] === "hashed") continue;
    const prefix: unknown[] = [];
    while (prefix.length < index.fields.length) {
      const condition = filter[index.fields[prefix.length]];
      const value = condition === undefined ? NO_EQUALITY : equalityValue(condition);
      if (value === NO_EQUALITY) break;
      prefix.push(value);
    }
    const next = index.fields[prefix.length];
    const range = next === undefined ? undefined : rangeOf(filter[next], index.multikey);
    const direction = sort ? sortDirection(index, prefix.length, sort) : undefined;
    if (sort ? direction === undefined : !range) continue;
    // A sparse index lacks the documents without the field: it can serve only filters that need the field.
    if (index.spec.sparse === true && prefix.length === 0 && !range) continue;
    const order = index.ordered(() => entries(index));
    const [start, end] = order.bounds(prefix, range);
    // Counted before anything is copied: a plan larger than the alternative is not worth materializing.
    if (end - start > Math.min(maxSize, best?.ids.size ?? Infinity)) continue;
    const scanned = order.scan(prefix, range, direction === -1);
    const ids = new Set<string>();
    for (const entry of scanned) ids.add(entry.id);
    if (!best || ids.size < best.ids.size) {
      best = { ids, indexes: [index.spec.name], sorted: sort !== undefined };
    }
  }
  return best;
}

// 1 when the index (past its first `equalities` fields) orders as `sort`, -1 when reversed, else undefined.
function sortDirection(
  index: SecondaryIndex,
  equalities: number,
  sort: Record<string, 1 | -1>,
): 1 | -1 | undefined {
  if (index.multikey) return undefined;
  const fixed = new Set(index.fields.slice(0, equalities));
  const keys = Object.entries(sort).filter(([field]) => !fixed.has(field));
  let direction: 1 | -1 | undefined;
  for (let i = 0; i < keys.length; i++) {
    const [field, order] = keys[i];
    const indexDirection = index.spec.key[index.fields[equalities + i]];
    if (index.fields[equalities + i] !== field || (indexDirection !== 1 && indexDirection !== -1)) {
      return undefined;
    }
    const agrees = (order === indexDirection ? 1 : -1) as 1 | -1;
    if (direction !== undefined && agrees !== direction) return undefined;
    direction = agrees;
  }
  return direction ?? 1;
}
