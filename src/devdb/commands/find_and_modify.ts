/**
 * findAndModify: update, replace or remove one document and return it (before or after).
 *
 * @module
 */
import type { Document } from "bson";
import { Query } from "mingo";
import { CommandError } from "../errors.ts";
import { findDocuments, withMingo } from "../storage/query.ts";
import { applyUpdate, upsertDocument } from "../storage/update.ts";
import { checkUpdate } from "../storage/update_checks.ts";
import { checkValidation } from "../storage/validation.ts";
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  matchOptions,
  optionalDocument,
} from "./context.ts";

function project(doc: Document | null, fields: Document | undefined): Document | null {
  if (!doc || !fields || Object.keys(fields).length === 0) return doc;
  return withMingo(() => new Query({}, {}).find<Document>([doc], fields).all()[0] ?? null);
}

async function findAndModify(context: CommandContext): Promise<Document> {
  const { server, db, body } = context;
  const name = collectionName(context);
  const filter = optionalDocument(body, "query");
  const fields = optionalDocument(body, "fields");
  const update = body.update as Document | Document[] | undefined;
  const remove = body.remove === true;
  if (remove && update !== undefined) {
    throw new CommandError("FailedToParse", "Cannot specify both an update and remove=true");
  }
  if (!remove && (update === undefined || update === null)) {
    throw new CommandError("FailedToParse", "Either an update or remove=true must be specified");
  }
  if (remove && body.upsert === true) {
    throw new CommandError("FailedToParse", "Cannot specify both upsert=true and remove=true");
  }
  if (remove && body.new === true) {
    throw new CommandError(
      "FailedToParse",
      "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
    );
  }

  if (!remove) checkUpdate(update, body.arrayFilters);
  const collection = remove ? server.catalog.get(db, name) : server.catalog.ensure(db, name);
  const match = matchOptions(body);
  const [matched] = findDocuments(collection, {
    filter,
    sort: optionalDocument(body, "sort"),
    limit: 1,
    ...match,
  });
  let reply: Document;
  if (remove) {
    if (matched) collection!.remove(matched);
    reply = { lastErrorObject: { n: matched ? 1 : 0 }, value: project(matched ?? null, fields), ok: 1 };
  } else if (matched) {
    const next = applyUpdate(matched, update!, { arrayFilters: body.arrayFilters, filter, ...match });
    if (next) {
      if (body.bypassDocumentValidation !== true) checkValidation(collection!.options, next, matched);
      collection!.replace(matched, next);
    }
    const value = body.new === true ? next ?? matched : matched;
    reply = { lastErrorObject: { n: 1, updatedExisting: true }, value: project(value, fields), ok: 1 };
  } else if (body.upsert === true) {
    const doc = upsertDocument(filter, update!, { arrayFilters: body.arrayFilters, ...match });
    if (body.bypassDocumentValidation !== true) checkValidation(collection!.options, doc);
    collection!.insert(doc);
    reply = {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: body.new === true ? project(doc, fields) : null,
      ok: 1,
    };
  } else {
    reply = { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  }
  await server.durable();
  return reply;
}

/** findAndModify under both of its spellings. */
export const findAndModifyCommands: Record<string, CommandHandler> = {
  findAndModify,
  findandmodify: findAndModify,
};
