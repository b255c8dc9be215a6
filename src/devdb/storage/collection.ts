/**
 * A collection in memory: documents by `_id` key in insertion order, plus its secondary indexes.
 *
 * Stored documents are never mutated: an update stores a new object, so cursors may keep references.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { canonicalKey, isPlainObject } from "./keys.ts";
import { type IndexKey, type IndexSpec, SecondaryIndex } from "./secondary_index.ts";
import type { OrderedEntry } from "./ordered_keys.ts";
import { duplicateKeyError } from "./duplicate_key.ts";
import {
  equalityValue,
  inValues,
  isPlainValue,
  NO_EQUALITY,
  orderedPlan,
  prefixLookup,
} from "./index_plan.ts";

/** Receives every change as a log record (the persistence log, or nothing in memory mode). */
export type ChangeSink = (record: Document) => void;

/** The `_id` index every collection has. */
export const ID_INDEX_SPEC: IndexSpec = { v: 2, key: { _id: 1 }, name: "_id_" };

/** Candidate documents for a filter, and whether the filter needs no further matching. */
export interface Candidates {
  docs: Iterable<Document>;
  exact: boolean;
  /** The indexes that chose them (`_id_` for the `_id` index), none for a collection scan. */
  indexes: string[];
  /** True when they come in the order of the sort asked for (an index's order). */
  sorted?: boolean;
}

/** One collection's documents and indexes. */
export class Collection {
  /** The database name. */
  readonly db: string;
  /** The collection name. */
  readonly name: string;
  #options: Document;
  /** A stable identity for listCollections. */
  readonly uuid = crypto.randomUUID();
  readonly #docs = new Map<string, Document>();
  readonly #indexes = new Map<string, SecondaryIndex>();
  // Each document's insertion number, the tie-break of index order (mongod's record id).
  readonly #seqs = new Map<string, number>();
  #nextSeq = 0;
  readonly #sink: ChangeSink;

  constructor(db: string, name: string, options: Document, sink: ChangeSink) {
    this.db = db;
    this.name = name;
    this.#options = options;
    this.#sink = sink;
  }

  /** Its options: those it was created with, as collMod changed them since. */
  get options(): Document {
    return this.#options;
  }

  /** Replaces its options (collMod). */
  setOptions(options: Document, log = true): void {
    this.#options = options;
    if (log) this.#sink({ o: "cm", db: this.db, c: this.name, opts: options });
  }

  /** `db.collection`. */
  get namespace(): string {
    return `${this.db}.${this.name}`;
  }

  /** How many documents it holds. */
  get size(): number {
    return this.#docs.size;
  }

  /** Every document, in insertion order. */
  documents(): IterableIterator<Document> {
    return this.#docs.values();
  }

  /** The document with this `_id`, if any. */
  byId(id: unknown): Document | undefined {
    return this.#docs.get(canonicalKey(id));
  }

