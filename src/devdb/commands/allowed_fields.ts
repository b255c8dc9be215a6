/**
 * The fields each command accepts (its own, from mongod 8.0's IDL, plus the generic ones every command
 * takes); mongod refuses any other with 40415. Only commands whose field lists are listed here are checked.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";

// Generic arguments: drivers send these on any command, and mongos/replication internals add the rest.
const GENERIC = [
  "$db",
  "lsid",
  "txnNumber",
  "autocommit",
  "startTransaction",
  "stmtId",
  "$clusterTime",
  "readConcern",
  "writeConcern",
  "$readPreference",
  "readPreference",
  "apiVersion",
  "apiStrict",
  "apiDeprecationErrors",
  "comment",
  "maxTimeMS",
  "maxTimeMSOpOnly",
  "$audit",
  "$client",
  "$configServerState",
  "$configTime",
  "$topologyTime",
  "$oplogQueryData",
  "$queryOptions",
  "$replData",
  "databaseVersion",
  "shardVersion",
  "help",
  "clientOperationKey",
  "tracking_info",
  "usesDefaultMaxTimeMS",
  "txnRetryCounter",
  "mayBypassWriteBlocking",
  "allowImplicitCollectionCreation",
  "versionContext",
  "rawData",
  "expectPrefix",
  "serialization_context",
];

const OWN: Record<string, string[]> = {
  find: [
    "filter",
    "projection",
    "sort",
    "hint",
    "skip",
    "limit",
    "batchSize",
    "singleBatch",
    "max",
    "min",
    "returnKey",
    "showRecordId",
    "tailable",
    "oplogReplay",
    "noCursorTimeout",
    "awaitData",
    "allowPartialResults",
    "collation",
    "allowDiskUse",
    "let",
    "term",
    "readOnce",
    "includeQueryStatsMetrics",
  ],
  insert: ["documents", "ordered", "bypassDocumentValidation", "stmtIds", "isTimeseriesNamespace"],
  update: ["updates", "ordered", "bypassDocumentValidation", "let", "stmtIds", "isTimeseriesNamespace"],
  delete: ["deletes", "ordered", "let", "stmtIds", "isTimeseriesNamespace"],
  aggregate: [
    "pipeline",
    "explain",
    "allowDiskUse",
    "cursor",
    "bypassDocumentValidation",
    "collation",
    "hint",
    "let",
    "needsMerge",
    "fromMongos",
    "fromRouter",
    "collectionUUID",
    "isMapReduceCommand",
    "includeQueryStatsMetrics",
  ],
  count: ["query", "limit", "skip", "hint", "collation", "fields"],
  distinct: ["key", "query", "collation", "hint"],
  findAndModify: [
    "query",
    "fields",
    "sort",
    "hint",
    "collation",
    "arrayFilters",
    "remove",
    "update",
    "new",
    "upsert",
    "bypassDocumentValidation",
    "let",
  ],
  createIndexes: ["indexes", "commitQuorum", "ignoreUnknownIndexOptions", "isTimeseriesNamespace"],
  getMore: ["collection", "batchSize", "term", "lastKnownCommittedOpTime", "includeQueryStatsMetrics"],
};
OWN.findandmodify = OWN.findAndModify;

// The fields of one statement inside insert/update/delete batches.
const STATEMENTS: Record<string, [string, string[]]> = {
  update: ["updates", [
    "q",
    "u",
    "c",
    "upsert",
    "multi",
    "arrayFilters",
    "hint",
    "collation",
    "sort",
    "upsertSupplied",
  ]],
  delete: ["deletes", ["q", "limit", "hint", "collation"]],
};

const ALLOWED = new Map(
  Object.entries(OWN).map(([name, fields]) => [name, new Set([...GENERIC, ...fields])]),
);
const STATEMENT_FIELDS = new Map(
  Object.entries(STATEMENTS).map(([name, [field, fields]]) => [name, [field, new Set(fields)] as const]),
);

/** Location40415 when a command this table knows carries a field mongod does not accept. */
export function checkCommandFields(name: string, body: Document): void {
  const allowed = ALLOWED.get(name);
  if (!allowed) return;
  for (const field of Object.keys(body)) {
    if (field !== name && !allowed.has(field) && !field.startsWith("$_")) {
      throw unknownField(`${name}.${field}`);
    }
  }
  const statements = STATEMENT_FIELDS.get(name);
  if (!statements || !Array.isArray(body[statements[0]])) return;
  for (const statement of body[statements[0]] as unknown[]) {
    if (statement === null || typeof statement !== "object") continue;
    for (const field of Object.keys(statement)) {
      if (!statements[1].has(field)) throw unknownField(`${name}.${statements[0]}.${field}`);
    }
  }
}

function unknownField(path: string): CommandError {
  return new CommandError("Location40415", `BSON field '${path}' is an unknown field.`);
}
