/**
 * Namespace and index commands: create, drop, dropDatabase, listCollections, listDatabases and the index ones.
 *
 * @module
 */
import { calculateObjectSize, type Document, UUID } from "bson";
import { Query } from "mingo";
import { CommandError } from "../errors.ts";
import { ID_INDEX_SPEC } from "../storage/collection.ts";
import { canonicalKey } from "../storage/keys.ts";
import { withMingo } from "../storage/query.ts";
import type { IndexSpec } from "../storage/secondary_index.ts";
import { indexSpecOf } from "./index_specs.ts";
import { collMod, createOptions } from "./collection_options.ts";
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  cursorReply,
  optionalCount,
  optionalDocument,
} from "./context.ts";

async function create(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const options = createOptions(body);
  server.catalog.create(db, collectionName(context), options);
  await server.durable();
  return { ok: 1 };
}

async function drop(context: CommandContext): Promise<Document> {
  const { server, db } = context;
  const name = collectionName(context);
  const collection = server.catalog.get(db, name);
  // Since MongoDB 7.0 dropping a missing collection succeeds.
  if (!collection) return { ok: 1 };
  const nIndexesWas = collection.indexSpecs().length;
  server.catalog.drop(db, name);
  await server.durable();
  return { nIndexesWas, ns: `${db}.${name}`, ok: 1 };
}

async function dropDatabase({ server, db }: CommandContext): Promise<Document> {
  server.catalog.dropDatabase(db);
  await server.durable();
  return { dropped: db, ok: 1 };
}

function filtered(entries: Document[], filter: Document | undefined): Document[] {
  if (!filter || Object.keys(filter).length === 0) return entries;
  const query = withMingo(() => new Query(filter, {}));
  return entries.filter((entry) => query.test(entry));
}

function listCollections({ server, db, body }: CommandContext): Document {
  const entries: Document[] = [];
  for (const [name, collection] of server.catalog.collections(db)) {
    entries.push(
      body.nameOnly === true ? { name, type: "collection" } : {
        name,
        type: "collection",
        options: collection.options,
        info: { readOnly: false, uuid: new UUID(collection.uuid) },
        idIndex: ID_INDEX_SPEC,
      },
    );
  }
  const docs = filtered(entries, optionalDocument(body, "filter"));
  const batchSize = optionalCount(optionalDocument(body, "cursor") ?? {}, "batchSize");
  return cursorReply(server.cursors.open(`${db}.$cmd.listCollections`, docs, batchSize), true);
}

function listDatabases({ server, body }: CommandContext): Document {
  const entries: Document[] = [];
  let totalSize = 0;
  for (const name of server.catalog.databaseNames()) {
    if (body.nameOnly === true) {
      entries.push({ name });
      continue;
    }
    let sizeOnDisk = 0;
    for (const collection of server.catalog.collections(name).values()) {
      for (const doc of collection.documents()) sizeOnDisk += calculateObjectSize(doc);
    }
    totalSize += sizeOnDisk;
    entries.push({ name, sizeOnDisk, empty: sizeOnDisk === 0 });
  }
  const databases = filtered(entries, optionalDocument(body, "filter"));
  return body.nameOnly === true
    ? { databases, ok: 1 }
    : { databases, totalSize, totalSizeMb: totalSize >> 20, ok: 1 };
}

function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  const { v: _a, ...restA } = a;
  const { v: _b, ...restB } = b;
  return canonicalKey(sortKeys(restA)) === canonicalKey(sortKeys(restB));
}

function sortKeys(doc: Document): Document {
  return Object.fromEntries(Object.entries(doc).sort(([x], [y]) => x < y ? -1 : 1));
}

