/**
 * Routes a decoded request to its command handler and turns failures into error replies.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { devdbLogger } from "../log.ts";
import { OpCode, type Request } from "../wire/protocol.ts";
import type { CommandContext, CommandHandler, ConnectionInfo, ServerState } from "./context.ts";
import { ddlCommands } from "./ddl.ts";
import { findAndModifyCommands } from "./find_and_modify.ts";
import { refuseOnAtlasM0, runGuarded } from "./guard.ts";
import { authCommands } from "./auth.ts";
import { replicaCommands } from "./replica.ts";
import { handshakeCommands } from "./handshake.ts";
import { readCommands } from "./read.ts";
import { statusCommands } from "./status.ts";
import { writeCommands } from "./write.ts";

const log = devdbLogger("commands");

const COMMANDS: Record<string, CommandHandler> = {
  ...handshakeCommands,
  ...statusCommands,
  ...readCommands,
  ...writeCommands,
  ...findAndModifyCommands,
  ...ddlCommands,
  ...authCommands,
  ...replicaCommands,
};

// The commands mongod still accepts over OP_QUERY; anything else there is "UnsupportedOpQueryCommand".
const OP_QUERY_COMMANDS = new Set(["hello", "isMaster", "ismaster"]);

// Commands mongod counts in their own opcounter instead of `command`.
const OWN_COUNTER = new Set(["insert", "update", "delete", "find", "getMore"]);

/** The database a request targets. */
function databaseOf(request: Request): string {
  if (request.opCode === OpCode.QUERY) return (request.collectionName ?? "admin.$cmd").split(".")[0];
  const db = request.body.$db;
  if (typeof db !== "string") throw new CommandError("BadValue", "OP_MSG requests require a $db argument");
  return db;
}

function check(server: ServerState, request: Request, name: string | undefined): CommandHandler {
  if (name === undefined) throw new CommandError("FailedToParse", "empty command document");
  if (request.opCode === OpCode.QUERY && !OP_QUERY_COMMANDS.has(name)) {
    throw new CommandError(
      "UnsupportedOpQueryCommand",
      `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`,
    );
  }
  const body = request.body;
  if (body.txnNumber !== undefined && !server.replica) {
    throw new CommandError(
      "IllegalOperation",
      "Transaction numbers are only allowed on a replica set member or mongos",
    );
  }
  if (body.startTransaction === true || body.autocommit === false) {
    throw new CommandError(
      "IllegalOperation",
      "Multi-document transactions are not supported by the embedded server",
    );
  }
  if (server.cluster.atlasM0) refuseOnAtlasM0(name);
  const handler = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!handler) throw new CommandError("CommandNotFound", `no such command: '${name}'`);
  return handler;
}

/** Runs one request and returns the reply document; never throws. */
export async function executeCommand(
  server: ServerState,
  connection: ConnectionInfo,
  request: Request,
): Promise<Document> {
  const name = Object.keys(request.body)[0];
  try {
    const handler = check(server, request, name);
    if (name === "find") server.opcounters.query++;
    else if (name === "getMore") server.opcounters.getmore++;
    else if (!OWN_COUNTER.has(name)) server.opcounters.command++;
    const context: CommandContext = { server, connection, db: databaseOf(request), body: request.body, name };
    const reply = await runGuarded(context, handler);
    if (reply.ok === undefined) reply.ok = 1;
    return reply;
  } catch (error) {
    if (error instanceof CommandError) return error.toReply();
    log.error("command {command} failed: {error}", { command: name, error });
    return { ok: 0, errmsg: (error as Error).message ?? String(error), code: 1, codeName: "InternalError" };
  }
}
