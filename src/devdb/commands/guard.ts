/**
 * What stands between a parsed command and its handler, in mongod's order: authentication and
 * privileges, Atlas's refusals, the failCommand fail point, the member's replica-set state, Atlas's
 * operation rate, and the retryable-write record. Each step is a lookup or a flag test (O(1)), and a
 * standalone without users, fail points or presets only tests four flags.
 *
 * @module
 */
import type { Document } from "bson";
import { type Action, allows, allowsCluster, type ClusterAction } from "../auth/users.ts";
import { CommandError, ErrorCode } from "../errors.ts";
import type { FailCommandAction } from "../fail_points.ts";
import { RETRYABLE_WRITE_COMMANDS } from "../retryable.ts";
import type { CommandContext, CommandHandler } from "./context.ts";

/** How a command is authorized and where it may run in a replica set. */
interface Rule {
  /** Runs without authentication even when users exist (mongod's `requiresAuth() == false`). */
  open?: true;
  /** The action it needs on its database. */
  action?: Action;
  /** The action it needs on the cluster. */
  cluster?: ClusterAction;
  /** Any authenticated user may run it. */
  anyUser?: true;
  /** A write needs the primary; a read needs the primary or secondaryOk. */
  kind?: "write" | "read";
}

const RULES = new Map<string, Rule>(Object.entries({
  hello: { open: true },
  isMaster: { open: true },
  ismaster: { open: true },
  saslStart: { open: true },
  saslContinue: { open: true },
  ping: { open: true },
  buildInfo: { open: true },
  buildinfo: { open: true },
  logout: { open: true },
  connectionStatus: { open: true },
  getMore: { anyUser: true },
  killCursors: { anyUser: true },
  endSessions: { anyUser: true },
  killSessions: { anyUser: true },
  refreshSessions: { anyUser: true },
  startSession: { anyUser: true },
  whatsmyuri: { anyUser: true },
  getParameter: { anyUser: true },
  listDatabases: { anyUser: true },
  // Checked below: $ownOps is anyone's, the rest needs inprog.
  currentOp: { anyUser: true },
  usersInfo: { anyUser: true, kind: "read" },
  find: { action: "find", kind: "read" },
  count: { action: "find", kind: "read" },
  distinct: { action: "find", kind: "read" },
  aggregate: { action: "find", kind: "read" },
  listCollections: { action: "listCollections", kind: "read" },
  listIndexes: { action: "listIndexes", kind: "read" },
  dbStats: { action: "dbStats", kind: "read" },
  collStats: { action: "collStats", kind: "read" },
  insert: { action: "insert", kind: "write" },
  update: { action: "update", kind: "write" },
  delete: { action: "remove", kind: "write" },
  findAndModify: { action: "update", kind: "write" },
  findandmodify: { action: "update", kind: "write" },
  create: { action: "createCollection", kind: "write" },
  createIndexes: { action: "createIndex", kind: "write" },
  drop: { action: "dropCollection", kind: "write" },
  dropIndexes: { action: "dropIndex", kind: "write" },
  deleteIndexes: { action: "dropIndex", kind: "write" },
  dropDatabase: { action: "dropDatabase", kind: "write" },
  createUser: { action: "createUser", kind: "write" },
  dropUser: { action: "dropUser", kind: "write" },
  serverStatus: { cluster: "serverStatus" },
  replSetGetStatus: { cluster: "replSetGetStatus" },
  replSetStepDown: { cluster: "replSetStateChange" },
  hostInfo: { cluster: "hostInfo" },
  getCmdLineOpts: { cluster: "getCmdLineOpts" },
  getLog: { cluster: "getLog" },
  fsync: { cluster: "fsync" },
  configureFailPoint: { cluster: "configureFailPoint" },
}));

// Commands without a rule need root: a command added later is closed until someone decides otherwise.
const ROOT_ONLY: Rule = {};

/** The commands Atlas refuses on M0 (its "Unsupported Commands" page); the devdb knows only some. */
const ATLAS_M0_REFUSED = new Set([
  "applyOps",
  "cloneCollectionAsCapped",
  "compact",
  "convertToCapped",
  "createRole",
  "createUser",
  "dbHash",
  "dropAllUsersFromDatabase",
  "dropRole",
  "dropUser",
  "fsync",
  "fsyncUnlock",
  "getCmdLineOpts",
  "getLog",
  "grantRolesToUser",
  "killAllSessions",
  "logRotate",
  "mapReduce",
  "planCacheClear",
  "planCacheClearFilters",
  "planCacheListFilters",
  "planCacheSetFilter",
  "profile",
  "reIndex",
  "renameCollection",
  "replSetGetStatus",
  "replSetReconfig",
  "replSetStepDown",
  "revokeRolesFromUser",
  "setFeatureCompatibilityVersion",
  "setParameter",
  "shutdown",
  "top",
  "updateUser",
  "validate",
]);

