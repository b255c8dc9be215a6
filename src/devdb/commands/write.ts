/**
 * Write commands: insert, update and delete, with ordered and unordered batches.
 *
 * @module
 */
import { type Document, ObjectId } from "bson";
import { CommandError } from "../errors.ts";
import type { Collection } from "../storage/collection.ts";
import { cloneValue } from "../storage/clone.ts";
import { findDocuments } from "../storage/query.ts";
import { applyUpdate, isOperatorUpdate, upsertDocument, withIdFirst } from "../storage/update.ts";
import { checkUpdate } from "../storage/update_checks.ts";
import { checkValidation } from "../storage/validation.ts";
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  matchOptions,
  optionalDocument,
} from "./context.ts";

/** A per-statement error in a write reply. */
interface WriteError {
  index: number;
  code: number;
  errmsg: string;
  [field: string]: unknown;
}

function statements(body: Document, field: string): Document[] {
  const list = body[field];
  if (!Array.isArray(list)) {
    throw new CommandError("FailedToParse", `BSON field '${field}' is missing but a required field`);
  }
  return list as Document[];
}

/**
 * Runs `apply` on each statement, collecting write errors; an ordered batch stops at the first one.
 * Errors that are not CommandErrors are bugs and propagate.
 */
function eachStatement(
  items: Document[],
  ordered: boolean,
  apply: (item: Document, index: number) => void,
): WriteError[] {
  const errors: WriteError[] = [];
  for (let index = 0; index < items.length; index++) {
    try {
      apply(items[index], index);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      errors.push({ index, code: error.code, errmsg: error.message, ...error.extra });
      if (ordered) break;
    }
  }
  return errors;
}

function withErrors(reply: Document, errors: WriteError[]): Document {
  if (errors.length) reply.writeErrors = errors;
  reply.ok = 1;
  return reply;
}

async function insert(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const docs = statements(body, "documents");
  const collection = server.catalog.ensure(db, collectionName(context));
  let n = 0;
  server.opcounters.insert += docs.length;
  const bypass = body.bypassDocumentValidation === true;
  const errors = eachStatement(docs, body.ordered !== false, (doc) => {
    const copy = withIdFirst(cloneValue(doc));
    const stored = copy._id === undefined ? { _id: new ObjectId(), ...copy } : copy;
    if (!bypass) checkValidation(collection.options, stored);
    collection.insert(stored);
    n++;
  });
  await server.durable();
  return withErrors({ n }, errors);
}

function updateOne(
  collection: Collection,
  statement: Document,
  index: number,
  result: Document,
  variables: Document | undefined,
  bypass: boolean,
): void {
  const { q: filter, u: update, upsert, multi, arrayFilters } = statement;
  if (update === null || typeof update !== "object") {
    throw new CommandError("FailedToParse", "BSON field 'update.updates.u' is missing but a required field");
  }
  if (multi === true && !Array.isArray(update) && !isOperatorUpdate(update)) {
    throw new CommandError("FailedToParse", "multi update is not supported for replacement-style update");
  }
  checkUpdate(update, arrayFilters);
  const matched = findDocuments(collection, {
    filter,
    sort: statement.sort,
    limit: multi === true ? 0 : 1,
    ...statementMatch(statement, variables),
  });
  if (matched.length === 0 && upsert === true) {
    const doc = upsertDocument(filter, update, { arrayFilters, variables });
    if (!bypass) checkValidation(collection.options, doc);
    collection.insert(doc);
    result.n++;
    (result.upserted ??= []).push({ index, _id: doc._id });
    return;
  }
  for (const doc of matched) {
    const next = applyUpdate(doc, update, { arrayFilters, filter, variables });
    result.n++;
    if (next) {
      if (!bypass) checkValidation(collection.options, next, doc);
      collection.replace(doc, next);
      result.nModified++;
    }
  }
}

// The collation and hint of one statement, and the command's `let` variables.
function statementMatch(statement: Document, variables: Document | undefined): Document {
  return { ...matchOptions(statement), ...(variables ? { variables } : {}) };
}

async function update(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const updates = statements(body, "updates");
  const collection = server.catalog.ensure(db, collectionName(context));
  const result: Document = { n: 0, nModified: 0 };
  const errors = eachStatement(updates, body.ordered !== false, (statement, index) => {
    server.opcounters.update++;
    updateOne(
      collection,
      statement,
      index,
      result,
      optionalDocument(body, "let"),
      body.bypassDocumentValidation === true,
    );
  });
  await server.durable();
  return withErrors(result, errors);
}

async function remove(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const deletes = statements(body, "deletes");
  const collection = server.catalog.get(db, collectionName(context));
  let n = 0;
  const errors = eachStatement(deletes, body.ordered !== false, (statement) => {
    server.opcounters.delete++;
    if (!collection) return;
    const limit = statement.limit === 1 ? 1 : 0;
    const match = statementMatch(statement, optionalDocument(body, "let"));
    for (const doc of findDocuments(collection, { filter: statement.q, limit, ...match })) {
      collection.remove(doc);
      n++;
    }
  });
  await server.durable();
  return withErrors({ n }, errors);
}

/** Write commands, by name. */
export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: remove };