  /** The `_id` index followed by the secondary ones. */
  indexSpecs(): IndexSpec[] {
    return [ID_INDEX_SPEC, ...[...this.#indexes.values()].map((index) => index.spec)];
  }

  /** The secondary indexes. */
  secondaryIndexes(): IterableIterator<SecondaryIndex> {
    return this.#indexes.values();
  }

  /** Stores a new document (which must have an `_id`); throws DuplicateKey on any unique index. */
  insert(doc: Document, log = true): void {
    if (log) checkId(doc._id);
    const id = canonicalKey(doc._id);
    if (this.#docs.has(id)) throw duplicateKeyError(this.namespace, "_id_", { _id: 1 }, [doc._id]);
    const keys = this.#checkUnique(doc, id);
    const seq = this.#nextSeq++;
    for (const [index, indexKeys] of keys) index.add(id, indexKeys, seq);
    this.#seqs.set(id, seq);
    this.#docs.set(id, doc);
    if (log) this.#sink({ o: "i", db: this.db, c: this.name, d: doc });
  }

  /** Replaces a stored document by a new object with the same `_id`; throws DuplicateKey on conflict. */
  replace(previous: Document, next: Document): void {
    const id = canonicalKey(previous._id);
    if (canonicalKey(next._id) !== id) {
      throw new CommandError(
        "ImmutableField",
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    const keys = this.#checkUnique(next, id);
    const seq = this.#seqs.get(id)!;
    for (const index of this.#indexes.values()) index.remove(id, index.keysOf(previous), seq);
    for (const [index, indexKeys] of keys) index.add(id, indexKeys, seq);
    this.#docs.set(id, next);
    this.#sink({ o: "i", db: this.db, c: this.name, d: next });
  }

  /** Deletes a stored document. */
  remove(doc: Document, log = true): void {
    const id = canonicalKey(doc._id);
    if (!this.#docs.delete(id)) return;
    const seq = this.#seqs.get(id)!;
    this.#seqs.delete(id);
    for (const index of this.#indexes.values()) index.remove(id, index.keysOf(doc), seq);
    if (log) this.#sink({ o: "d", db: this.db, c: this.name, id: doc._id });
  }

  /** Removes the document with this `_id` (log replay). */
  removeById(id: unknown): void {
    const doc = this.byId(id);
    if (doc) this.remove(doc, false);
  }

  /** Stores a document from the log, replacing any with the same `_id`, without unique checks. */
  restore(doc: Document): void {
    const previous = this.byId(doc._id);
    const id = canonicalKey(doc._id);
    const seq = this.#seqs.get(id) ?? this.#nextSeq++;
    for (const index of this.#indexes.values()) {
      if (previous) index.remove(id, index.keysOf(previous), seq);
      index.add(id, index.keysOf(doc), seq);
    }
    this.#seqs.set(id, seq);
    this.#docs.set(id, doc);
  }

  /** Adds a secondary index over the documents already stored; throws DuplicateKey if unique fails. */
  createIndex(spec: IndexSpec, log = true): void {
    const index = new SecondaryIndex(spec);
    for (const [id, doc] of this.#docs) {
      const keys = index.keysOf(doc);
      if (index.unique) {
        const clash = index.conflict(keys, id);
        if (clash) throw duplicateKeyError(this.namespace, spec.name, spec.key, clash.values);
      }
      index.add(id, keys, this.#seqs.get(id)!);
    }
    this.#indexes.set(spec.name, index);
    if (log) this.#sink({ o: "ci", db: this.db, c: this.name, spec });
  }

  /** Drops a secondary index by name. */
  dropIndex(name: string, log = true): void {
    if (!this.#indexes.delete(name)) return;
    if (log) this.#sink({ o: "di", db: this.db, c: this.name, name });
  }

  /**
   * The documents a filter may match, narrowed by `_id` or by the index whose equality (or first-field `$in`)
   * prefix leaves the fewest. Under a collation strings match beyond their canonical keys, so nothing narrows.
   */
  candidates(filter: Document | undefined, collated = false, sort?: Record<string, 1 | -1>): Candidates {
    if (collated) {
      return { docs: this.#docs.values(), exact: Object.keys(filter ?? {}).length === 0, indexes: [] };
    }
    if (sort) {
      const plan = orderedPlan(this.#indexes.values(), filter ?? {}, sort, (index) => this.#entriesOf(index));
      if (plan) {
        return { ...plan, docs: this.#byIds(plan.ids), exact: Object.keys(filter ?? {}).length === 0 };
      }
    }
    if (!filter) return { docs: this.#docs.values(), exact: true, indexes: [] };
    const fields = Object.keys(filter);
    const id = filter._id;
    if (id !== undefined) {
      const values = inValues(id);
      if (values) {
        return {
          docs: this.#byIds(new Set(values.map(canonicalKey))),
          exact: fields.length === 1,
          indexes: ["_id_"],
        };
      }
      const value = equalityValue(id);
      if (value !== NO_EQUALITY) {
        const doc = this.#docs.get(canonicalKey(value));
        return { docs: doc ? [doc] : [], exact: fields.length === 1 && isPlainValue(id), indexes: ["_id_"] };
      }
    }
    const best = this.#narrowest(filter);
    const entries = (index: SecondaryIndex) => this.#entriesOf(index);
    // Index order saves the sort, worth a somewhat larger candidate set than the narrowest lookup's.
    const sorted = sort
      ? orderedPlan(this.#indexes.values(), filter, sort, entries, best ? 2 * best.ids.size : Infinity)
      : undefined;
    if (sorted) {
      return {
        docs: this.#byIds(sorted.ids),
        exact: fields.length === 0,
        indexes: sorted.indexes,
        sorted: true,
      };
    }
    const ranged = orderedPlan(
      this.#indexes.values(),
      filter,
      undefined,
      entries,
      best ? best.ids.size - 1 : Infinity,
    );
    if (ranged) {
      return { docs: this.#byIds(ranged.ids), exact: false, indexes: ranged.indexes };
    }
    if (best) return { docs: this.#byIds(best.ids), exact: best.exact, indexes: best.indexes };
    return { docs: this.#docs.values(), exact: fields.length === 0, indexes: [] };
  }

  #entriesOf(index: SecondaryIndex): OrderedEntry[] {
    const entries: OrderedEntry[] = [];
    for (const [id, doc] of this.#docs) {
      const seq = this.#seqs.get(id)!;
      for (const { values } of index.keysOf(doc)) entries.push({ values, id, seq });
    }
    return entries;
  }

  // The smallest set of ids an index selects for `filter`, or for each branch of a top-level `$or` (all of
  // them must narrow, or the scan is needed anyway).
  #narrowest(filter: Document): { ids: Set<string>; exact: boolean; indexes: string[] } | undefined {
    const fields = Object.keys(filter);
    let best: { ids: Set<string>; exact: boolean; indexes: string[] } | undefined;
    for (const index of this.#indexes.values()) {
      if (!index.narrowsFor(filter)) continue;
      const ids = prefixLookup(index, filter);
      if (ids && (!best || ids.size < best.ids.size)) {
        const exact = fields.length === 1 && index.fields.length === 1 &&
          (isPlainValue(filter[fields[0]]) || inValues(filter[fields[0]]) !== undefined);
        best = { ids, exact, indexes: [index.spec.name] };
      }
    }
    if (!best && fields.length === 1 && Array.isArray(filter.$or) && filter.$or.length > 0) {
      const ids = new Set<string>();
      const indexes = new Set<string>();
      for (const branch of filter.$or) {
        if (!isPlainObject(branch)) return undefined;
        const narrowed = branch._id !== undefined ? undefined : this.#narrowest(branch);
        if (!narrowed) return undefined;
        for (const id of narrowed.ids) ids.add(id);
        for (const name of narrowed.indexes) indexes.add(name);
      }
      best = { ids, exact: false, indexes: [...indexes] };
    }
    return best;
  }

  #byIds(ids: Iterable<string>): Document[] {
    const docs: Document[] = [];
    for (const id of ids) {
      const doc = this.#docs.get(id);
      if (doc) docs.push(doc);
    }
    return docs;
  }

  #checkUnique(doc: Document, selfId: string): [SecondaryIndex, IndexKey[]][] {
    const keys: [SecondaryIndex, IndexKey[]][] = [];
    for (const index of this.#indexes.values()) {
      const indexKeys = index.keysOf(doc);
      if (index.unique) {
        const clash = index.conflict(indexKeys, selfId);
        if (clash) throw duplicateKeyError(this.namespace, index.spec.name, index.spec.key, clash.values);
      }
      keys.push([index, indexKeys]);
    }
    return keys;
  }
}

// mongod refuses an `_id` that is an array or a regex, or that holds a `$`-prefixed field at any depth.
function checkId(id: unknown): void {
  if (Array.isArray(id)) throw new CommandError("BadValue", "can't use an array for _id");
  if (id instanceof RegExp) throw new CommandError("BadValue", "can't use a regex for _id");
  const dollar = dollarField(id);
  if (dollar) {
    throw new CommandError(
      "DollarPrefixedFieldName",
      `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`,
    );
  }
}

function dollarField(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  for (const [field, inner] of Object.entries(value)) {
    if (field.startsWith("$")) return field;
    const nested = dollarField(inner);
    if (nested) return nested;
  }
  return undefined;
}
