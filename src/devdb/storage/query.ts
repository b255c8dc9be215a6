/**
 * Finding documents: candidates from `_id` or an index, then `mingo` for matching, sort and projection.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import type { Collection } from "./collection.ts";
import { type MatchOptions, Query } from "./mingo_context.ts";
import { checkHint } from "./hint.ts";

/** What a find, count, delete or update selects. */
export interface Selection extends MatchOptions {
  filter?: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
  /** An index name or key pattern the command names; BadValue when the collection has no such index. */
  hint?: unknown;
  /** Filled in with how the documents were found (for explain). */
  stats?: ExecutionStats;
}

/** How a selection found its documents. */
export interface ExecutionStats {
  /** The indexes used; none for a collection scan. */
  indexes: string[];
  /** Documents the index or scan handed on to matching. */
  examined: number;
}

/** Runs a mingo call, turning its errors into mongod's codes (BadValue for most). */
export function withMingo<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof CommandError) throw error;
    const message = (error as Error).message ?? String(error);
    const variable = /^Use of undefined variable: (.*)$/.exec(message);
    if (variable) throw new CommandError("Location17276", `Use of undefined variable: ${variable[1]}`);
    if (/operator:? \$text\b/.test(message)) {
      throw new CommandError(
        "IndexNotFound",
        "text index required for $text query (the devdb has no text indexes)",
      );
    }
    throw new CommandError("BadValue", message);
  }
}

/** The matching documents, sorted, skipped, limited and projected. Stored objects come back unless projected. */
export function findDocuments(collection: Collection | undefined, selection: Selection): Document[] {
  if (!collection) return [];
  checkHint(collection, selection.hint);
  const collation = selection.collation ?? collection.options.collation as Document | undefined;
  const match: MatchOptions = { collation, variables: selection.variables };
  const sort = usableSort(selection.sort);
  const { docs, exact, indexes, sorted } = collection.candidates(
    selection.filter,
    collation !== undefined,
    sort,
  );
  if (selection.stats) {
    selection.stats.indexes = indexes;
    selection.stats.examined = Array.isArray(docs) ? docs.length : collection.size;
  }
  const skip = selection.skip ?? 0;
  const limit = selection.limit ? Math.abs(selection.limit) : Infinity;
  const projection = selection.projection && Object.keys(selection.projection).length
    ? selection.projection
    : undefined;
  const unsorted = !sort || sorted === true;
  if (exact && unsorted && !projection) return take(docs, skip, limit);
  return withMingo(() => {
    const query = new Query(selection.filter ?? {}, match);
    if (unsorted) {
      const taken = exact ? take(docs, skip, limit) : take(filtered(docs, query), skip, limit);
      return projection ? new Query({}, match).find<Document>(taken, projection).all() : taken;
    }
    let cursor = query.find<Document>(Array.isArray(docs) ? docs : [...docs], projection);
    if (sort) cursor = cursor.sort(sort);
    return take(cursor.all(), skip, limit);
  });
}

/** Whether a document matches a filter. */
export function matches(filter: Document | undefined, doc: Document, match: MatchOptions = {}): boolean {
  if (!filter || Object.keys(filter).length === 0) return true;
  return withMingo(() => new Query(filter, match).test(doc));
}

function* filtered(docs: Iterable<Document>, query: Query): Generator<Document> {
  for (const doc of docs) if (query.test(doc)) yield doc;
}

function take(docs: Iterable<Document>, skip: number, limit: number): Document[] {
  const out: Document[] = [];
  if (limit <= 0) return out;
  let skipped = 0;
  for (const doc of docs) {
    if (skipped < skip) {
      skipped++;
      continue;
    }
    out.push(doc);
    if (out.length >= limit) break;
  }
  return out;
}

// `$natural` and `$meta` sorts have no meaning here; insertion order already is natural order.
function usableSort(sort: Document | undefined): Record<string, 1 | -1> | undefined {
  if (!sort) return undefined;
  const usable: Record<string, 1 | -1> = {};
  for (const [field, direction] of Object.entries(sort)) {
    if (field === "$natural" || typeof direction === "object") continue;
    if (direction !== 1 && direction !== -1) {
      throw new CommandError(
        "BadValue",
        `$sort key ordering must be 1 (for ascending) or -1 (for descending)`,
      );
    }
    usable[field] = direction;
  }
  return Object.keys(usable).length ? usable : undefined;
}
