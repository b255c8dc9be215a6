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
import { currentOperations } from "./status.ts";
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  cursorReply,
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
  else if (!filter || Object.keys(filter).length === 0) n = Math.max(0, collection.size - skip);
  else n = findDocuments(collection, { filter, skip }).length;
  return { n: limit ? Math.min(n, limit) : n, ok: 1 };
}

function distinct(context: CommandContext): Document {
  const { server, db, body } = context;
  if (typeof body.key !== "string") {
    throw new CommandError("TypeMismatch", "BSON field 'distinct.key' is missing or not a string");
  }
  const path = body.key.split(".");
  const docs = findDocuments(server.catalog.get(db, collectionName(context)), {
    filter: optionalDocument(body, "query"),
  });
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    for (const value of valuesAtPath(doc, path)) {
      if (value !== undefined && !seen.has(canonicalKey(value))) seen.set(canonicalKey(value), value);
    }
  }
  return { values: [...seen.values()], ok: 1 };
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
  const results = runPipeline(server.catalog, db, target, stages, input);
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
