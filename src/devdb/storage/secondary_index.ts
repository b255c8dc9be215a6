/**
 * A secondary index: index keys to the `_id` keys of the documents that hold them.
 *
 * @module
 */
import type { Document } from "bson";
import { Query } from "mingo";
import { canonicalKey, isIndexableScalar, isPlainObject, valuesAtPath } from "./keys.ts";
import { type OrderedEntry, OrderedKeys } from "./ordered_keys.ts";

/** An index as `listIndexes` shows it and the log stores it. */
export interface IndexSpec {
  v: number;
  key: Record<string, number | string>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Document;
  [option: string]: unknown;
}

/** One index key of a document: its canonical form and the field values it was made of. */
export interface IndexKey {
  key: string;
  values: unknown[];
}

// A compound key multiplies out when a field holds an array; cap it like mongod refuses parallel arrays.
const MAX_KEYS_PER_DOCUMENT = 10_000;

/** A secondary index kept in memory. */
export class SecondaryIndex {
  /** The spec it was created with. */
  readonly spec: IndexSpec;
  /** The indexed field paths, in key order. */
  readonly fields: string[];
  readonly #paths: string[][];
  readonly #partial?: Query;
  readonly #entries = new Map<string, Set<string>>();
  // For a compound index, `#prefixes[k - 1]` holds the keys of its first k fields (k < fields.length), so
  // that equality on a prefix is one lookup too.
  readonly #prefixes: Map<string, Set<string>>[];
  #order?: OrderedKeys;
  #multikey = false;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.#paths = this.fields.map((field) => field.split("."));
    if (spec.partialFilterExpression) this.#partial = new Query(spec.partialFilterExpression, {});
    this.#prefixes = this.fields.slice(1).map(() => new Map());
  }

  /** Whether two documents may not share a key. */
  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** The keys a document contributes, or none when sparse or partial rules leave it out. */
  keysOf(doc: Document): IndexKey[] {
    if (this.#partial && !this.#partial.test(doc)) return [];
    const perField = this.#paths.map((path) => valuesAtPath(doc, path));
    if (this.spec.sparse && perField.every((values) => values.length === 1 && values[0] === undefined)) {
      return [];
    }
    let tuples: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const tuple of tuples) for (const value of values) next.push([...tuple, value]);
      if (next.length > MAX_KEYS_PER_DOCUMENT) {
        throw new Error(`too many index keys for index ${this.spec.name}`);
      }
      tuples = next;
    }
    const seen = new Set<string>();
    const keys: IndexKey[] = [];
    for (const values of tuples) {
      const key = compoundKey(values.map(canonicalKey));
      if (!seen.has(key)) {
        seen.add(key);
        keys.push({ key, values: values.map((value) => value === undefined ? null : value) });
      }
    }
    return keys;
  }

  /** The first key of `keys` held by a document other than `selfId`, if any. */
  conflict(keys: IndexKey[], selfId: string): IndexKey | undefined {
    for (const key of keys) {
      const holders = this.#entries.get(key.key);
      if (holders && (holders.size > 1 || !holders.has(selfId))) return key;
    }
    return undefined;
  }

  /** Records that document `id` (inserted as number `seq`) holds `keys`. */
  add(id: string, keys: IndexKey[], seq: number): void {
    if (keys.length > 1) this.#multikey = true;
    for (const { key, values } of keys) {
      this.#order?.add({ values, id, seq });
      addTo(this.#entries, key, id);
      for (let k = 1; k <= this.#prefixes.length; k++) {
        addTo(this.#prefixes[k - 1], compoundKey(values.slice(0, k).map(canonicalKey)), id);
      }
    }
  }

  /** Forgets that document `id` (inserted as number `seq`) holds `keys`. */
  remove(id: string, keys: IndexKey[], seq: number): void {
    for (const { key, values } of keys) {
      this.#order?.remove({ values, id, seq });
      removeFrom(this.#entries, key, id);
      for (let k = 1; k <= this.#prefixes.length; k++) {
        removeFrom(this.#prefixes[k - 1], compoundKey(values.slice(0, k).map(canonicalKey)), id);
      }
    }
  }

  /** Whether some document contributed more than one key (an array in an indexed field). */
  get multikey(): boolean {
    return this.#multikey;
  }

  /** The keys in index order, built from `entries` on first use and kept up to date after. */
  ordered(entries: () => OrderedEntry[]): OrderedKeys {
    this.#order ??= new OrderedKeys(Object.values(this.spec.key).map((d) => d === -1 ? -1 : 1), entries());
    return this.#order;
  }

  /** The `_id` keys of the documents holding a single-field key, or undefined when none do. */
  lookup(key: string): ReadonlySet<string> | undefined {
    return this.#entries.get(key);
  }

  /**
   * The `_id` keys of the documents whose first `canonicalKeys.length` index fields hold these values, or
   * undefined when none do.
   */
  lookupPrefix(canonicalKeys: string[]): ReadonlySet<string> | undefined {
    const key = compoundKey(canonicalKeys);
    return canonicalKeys.length === this.fields.length
      ? this.#entries.get(key)
      : this.#prefixes[canonicalKeys.length - 1]?.get(key);
  }

  /**
   * Whether `filter` may narrow through this index: ordered or hashed keys, and a partial filter (if any)
   * that the filter implies (each of its conditions repeated, or `$exists: true` on a field the filter
   * constrains to non-null scalars), as mongod requires before it uses a partial index.
   */
  narrowsFor(filter: Document): boolean {
    const orderedKeys = Object.values(this.spec.key)
      .every((d) => d === 1 || d === -1 || (d === "hashed" && this.fields.length === 1));
    if (!orderedKeys) return false;
    const partial = this.spec.partialFilterExpression;
    if (!partial) return true;
    return Object.entries(partial).every(([field, condition]) => {
      if (field.startsWith("$")) return false;
      const given = filter[field];
      if (given === undefined) return false;
      if (canonicalKey(given) === canonicalKey(condition)) return true;
      if (
        !isPlainObject(condition) || Object.keys(condition).join() !== "$exists" || condition.$exists !== true
      ) {
        return false;
      }
      return scalarsOf(given)?.every(isIndexableScalar) ?? false;
    });
  }
}

// The values an equality or `$in` condition accepts, or undefined for any other condition.
function scalarsOf(condition: unknown): unknown[] | undefined {
  if (!isPlainObject(condition)) return [condition];
  const keys = Object.keys(condition);
  if (keys.length !== 1) return undefined;
  if (keys[0] === "$eq") return [condition.$eq];
  if (keys[0] === "$in" && Array.isArray(condition.$in)) return condition.$in;
  return undefined;
}

function compoundKey(parts: string[]): string {
  return parts.length === 1 ? parts[0] : parts.join("\u0000|");
}

function addTo(map: Map<string, Set<string>>, key: string, id: string): void {
  const holders = map.get(key);
  if (holders) holders.add(id);
  else map.set(key, new Set([id]));
}

function removeFrom(map: Map<string, Set<string>>, key: string, id: string): void {
  const holders = map.get(key);
  if (!holders) return;
  holders.delete(id);
  if (holders.size === 0) map.delete(key);
}
