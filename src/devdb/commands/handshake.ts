/**
 * The handshake and server-description commands: hello, buildInfo, getParameter and friends.
 *
 * @module
 */
import { Binary, type Document } from "bson";
import { CommandError } from "../errors.ts";
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from "../wire/protocol.ts";
import type { CommandContext, CommandHandler } from "./context.ts";

/** The MongoDB version this server answers as (wire version 25), the one Atlas M0 runs. */
export const SERVER_VERSION = "8.0.0";

function hello({ body, connection, name }: CommandContext): Document {
  const client = body.client as Document | undefined;
  if (client && !connection.clientMetadata) {
    connection.clientMetadata = client;
    const appName = (client.application as Document | undefined)?.name;
    connection.appName = typeof appName === "string" ? appName : "";
  }
  return {
    ...(body.helloOk === true ? { helloOk: true } : {}),
    ...(name === "hello" ? { isWritablePrimary: true } : { ismaster: true }),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: connection.id,
    minWireVersion: 0,
    maxWireVersion: 25,
    readOnly: false,
    ok: 1,
  };
}

function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: "devdb",
    versionArray: [8, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ["devdb"],
    javascriptEngine: "none",
    modules: [],
    sysInfo: "deprecated",
    openssl: { running: "disabled" },
    ok: 1,
  };
}

const PARAMETERS: Document = {
  featureCompatibilityVersion: { version: "8.0" },
  authenticationMechanisms: [],
  maxBSONDepth: 100,
  transactionLifetimeLimitSeconds: 60,
};

function getParameter({ body }: CommandContext): Document {
  const all = body.getParameter === "*" ||
    (typeof body.getParameter === "object" && body.getParameter?.allParameters);
  const reply: Document = {};
  for (const [name, value] of Object.entries(PARAMETERS)) {
    if (all || body[name] !== undefined) reply[name] = value;
  }
  if (Object.keys(reply).length === 0) throw new CommandError("InvalidOptions", "no option found to get");
  return { ...reply, ok: 1 };
}

function ok(): Document {
  return { ok: 1 };
}

function startSession(): Document {
  return { id: { id: crypto.randomUUID() }, timeoutMinutes: 30, ok: 1 };
}

// The devdb has no users. It takes PLAIN (whose server side only says "done") with any credentials, so that
// code paths that carry a user and password in their URL can run against it; SCRAM needs a stored secret.
function saslStart({ body }: CommandContext): Document {
  if (body.mechanism !== "PLAIN") {
    throw new CommandError(
      "MechanismUnavailable",
      `Received authentication for mechanism ${String(body.mechanism)} which is not enabled`,
    );
  }
  return { conversationId: 1, done: true, payload: new Binary(new Uint8Array()), ok: 1 };
}

/** Handshake, description and session commands, by name. */
export const handshakeCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions: ok,
  killSessions: ok,
  killAllSessions: ok,
  refreshSessions: ok,
  startSession,
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  whatsmyuri: ({ connection }) => ({ you: connection.remote, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ["devdb"], parsed: {}, ok: 1 }),
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: "devdb" }, os: {}, extra: {}, ok: 1 }),
  getLog: ({ body }) => ({
    totalLinesWritten: 0,
    log: [],
    ...(body.getLog === "*" ? { names: [] } : {}),
    ok: 1,
  }),
  logout: ok,
  saslStart,
  fsync: () => ({ numFiles: 1, ok: 1 }),
};
