/**
 * explain for find and count: which index chose the documents and how many it handed on to matching.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { type ExecutionStats, findDocuments } from "../storage/query.ts";
import { checkCommandFields } from "./allowed_fields.ts";
import {
  type CommandContext,
  type CommandHandler,
  matchOptions,
  optionalCount,
  optionalDocument,
} from "./context.ts";

function winningPlan(stats: ExecutionStats): Document {
  if (stats.indexes.length === 0) return { stage: "COLLSCAN" };
  const scans = stats.indexes.map((indexName) => ({ stage: "IXSCAN", indexName }));
  return { stage: "FETCH", inputStage: scans.length === 1 ? scans[0] : { stage: "OR", inputStages: scans } };
}

function explain({ server, db, body }: CommandContext): Document {
  const inner = optionalDocument(body, "explain");
  const name = inner && Object.keys(inner)[0];
  if (!inner || (name !== "find" && name !== "count")) {
    throw new CommandError(
      "CommandNotSupported",
      `explain of '${name}' is not supported by the devdb (embedded server); it explains find and count`,
    );
  }
  checkCommandFields(name, inner);
  const target = inner[name];
  if (typeof target !== "string") {
    throw new CommandError("InvalidNamespace", "explain needs a collection name");
  }
  const stats: ExecutionStats = { indexes: [], examined: 0 };
  const docs = findDocuments(server.catalog.get(db, target), {
    filter: optionalDocument(inner, name === "find" ? "filter" : "query"),
    sort: optionalDocument(inner, "sort"),
    skip: optionalCount(inner, "skip"),
    limit: optionalCount(inner, "limit"),
    ...matchOptions(inner),
    stats,
  });
  return {
    queryPlanner: { namespace: `${db}.${target}`, winningPlan: winningPlan(stats), rejectedPlans: [] },
    executionStats: {
      executionSuccess: true,
      nReturned: docs.length,
      totalDocsExamined: stats.examined,
      executionStages: winningPlan(stats),
    },
    command: inner,
    ok: 1,
  };
}

/** explain, by name. */
export const explainCommands: Record<string, CommandHandler> = { explain };
