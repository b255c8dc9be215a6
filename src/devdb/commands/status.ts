/**
 * serverStatus and currentOp: what the server and its connections are doing.
 *
 * @module
 */
import { type Document, Long } from "bson";
import { Query } from "mingo";
import { withMingo } from "../storage/query.ts";
import { SERVER_VERSION } from "./handshake.ts";
import type { CommandContext, CommandHandler, ConnectionInfo, ServerState } from "./context.ts";

// mongod's default cap when none is configured.
const DEFAULT_AVAILABLE = 838_860;

/** The `connections` section of serverStatus. */
export function connectionsSection(server: ServerState): Document {
  const open = [...server.connections()];
  const counters = server.connectionCounters();
  const cap = server.maxConnections ?? DEFAULT_AVAILABLE;
  return {
    current: open.length,
    available: Math.max(0, cap - open.length),
    totalCreated: Long.fromNumber(counters.totalCreated),
    rejected: Long.fromNumber(counters.refused),
    active: open.filter((connection) => connection.active).length,
  };
}

function serverStatus({ server }: CommandContext): Document {
  const uptimeMillis = Date.now() - server.startedAt;
  const opcounters: Document = {};
  for (const [name, count] of Object.entries(server.opcounters)) opcounters[name] = Long.fromNumber(count);
  return {
    host: `${server.hostname}:${server.port}`,
    version: SERVER_VERSION,
    process: "mongod",
    pid: Long.fromNumber(Deno.pid),
    uptime: uptimeMillis / 1000,
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: new Date(),
    connections: connectionsSection(server),
    opcounters,
    metrics: {
      cursor: {
        timedOut: Long.fromNumber(server.cursors.timedOut),
        open: { total: Long.fromNumber(server.cursors.size) },
      },
    },
    ok: 1,
  };
}

function sameUser(a: ConnectionInfo, b: ConnectionInfo): boolean {
  return a.user?.user === b.user?.user && a.user?.db === b.user?.db;
}

/**
 * One `inprog` entry per open connection; idle ones only when `all` is set; with `owner`, only the
 * connections of the user `owner` is authenticated as (`$ownOps`, `allUsers: false`).
 */
export function currentOperations(server: ServerState, all: boolean, owner?: ConnectionInfo): Document[] {
  const entries: Document[] = [];
  for (const connection of server.connections()) {
    if (!all && !connection.active) continue;
    if (owner && !sameUser(connection, owner)) continue;
    const entry: Document = {
      type: "op",
      host: `${server.hostname}:${server.port}`,
      desc: `conn${connection.id}`,
      connectionId: connection.id,
      client: connection.remote,
      appName: connection.appName,
      clientMetadata: connection.clientMetadata ?? {},
      active: connection.active,
      currentOpTime: new Date().toISOString(),
      ...(connection.user
        ? { effectiveUsers: [{ user: connection.user.user, db: connection.user.db }] }
        : {}),
    };
    if (connection.active) {
      entry.opid = connection.currentOpId;
      entry.op = "command";
      entry.ns = connection.currentNamespace;
      entry.command = connection.currentCommand;
    } else {
      entry.op = "none";
    }
    entries.push(entry);
  }
  return entries;
}

const CURRENT_OP_OPTIONS = new Set([
  "currentOp",
  "$all",
  "$ownOps",
  "$db",
  "lsid",
  "$clusterTime",
  "$readPreference",
]);

function currentOp({ server, body, connection }: CommandContext): Document {
  const filter: Document = {};
  for (const [field, value] of Object.entries(body)) {
    if (!CURRENT_OP_OPTIONS.has(field)) filter[field] = value;
  }
  let inprog = currentOperations(server, body.$all === true, body.$ownOps === true ? connection : undefined);
  if (Object.keys(filter).length) {
    const query = withMingo(() => new Query(filter, {}));
    inprog = inprog.filter((entry) => query.test(entry));
  }
  return { inprog, ok: 1 };
}

/** serverStatus and currentOp, by name. */
export const statusCommands: Record<string, CommandHandler> = { serverStatus, currentOp };
