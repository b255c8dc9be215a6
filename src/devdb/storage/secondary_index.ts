/**
 * A secondary index: index keys to the `_id` keys of the documents that hold them.
 *
 * @module
 */
import type { Document } from "bson";
import { Query } from "mingo";
import { canonicalKey, valuesAtPath } from "./keys.ts";

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

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.#paths = this.fields.map((field) => field.split("."));
    if (spec.partialFilterExpression) this.#partial = new Query(spec.partialFilterExpression, {});
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
      const key = values.length === 1 ? canonicalKey(values[0]) : values.map(canonicalKey).join("\u0000|");
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

  /** Records that document `id` holds `keys`. */
  add(id: string, keys: IndexKey[]): void {
    for (const { key } of keys) {
      const holders = this.#entries.get(key);
      if (holders) holders.add(id);
      else this.#entries.set(key, new Set([id]));
    }
  }

  /** Forgets that document `id` holds `keys`. */
  remove(id: string, keys: IndexKey[]): void {
    for (const { key } of keys) {
      const holders = this.#entries.get(key);
      if (!holders) continue;
      holders.delete(id);
      if (holders.size === 0) this.#entries.delete(key);
    }
  }

  /** The `_id` keys of the documents holding a single-field key, or undefined when none do. */
  lookup(key: string): ReadonlySet<string> | undefined {
    return this.#entries.get(key);
  }

  /** Whether a query may use `lookup` to answer equality on `field`. */
  answersEqualityOn(field: string): boolean {
    if (this.fields.length !== 1 || this.fields[0] !== field || this.#partial) return false;
    const direction = this.spec.key[field];
    return direction === 1 || direction === -1 || direction === "hashed";
  }
}
