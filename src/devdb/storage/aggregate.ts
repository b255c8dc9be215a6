/**
 * Aggregation pipelines with `mingo`, a leading `$match` narrowed by indexes, and `$out` into a collection.
 *
 * @module
 */
import type { Document } from "bson";
import { ProcessingMode } from "mingo";
import { CommandError } from "../errors.ts";
import type { Catalog } from "./catalog.ts";
import { cloneValue } from "./clone.ts";
import { Aggregator, type MatchOptions } from "./mingo_context.ts";
import { findDocuments, withMingo } from "./query.ts";
import { withIdFirst } from "./update.ts";
import { ObjectId } from "bson";

/** Runs `pipeline` over `db.collection` (or over `input` when given) and returns the results. */
export function runPipeline(
  catalog: Catalog,
  db: string,
  collectionName: string | undefined,
  pipeline: Document[],
  input?: Document[],
  match: MatchOptions & { hint?: unknown } = {},
): Document[] {
  let stages = pipeline;
  let docs = input;
  if (!docs) {
    const collection = collectionName === undefined ? undefined : catalog.get(db, collectionName);
    const leadingMatch = stages[0]?.$match as Document | undefined;
    docs = findDocuments(collection, { filter: leadingMatch, ...match });
    match = { ...match, collation: match.collation ?? collection?.options.collation as Document | undefined };
    if (leadingMatch) stages = stages.slice(1);
  }
  const out = stages.at(-1)?.$out;
  if (out !== undefined) stages = stages.slice(0, -1);
  if (stages.some((stage) => "$merge" in stage)) {
    throw new CommandError("NotImplemented", "$merge is not supported by the embedded server");
  }
  const results = stages.length === 0 ? docs : withMingo(() =>
    new Aggregator(stages, match, {
      // Stored documents are shared with the pipeline; clone them so no stage can change what is stored.
      processingMode: ProcessingMode.CLONE_INPUT,
      // Joined documents end up inside results that later stages may change, so they are copies too.
      collectionResolver: (name: string) => [...(catalog.get(db, name)?.documents() ?? [])].map(cloneValue),
    }).run(docs) as Document[]
  );
  if (out !== undefined) {
    writeOut(catalog, db, out, results);
    return [];
  }
  return results;
}

function writeOut(catalog: Catalog, db: string, out: unknown, results: Document[]): void {
  const target = typeof out === "string" ? { db, coll: out } : out as { db?: string; coll?: string };
  if (!target.coll) throw new CommandError("FailedToParse", "$out requires a collection name");
  const targetDb = target.db ?? db;
  const indexes = catalog.get(targetDb, target.coll)?.secondaryIndexes();
  const specs = indexes ? [...indexes].map((index) => index.spec) : [];
  catalog.drop(targetDb, target.coll);
  const collection = catalog.create(targetDb, target.coll, {});
  for (const spec of specs) collection.createIndex(spec);
  for (const doc of results) {
    const stored = withIdFirst(cloneValue(doc));
    collection.insert(stored._id === undefined ? { _id: new ObjectId(), ...stored } : stored);
  }
}
