/**
 * Read commands: find, getMore, killCursors, count, distinct and aggregate.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { runPipeline } from "../storage/aggregate.ts";
import { canonicalKey, valuesAtPath } from "../storage/keys.ts";
import { findDocuments } from "../storage/query.ts";
import { collatorOf } from "../storage/mingo_context.ts";
import { currentOperations } from "./status.ts";
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  cursorReply,
  matchOptions,
  optionalCount,
  optionalDocument,
} from "./context.ts";

function find(context: CommandContext): Document {
  const { server, db, body } = context;
  const name = collectionName(context);
  const limit = optionalCount(body, "limit");
  const docs = findDocuments(server.catalog.get(db, name), {
    filter: optionalDocument(body, "filter"),
    sort: optionalDocument(body, "sort"),
    projection: optionalDocument(body, "projection"),
    skip: optionalCount(body, "skip"),
    limit,
    ...matchOptions(body),
  });
  const singleBatch = body.singleBatch === true || (limit !== undefined && limit < 0);
  return cursorReply(
    server.cursors.open(`${db}.${name}`, docs, optionalCount(body, "batchSize"), singleBatch),
    true,
  );
}

function getMore({ server, body }: CommandContext): Document {
  const id = Number(body.getMore);
  return cursorReply(server.cursors.more(id, optionalCount(body, "batchSize")), false);
}

function killCursors({ server, body }: CommandContext): Document {
  const killed: unknown[] = [];
  const notFound: unknown[] = [];
  for (const id of (body.cursors ?? []) as unknown[]) {
    (server.cursors.kill(Number(id)) ? killed : notFound).push(id);
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(context: CommandContext): Document {
  const { server, db, body } = context;
  const collection = server.catalog.get(db, collectionName(context));
  const filter = optionalDocument(body, "query");
  const skip = optionalCount(body, "skip") ?? 0;
  const limit = Math.abs(optionalCount(body, "limit") ?? 0);
  let n: number;
  if (!collection) n = 0;
  else if ((!filter || Object.keys(filter).length === 0) && body.hint === undefined) {
    n = Math.max(0, collection.size - skip);
  } else n = findDocuments(collection, { filter, skip, ...matchOptions(body) }).length;
  return { n: limit ? Math.min(n, limit) : n, ok: 1 };
}

function distinct(context: CommandContext): Document {
  const { server, db, body } = context;
  if (typeof body.key !== "string") {
    throw new CommandError("TypeMismatch", "BSON field 'distinct.key' is missing or not a string");
  }
  const path = body.key.split(".");
  const collection = server.catalog.get(db, collectionName(context));
  const match = matchOptions(body);
  const docs = findDocuments(collection, { filter: optionalDocument(body, "query"), ...match });
  const collator = collatorOf(match.collation ?? collection?.options.collation);
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    for (const value of valuesAtPath(doc, path)) {
      if (value === undefined) continue;
      // Under a collation, strings that compare equal are one value: the first one met.
      const key = collator && typeof value === "string"
        ? "c" + collationKey(collator, seen, value)
        : canonicalKey(value);
      if (!seen.has(key)) seen.set(key, value);
    }
  }
  return { values: [...seen.values()], ok: 1 };
}

// The value already seen that `value` equals under `collator`, or `value` itself.
function collationKey(collator: Intl.Collator, seen: Map<string, unknown>, value: string): string {
  for (const key of seen.keys()) {
    if (key.startsWith("c") && collator.compare(key.slice(1), value) === 0) return key.slice(1);
  }
  return value;
}

async function aggregate({ server, db, body, connection }: CommandContext): Promise<Document> {
  const pipeline = body.pipeline;
  if (!Array.isArray(pipeline)) {
    throw new CommandError("TypeMismatch", "'pipeline' option must be specified as an array");
  }
  const cursor = optionalDocument(body, "cursor");
  if (!cursor && !body.explain) {
    throw new CommandError(
      "FailedToParse",
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const target = typeof body.aggregate === "string" ? body.aggregate : undefined;
  let stages = pipeline as Document[];
  let input: Document[] | undefined;
  const currentOp = stages[0]?.$currentOp as Document | undefined;
  if (currentOp) {
    const owner = currentOp.allUsers === true ? undefined : connection;
    input = currentOperations(server, currentOp.idleConnections === true, owner);
    stages = stages.slice(1);
  } else if (target === undefined && stages[0]?.$documents) {
    input = stages[0].$documents as Document[];
    stages = stages.slice(1);
  } else if (target === undefined) {
    throw new CommandError("InvalidNamespace", "{aggregate: 1} is not valid for this pipeline");
  }
  if (stages.some((stage) => "$changeStream" in stage)) {
    throw new CommandError(
      "Location40573",
      "The $changeStream stage is only supported on replica sets (the devdb is a standalone without change streams)",
    );
  }
  const results = runPipeline(server.catalog, db, target, stages, input, matchOptions(body));
  if (stages.at(-1)?.$out !== undefined) await server.durable();
  const ns = `${db}.${target ?? "$cmd.aggregate"}`;
  return cursorReply(server.cursors.open(ns, results, optionalCount(cursor ?? {}, "batchSize")), true);
}

/** Read commands, by name. */
export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
  aggregate,
};