// The codes for which mongod labels a retryable write's error RetryableWriteError.
const RETRYABLE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

const CODE_NAMES = new Map<number, string>([
  ...Object.entries(ErrorCode).map(([name, code]) => [code, name] as [number, string]),
  [6, "HostUnreachable"],
  [7, "HostNotFound"],
  [50, "MaxTimeMSExpired"],
  [89, "NetworkTimeout"],
  [91, "ShutdownInProgress"],
  [112, "WriteConflict"],
  [251, "NoSuchTransaction"],
  [262, "ExceededTimeLimit"],
  [9001, "SocketException"],
  [11600, "InterruptedAtShutdown"],
  [13436, "NotPrimaryOrSecondary"],
]);

/**
 * Atlas M0 refuses these before anything else, known to this server or not, with Atlas's message and
 * code 8000 (AtlasError).
 */
export function refuseOnAtlasM0(name: string): void {
  if (!ATLAS_M0_REFUSED.has(name)) return;
  throw new CommandError(
    "AtlasError",
    `${name} is not allowed or the syntax is incorrect, see the Atlas documentation for more information`,
  );
}

function isRetryableWrite(context: CommandContext): boolean {
  return context.body.txnNumber !== undefined && RETRYABLE_WRITE_COMMANDS.has(context.name);
}

/** A replica-set or fail-point error reply, with RetryableWriteError when mongod would add it. */
export function errorReply(
  context: CommandContext,
  code: number,
  errmsg: string,
  errorLabels?: string[],
): Document {
  const labels = errorLabels ??
    (isRetryableWrite(context) && RETRYABLE_CODES.has(code) ? ["RetryableWriteError"] : []);
  return {
    ok: 0,
    errmsg,
    code,
    codeName: CODE_NAMES.get(code) ?? `Location${code}`,
    ...(labels.length ? { errorLabels: labels } : {}),
  };
}

/** The reply an operation in flight gets when its primary steps down. */
export function interruptedReply(command: Document): Document {
  const retryable = command.txnNumber !== undefined && RETRYABLE_WRITE_COMMANDS.has(Object.keys(command)[0]);
  return {
    ok: 0,
    errmsg: "operation was interrupted because of a replication state change",
    code: ErrorCode.InterruptedDueToReplStateChange,
    codeName: "InterruptedDueToReplStateChange",
    ...(retryable ? { errorLabels: ["RetryableWriteError"] } : {}),
  };
}

function unauthorized(context: CommandContext): CommandError {
  return new CommandError(
    "Unauthorized",
    `not authorized on ${context.db} to execute command { ${context.name}: ${
      JSON.stringify(context.body[context.name])
    } }`,
  );
}

function authorize(context: CommandContext, rule: Rule): void {
  const user = context.connection.user;
  if (!user) {
    throw new CommandError("Unauthorized", `Command ${context.name} requires authentication`);
  }
  const privileges = user.privileges;
  if (privileges.all || rule.anyUser) {
    if (
      context.name === "currentOp" && context.body.$ownOps !== true && !allowsCluster(privileges, "inprog")
    ) {
      throw unauthorized(context);
    }
    return;
  }
  if (rule.cluster) {
    if (!allowsCluster(privileges, rule.cluster)) throw unauthorized(context);
    return;
  }
  if (context.name === "aggregate" && isCurrentOpPipeline(context)) return authorizePipeline(context);
  if (!rule.action || !allows(privileges, rule.action, context.db)) throw unauthorized(context);
  if (context.name === "aggregate") authorizePipeline(context);
}

// `$currentOp` reads no collection: it needs no privilege on its database, only inprog for allUsers. As in
// mongod, it runs only as `{aggregate: 1}` on admin.
function isCurrentOpPipeline(context: CommandContext): boolean {
  const pipeline = context.body.pipeline;
  if (!Array.isArray(pipeline) || !pipeline[0]?.$currentOp) return false;
  if (context.db !== "admin" || context.body.aggregate !== 1) {
    throw new CommandError(
      "InvalidNamespace",
      "$currentOp must be run against the 'admin' database with {aggregate: 1}",
    );
  }
  return true;
}

