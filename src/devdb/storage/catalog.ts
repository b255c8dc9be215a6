/**
 * Every database and collection of one server, and the log records that rebuild them.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { type ChangeSink, Collection } from "./collection.ts";
import type { IndexSpec } from "./secondary_index.ts";

/** Databases by name, collections by name. */
export class Catalog {
  readonly #databases = new Map<string, Map<string, Collection>>();
  #sink: ChangeSink;

  constructor(sink: ChangeSink = () => {}) {
    this.#sink = sink;
  }

  /** Routes future changes to `sink` (set once the log has been replayed). */
  setSink(sink: ChangeSink): void {
    this.#sink = sink;
  }

  /** Database names that hold at least one collection. */
  databaseNames(): string[] {
    return [...this.#databases.keys()];
  }

  /** The collections of a database, by name. */
  collections(db: string): Map<string, Collection> {
    return this.#databases.get(db) ?? new Map();
  }

  /** A collection, if it exists. */
  get(db: string, name: string): Collection | undefined {
    return this.#databases.get(db)?.get(name);
  }

  /** A collection, created (implicitly, as inserts do) when missing. */
  ensure(db: string, name: string): Collection {
    return this.get(db, name) ?? this.create(db, name, {});
  }

  /** Creates a collection; NamespaceExists when it already does. */
  create(db: string, name: string, options: Document, log = true): Collection {
    validateName(db, name);
    if (this.get(db, name)) {
      throw new CommandError("NamespaceExists", `Collection ${db}.${name} already exists.`);
    }
    const collection = new Collection(db, name, options, (record) => this.#sink(record));
    let collections = this.#databases.get(db);
    if (!collections) this.#databases.set(db, collections = new Map());
    collections.set(name, collection);
    if (log) this.#sink({ o: "cc", db, c: name, opts: options });
    return collection;
  }

  /** Drops a collection; false when there was none. */
  drop(db: string, name: string, log = true): boolean {
    const collections = this.#databases.get(db);
    if (!collections?.delete(name)) return false;
    if (collections.size === 0) this.#databases.delete(db);
    if (log) this.#sink({ o: "dc", db, c: name });
    return true;
  }

  /** Drops a database and its collections. */
  dropDatabase(db: string, log = true): void {
    if (!this.#databases.delete(db)) return;
    if (log) this.#sink({ o: "dd", db });
  }

  /** Total documents stored, a measure of the live data for log compaction. */
  documentCount(): number {
    let count = 0;
    for (const collections of this.#databases.values()) {
      for (const collection of collections.values()) count += collection.size + 1;
    }
    return count;
  }

  /** Replays one log record. */
  apply(record: Document): void {
    const { db, c } = record as { db: string; c: string };
    switch (record.o) {
      case "i":
        return (this.get(db, c) ?? this.create(db, c, {}, false)).restore(record.d);
      case "d":
        return this.get(db, c)?.removeById(record.id);
      case "cc":
        if (!this.get(db, c)) this.create(db, c, record.opts ?? {}, false);
        return;
      case "cm":
        return this.get(db, c)?.setOptions(record.opts ?? {}, false);
      case "dc":
        this.drop(db, c, false);
        return;
      case "ci": {
        const collection = this.get(db, c) ?? this.create(db, c, {}, false);
        collection.dropIndex((record.spec as IndexSpec).name, false);
        return collection.createIndex(record.spec as IndexSpec, false);
      }
      case "di":
        return this.get(db, c)?.dropIndex(record.name, false);
      case "dd":
        return this.dropDatabase(db, false);
      default:
        throw new Error(`unknown log record type ${String(record.o)}`);
    }
  }

  /** The records that rebuild the current state from nothing (for log compaction). */
  *snapshot(): Generator<Document> {
    for (const [db, collections] of this.#databases) {
      for (const [name, collection] of collections) {
        yield { o: "cc", db, c: name, opts: collection.options };
        for (const index of collection.secondaryIndexes()) yield { o: "ci", db, c: name, spec: index.spec };
        for (const doc of collection.documents()) yield { o: "i", db, c: name, d: doc };
      }
    }
  }
}

function validateName(db: string, name: string): void {
  if (!db || /[/\\. "$\0]/.test(db)) {
    throw new CommandError("InvalidNamespace", `Invalid database name: '${db}'`);
  }
  if (!name || name.includes("\0") || name.startsWith(".") || name.includes("$")) {
    throw new CommandError("InvalidNamespace", `Invalid collection name: ${name}`);
  }
}
