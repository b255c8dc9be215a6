/**
 * The handshake and server-description commands: hello, buildInfo, getParameter and friends.
 *
 * @module
 */
import { type Document, ObjectId } from "bson";
import { isScramMechanism } from "../auth/scram.ts";
import type { ReplicaMember } from "../replica/set.ts";
import { startSasl } from "./auth.ts";
import { CommandError } from "../errors.ts";
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from "../wire/protocol.ts";
import type { CommandContext, CommandHandler } from "./context.ts";

/** The MongoDB version this server answers as (Atlas M0 runs 8.0). */
export const SERVER_VERSION = "8.0.0";
/** The wire version of MongoDB 8.0. */
const MAX_WIRE_VERSION = 25;

async function hello(context: CommandContext): Promise<Document> {
  const { body, connection, name, server } = context;
  const client = body.client as Document | undefined;
  if (client && !connection.clientMetadata) {
    connection.clientMetadata = client;
    const appName = (client.application as Document | undefined)?.name;
    connection.appName = typeof appName === "string" ? appName : "";
  }
  const replica = server.replica;
  if (replica) await awaitTopologyChange(context, replica);
  const role = replica?.helloFields();
  const writable = role ? role.isWritablePrimary === true : true;
  if (role) delete role.isWritablePrimary;
  return {
    ...(body.helloOk === true ? { helloOk: true } : {}),
    ...role,
    ...(name === "hello" ? { isWritablePrimary: writable } : { ismaster: writable }),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: connection.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ...authenticationFields(context),
    ok: 1,
  };
}

// The awaitable hello: with the client's current topologyVersion and maxAwaitTimeMS, answer when the
// topology changes (or the time is up) instead of at once.
async function awaitTopologyChange(
  { body, connection }: CommandContext,
  replica: ReplicaMember,
): Promise<void> {
  const known = body.topologyVersion as Document | undefined;
  if (!known || body.maxAwaitTimeMS === undefined) return;
  const wait = Number(body.maxAwaitTimeMS);
  if (!Number.isFinite(wait) || wait < 0) throw new CommandError("BadValue", "maxAwaitTimeMS must be >= 0");
  const current = replica.topologyVersion();
  const same = known.processId instanceof ObjectId && known.processId.equals(current.processId) &&
    Number(known.counter) === current.counter.toNumber();
  if (same) await replica.topologyChange(wait, connection.closing);
}

function authenticationFields({ body, server, connection }: CommandContext): Document {
  const users = server.cluster.users;
  if (users.size === 0) return {};
  const fields: Document = {};
  if (typeof body.saslSupportedMechs === "string") {
    const dot = body.saslSupportedMechs.indexOf(".");
    const user = users.find(body.saslSupportedMechs.slice(0, dot), body.saslSupportedMechs.slice(dot + 1));
    if (dot > 0 && user) fields.saslSupportedMechs = ["SCRAM-SHA-1", "SCRAM-SHA-256"];
  }
  const speculative = body.speculativeAuthenticate as Document | undefined;
  if (speculative && isScramMechanism(speculative.mechanism) && typeof speculative.db === "string") {
    try {
      const { conversationId, done, payload } = startSasl(server, connection, speculative.db, speculative);
      fields.speculativeAuthenticate = { conversationId, done, payload };
    } catch {
      // A malformed first message: the client falls back to saslStart, which reports the error.
    }
  }
  return fields;
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
  authenticationMechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-256"],
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
  whatsmyuri: ({ connection }) => ({ you: connection.remote, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ["devdb"], parsed: {}, ok: 1 }),
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: "devdb" }, os: {}, extra: {}, ok: 1 }),
  getLog: ({ body }) => ({
    totalLinesWritten: 0,
    log: [],
    ...(body.getLog === "*" ? { names: [] } : {}),
    ok: 1,
  }),
  fsync: () => ({ numFiles: 1, ok: 1 }),
};