function authorizePipeline(context: CommandContext): void {
  const pipeline = context.body.pipeline;
  if (!Array.isArray(pipeline)) return;
  const first = pipeline[0] as Document | undefined;
  const currentOp = first?.$currentOp as Document | undefined;
  if (currentOp?.allUsers === true && !allowsCluster(context.connection.user!.privileges, "inprog")) {
    throw unauthorized(context);
  }
  const out = (pipeline.at(-1) as Document | undefined)?.$out;
  if (out !== undefined) {
    const db = typeof out === "object" && typeof out?.db === "string" ? out.db : context.db;
    if (!allows(context.connection.user!.privileges, "insert", db)) throw unauthorized(context);
  }
}

function hasSecondaryOk(body: Document): boolean {
  const mode = (body.$readPreference as Document | undefined)?.mode;
  return typeof mode === "string" && mode !== "primary";
}

function isWrite(context: CommandContext, rule: Rule): boolean {
  if (rule.kind === "write") return true;
  if (context.name !== "aggregate" || !Array.isArray(context.body.pipeline)) return false;
  return (context.body.pipeline.at(-1) as Document | undefined)?.$out !== undefined;
}

/** The replica-set refusal for this command on this member, if any. */
function replicaRefusal(context: CommandContext, rule: Rule): Document | undefined {
  const replica = context.server.replica!;
  if (replica.isWritablePrimary()) return undefined;
  if (isWrite(context, rule)) {
    if (replica.steppingDown()) {
      return errorReply(
        context,
        ErrorCode.PrimarySteppedDown,
        "Primary stepped down while waiting for replication",
      );
    }
    return errorReply(context, ErrorCode.NotWritablePrimary, "not primary");
  }
  if (rule.kind === "read" && !hasSecondaryOk(context.body)) {
    return errorReply(context, ErrorCode.NotPrimaryNoSecondaryOk, "not primary and secondaryOk=false");
  }
  return undefined;
}

async function applyFailPoint(
  context: CommandContext,
  action: FailCommandAction,
): Promise<Document | undefined> {
  if (action.blockMs) await context.connection.pause(action.blockMs);
  if (action.closeConnection) {
    context.connection.close();
    return { ok: 0, errmsg: "connection closed by failCommand", code: 9001, codeName: "SocketException" };
  }
  if (action.errorCode !== undefined) {
    return errorReply(
      context,
      action.errorCode,
      "Failing command via 'failCommand' failpoint",
      action.errorLabels,
    );
  }
  return undefined;
}

/**
 * Runs `handler` behind the guard; refusals come back as error replies or CommandErrors. Synchronous until
 * something has to wait (a blocked fail point, the rate limit), so the common path costs no extra promise.
 */
export function runGuarded(context: CommandContext, handler: CommandHandler): Document | Promise<Document> {
  const { server, name } = context;
  const rule = RULES.get(name) ?? ROOT_ONLY;
  if (name === "aggregate") isCurrentOpPipeline(context);
  if (server.cluster.users.size > 0 && !rule.open) authorize(context, rule);
  if (server.failPoints?.active && name !== "configureFailPoint") {
    const failure = server.failPoints.match(name, context.connection.appName);
    if (failure) return runFailing(context, rule, handler, failure);
  }
  return runAdmitted(context, rule, handler);
}

async function runFailing(
  context: CommandContext,
  rule: Rule,
  handler: CommandHandler,
  failure: FailCommandAction,
): Promise<Document> {
  const refusal = await applyFailPoint(context, failure);
  if (refusal) return refusal;
  const reply = await runAdmitted(context, rule, handler);
  if (failure.writeConcernError && reply.ok !== 0) {
    return { ...reply, writeConcernError: failure.writeConcernError };
  }
  return reply;
}

function runAdmitted(
  context: CommandContext,
  rule: Rule,
  handler: CommandHandler,
): Document | Promise<Document> {
  const { server } = context;
  if (server.replica) {
    const refusal = replicaRefusal(context, rule);
    if (refusal) return refusal;
  }
  const wait = server.cluster.rateLimiter && !rule.open ? server.cluster.rateLimiter.take() : undefined;
  if (wait) return wait.then(() => runHandler(context, handler));
  return runHandler(context, handler);
}

function runHandler(context: CommandContext, handler: CommandHandler): Document | Promise<Document> {
  if (context.connection.interrupted) return { ok: 0 };
  if (context.body.txnNumber !== undefined && context.body.lsid && isRetryableWrite(context)) {
    const lsid = context.body.lsid;
    return context.server.cluster.retryableWrites.run(
      lsid,
      Number(context.body.txnNumber),
      () => handler(context),
    );
  }
  return handler(context);
}