async function createIndexes(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const name = collectionName(context);
  if (!Array.isArray(body.indexes)) throw new CommandError("TypeMismatch", "'indexes' must be an array");
  const specs = (body.indexes as Document[]).map(indexSpecOf);
  // Such an index would inherit the collection's collation, and its uniqueness would fold cases.
  if (server.catalog.get(db, name)?.options.collation && specs.some((spec) => spec.unique === true)) {
    throw new CommandError(
      "CannotCreateIndex",
      "unique indexes on a collection with a default collation are not supported by the devdb (embedded server)",
    );
  }
  const createdCollectionAutomatically = !server.catalog.get(db, name);
  const collection = server.catalog.ensure(db, name);
  const numIndexesBefore = collection.indexSpecs().length;
  for (const spec of specs) {
    const existing = collection.indexSpecs();
    const byName = existing.find((index) => index.name === spec.name);
    const byKey = existing.find((index) => canonicalKey(index.key) === canonicalKey(spec.key));
    if (byName && byKey === byName && sameOptions(byName, spec)) continue;
    if (byName && byKey === byName) {
      throw new CommandError(
        "IndexOptionsConflict",
        `An equivalent index already exists with the same name but different options. Requested index: ${
          JSON.stringify(spec)
        }, existing index: ${JSON.stringify(byName)}`,
      );
    }
    if (byName) {
      throw new CommandError(
        "IndexKeySpecsConflict",
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${
          JSON.stringify(spec)
        }, existing index: ${JSON.stringify(byName)}`,
      );
    }
    if (byKey) {
      throw new CommandError(
        "IndexOptionsConflict",
        `Index already exists with a different name: ${byKey.name}`,
      );
    }
    collection.createIndex(spec);
  }
  const numIndexesAfter = collection.indexSpecs().length;
  await server.durable();
  return {
    numIndexesBefore,
    numIndexesAfter,
    createdCollectionAutomatically,
    ...(numIndexesAfter === numIndexesBefore ? { note: "all indexes already exist" } : {}),
    ok: 1,
  };
}

function listIndexes(context: CommandContext): Document {
  const { server, db, body } = context;
  const name = collectionName(context);
  const collection = server.catalog.get(db, name);
  if (!collection) throw new CommandError("NamespaceNotFound", `ns does not exist: ${db}.${name}`);
  const batchSize = optionalCount(optionalDocument(body, "cursor") ?? {}, "batchSize");
  return cursorReply(server.cursors.open(`${db}.${name}`, collection.indexSpecs(), batchSize), true);
}

async function dropIndexes(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const name = collectionName(context);
  const collection = server.catalog.get(db, name);
  if (!collection) throw new CommandError("NamespaceNotFound", `ns not found ${db}.${name}`);
  const specs = collection.indexSpecs();
  const nIndexesWas = specs.length;
  const target = body.index;
  let names: string[];
  if (target === "*") {
    names = specs.slice(1).map((spec) => spec.name);
  } else if (typeof target === "string") {
    names = [target];
  } else if (Array.isArray(target)) {
    names = target as string[];
  } else if (target && typeof target === "object") {
    const found = specs.find((spec) => canonicalKey(spec.key) === canonicalKey(target));
    if (!found) {
      throw new CommandError("IndexNotFound", `can't find index with key: ${JSON.stringify(target)}`);
    }
    names = [found.name];
  } else {
    throw new CommandError("TypeMismatch", "BSON field 'dropIndexes.index' is missing but a required field");
  }
  for (const indexName of names) {
    if (indexName === "_id_") throw new CommandError("InvalidOptions", "cannot drop _id index");
    if (!specs.some((spec) => spec.name === indexName)) {
      throw new CommandError("IndexNotFound", `index not found with name [${indexName}]`);
    }
  }
  for (const indexName of names) collection.dropIndex(indexName);
  await server.durable();
  return { nIndexesWas, ok: 1 };
}

function sizeOf(collection: { documents(): Iterable<Document> }): number {
  let size = 0;
  for (const doc of collection.documents()) size += calculateObjectSize(doc);
  return size;
}

function dbStats({ server, db }: CommandContext): Document {
  const collections = [...server.catalog.collections(db).values()];
  const objects = collections.reduce((sum, collection) => sum + collection.size, 0);
  const dataSize = collections.reduce((sum, collection) => sum + sizeOf(collection), 0);
  const indexes = collections.reduce((sum, collection) => sum + collection.indexSpecs().length, 0);
  return {
    db,
    collections: collections.length,
    views: 0,
    objects,
    avgObjSize: objects ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes,
    indexSize: 0,
    totalSize: dataSize,
    scaleFactor: 1,
    ok: 1,
  };
}

function collStats(context: CommandContext): Document {
  const { server, db } = context;
  const name = collectionName(context);
  const collection = server.catalog.get(db, name);
  if (!collection) throw new CommandError("NamespaceNotFound", `Collection [${db}.${name}] not found.`);
  const size = sizeOf(collection);
  return {
    ns: `${db}.${name}`,
    count: collection.size,
    size,
    avgObjSize: collection.size ? size / collection.size : 0,
    storageSize: size,
    nindexes: collection.indexSpecs().length,
    totalIndexSize: 0,
    indexSizes: Object.fromEntries(collection.indexSpecs().map((spec) => [spec.name, 0])),
    ok: 1,
  };
}

/** Namespace and index commands, by name. */
export const ddlCommands: Record<string, CommandHandler> = {
  create,
  collMod: async (context) => {
    const reply = collMod(context);
    await context.server.durable();
    return reply;
  },
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  dbStats,
  collStats,
};
