/**
 * Authentication and user commands: saslStart / saslContinue (SCRAM, or PLAIN with any credentials while
 * there are no users), createUser, dropUser, usersInfo, connectionStatus and logout.
 *
 * @module
 */
import { Binary, type Document } from "bson";
import { isScramMechanism, ScramConversation } from "../auth/scram.ts";
import type { StoredUser } from "../auth/users.ts";
import { CommandError } from "../errors.ts";
import type { CommandContext, CommandHandler, ConnectionInfo, ServerState } from "./context.ts";

/**
 * Starts a SASL conversation on `connection` (saslStart, or hello's speculativeAuthenticate) and returns
 * the first server reply.
 */
export function startSasl(
  server: ServerState,
  connection: ConnectionInfo,
  db: string,
  body: Document,
): Document {
  const users = server.cluster.users;
  // Without users the devdb takes PLAIN (whose server side only says "done") with any credentials, so that
  // code paths that carry a user and password in their URL can run against it.
  if (users.size === 0 && body.mechanism === "PLAIN") {
    return { conversationId: 1, done: true, payload: new Binary(new Uint8Array()), ok: 1 };
  }
  if (users.size === 0 || !isScramMechanism(body.mechanism)) {
    throw new CommandError(
      "MechanismUnavailable",
      `Received authentication for mechanism ${String(body.mechanism)} which is not enabled`,
    );
  }
  const conversation = new ScramConversation(body.mechanism, db, body.payload, (d, u) => users.find(d, u));
  conversation.skipEmptyExchange = (body.options as Document | undefined)?.skipEmptyExchange === true;
  connection.sasl = conversation;
  return { conversationId: 1, done: false, payload: conversation.serverFirst, ok: 1 };
}

function saslStart({ server, connection, db, body }: CommandContext): Document {
  return startSasl(server, connection, db, body);
}

function saslContinue({ server, connection, body }: CommandContext): Document {
  const conversation = connection.sasl;
  if (!conversation || Number(body.conversationId) !== 1) {
    throw new CommandError("AuthenticationFailed", "No SASL session state found");
  }
  let step;
  try {
    step = conversation.step(body.payload);
  } catch (error) {
    connection.sasl = undefined;
    throw error;
  }
  const verified = conversation.verified;
  if (verified) connection.user = server.cluster.users.find(verified.db, verified.user);
  if (step.done) connection.sasl = undefined;
  return { conversationId: 1, done: step.done, payload: step.payload, ok: 1 };
}

function createUser({ server, db, body }: CommandContext): Document {
  if (typeof body.createUser !== "string") throw new CommandError("BadValue", "User name must be a string");
  server.cluster.users.add({ user: body.createUser, password: body.pwd, db, roles: body.roles ?? [] });
  return { ok: 1 };
}

function dropUser({ server, db, body }: CommandContext): Document {
  if (!server.cluster.users.remove(db, String(body.dropUser))) {
    throw new CommandError("UserNotFound", `User '${String(body.dropUser)}@${db}' not found`);
  }
  return { ok: 1 };
}

function describeUser(user: StoredUser): Document {
  return {
    _id: `${user.db}.${user.user}`,
    user: user.user,
    db: user.db,
    roles: user.roles,
    mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-256"],
  };
}

function usersInfo({ server, connection, db, body }: CommandContext): Document {
  const wanted = body.usersInfo;
  let users = server.cluster.users.list(db);
  if (typeof wanted === "string") users = users.filter((user) => user.user === wanted);
  else if (wanted && typeof wanted === "object") {
    users = server.cluster.users.list(wanted.db).filter((user) => user.user === wanted.user);
  }
  // Without root a user sees itself only (mongod's viewUser privilege).
  const self = connection.user;
  if (self && !self.privileges.all) {
    users = users.filter((user) => user.user === self.user && user.db === self.db);
  }
  return { users: users.map(describeUser), ok: 1 };
}

function connectionStatus({ connection }: CommandContext): Document {
  const user = connection.user;
  return {
    authInfo: {
      authenticatedUsers: user ? [{ user: user.user, db: user.db }] : [],
      authenticatedUserRoles: user ? user.roles : [],
    },
    ok: 1,
  };
}

function logout({ connection }: CommandContext): Document {
  connection.user = undefined;
  return { ok: 1 };
}

/** Authentication and user commands, by name. */
export const authCommands: Record<string, CommandHandler> = {
  saslStart,
  saslContinue,
  createUser,
  dropUser,
  usersInfo,
  connectionStatus,
  logout,
};
