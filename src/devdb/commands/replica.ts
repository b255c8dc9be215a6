/**
 * Replica-set and test commands: replSetStepDown, replSetGetStatus and configureFailPoint.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError, ErrorCode } from "../errors.ts";
import { DEFAULT_STEP_DOWN_SECONDS, NotPrimaryError } from "../replica/set.ts";
import type { CommandContext, CommandHandler } from "./context.ts";
import { errorReply } from "./guard.ts";

function notReplicaSet(): CommandError {
  return new CommandError("NoReplicationEnabled", "not running with --replSet");
}

function replSetStepDown(context: CommandContext): Document {
  const replica = context.server.replica;
  if (!replica) throw notReplicaSet();
  const seconds = context.body.replSetStepDown === true
    ? DEFAULT_STEP_DOWN_SECONDS
    : Number(context.body.replSetStepDown);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CommandError("BadValue", "replSetStepDown needs a positive number of seconds");
  }
  try {
    replica.stepDown(seconds);
  } catch (error) {
    if (error instanceof NotPrimaryError) {
      return errorReply(context, ErrorCode.NotWritablePrimary, error.message);
    }
    throw error;
  }
  return { ok: 1 };
}

function replSetGetStatus({ server }: CommandContext): Document {
  if (!server.replica) throw notReplicaSet();
  return server.replica.status();
}

function configureFailPoint({ server, db, body }: CommandContext): Document {
  if (!server.failPoints) {
    throw new CommandError(
      "CommandNotFound",
      "no such command: 'configureFailPoint' (start the devdb with failPoints: true to enable it)",
    );
  }
  if (db !== "admin") {
    throw new CommandError("Unauthorized", "configureFailPoint may only be run against the admin database.");
  }
  return server.failPoints.configure(body);
}

/** Replica-set and fail-point commands, by name. */
export const replicaCommands: Record<string, CommandHandler> = {
  replSetStepDown,
  replSetGetStatus,
  configureFailPoint,
};
