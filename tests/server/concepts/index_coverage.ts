/**
 * Checks that the queries a test made could each be served by an index: every filter sent to the server
 * constrains `_id` or the leading field of one of the collection's indexes.
 *
 * @module
 */
import type { CommandStartedEvent, Db, Document, MongoClient } from "mongodb";

/** A filter the client sent, and where it went. */
export interface SentFilter {
  command: string;
  collection: string;
  filter: Document;
}

function filtersOf(event: CommandStartedEvent): Document[] {
  const cmd = event.command;
  switch (event.commandName) {
    case "find":
      return [cmd.filter ?? {}];
    case "findAndModify":
      return [cmd.query ?? {}];
    case "update":
      return (cmd.updates ?? []).map((u: Document) => u.q);
    case "delete":
      return (cmd.deletes ?? []).map((d: Document) => d.q);
    case "aggregate":
      return (cmd.pipeline ?? []).slice(0, 1).map((stage: Document) => stage.$match ?? {});
    case "count":
      return [cmd.query ?? {}];
    default:
      return [];
  }
}

/** Starts recording the filters `client` sends (it must be made with `monitorCommands: true`). */
export function recordFilters(client: MongoClient): SentFilter[] {
  const sent: SentFilter[] = [];
  client.on("commandStarted", (event) => {
    const collection = event.command[event.commandName];
    if (typeof collection !== "string") return;
    for (const filter of filtersOf(event)) sent.push({ command: event.commandName, collection, filter });
  });
  return sent;
}

/** The recorded filters that no index serves. */
export async function unindexed(db: Db, sent: SentFilter[]): Promise<SentFilter[]> {
  const leading = new Map<string, Set<string>>();
  for (const name of new Set(sent.map((s) => s.collection))) {
    const indexes = await db.collection(name).listIndexes().toArray().catch(() => []);
    leading.set(name, new Set(indexes.map((index) => Object.keys(index.key)[0])));
  }
  return sent.filter(({ collection, filter }) => {
    const fields = Object.keys(filter);
    if (fields.length === 0) return true; // a collection scan
    return !fields.some((field) => field === "_id" || leading.get(collection)?.has(field));
  });
}
