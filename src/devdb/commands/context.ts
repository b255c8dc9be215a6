/**
 * What a command handler sees: the server's state, the connection it came on and its database.
 *
 * @module
 */
import type { Document } from "bson";
import type { Catalog } from "../storage/catalog.ts";
import type { CursorRegistry } from "../cursors.ts";
import type { DevDbStats } from "../types.ts";
import type { Privileges, UserRegistry } from "../auth/users.ts";
import type { ScramConversation } from "../auth/scram.ts";
import type { FailPoints } from "../fail_points.ts";
import type { OpRateLimiter } from "../rate_limit.ts";
import type { ReplicaMember } from "../replica/set.ts";
import type { RetryableWrites } from "../retryable.ts";
import { CommandError } from "../errors.ts";

/** The user a connection authenticated as. */
export interface AuthenticatedUser {
  readonly user: string;
  readonly db: string;
  readonly roles: readonly { role: string; db: string }[];
  readonly privileges: Privileges;
}

/** One client connection as commands and `currentOp` see it. */
export interface ConnectionInfo {
  readonly id: number;
  /** `host:port` of the client. */
  readonly remote: string;
  /** The handshake's `client.application.name`, or `""`. */
  appName: string;
  /** The handshake's `client` document. */
  clientMetadata?: Document;
  /** Whether a command is running on it right now. */
  readonly active: boolean;
  /** The command running on it, if any. */
  readonly currentCommand?: Document;
  /** The namespace of the running command. */
  readonly currentNamespace?: string;
  /** The id of the running operation. */
  readonly currentOpId?: number;
  /** The user it authenticated as, if any. */
  user?: AuthenticatedUser;
  /** A SCRAM conversation in progress. */
  sasl?: ScramConversation;
  /** Aborts when the connection closes. */
  readonly closing: AbortSignal;
  /** Whether the operation in flight was interrupted (its reply is already decided). */
  readonly interrupted: boolean;
  /** Waits `ms`, or less if the connection closes or its operation is interrupted. */
  pause(ms: number): Promise<void>;
  /** Closes the socket; the reply in flight is dropped. */
  close(): void;
}

/** What every member of the process shares: storage, users, retryable-write records, presets. */
export interface ClusterServices {
  readonly catalog: Catalog;
  readonly cursors: CursorRegistry;
  readonly users: UserRegistry;
  readonly retryableWrites: RetryableWrites;
  /** Atlas M0's operation-rate limit, when on. */
  readonly rateLimiter?: OpRateLimiter;
  /** Whether the Atlas M0 preset's refusals apply. */
  readonly atlasM0: boolean;
  /** The reply delay in milliseconds. */
  readonly latencyMs: number;
  /** Resolves once every change made so far is on disk (at once in memory mode). */
  durable(): Promise<void>;
}

/** The server state commands read and change. */
export interface ServerState {
  readonly catalog: Catalog;
  readonly cursors: CursorRegistry;
  readonly opcounters: DevDbStats["opcounters"];
  readonly hostname: string;
  readonly port: number;
  readonly startedAt: number;
  readonly maxConnections?: number;
  /** The open client connections. */
  connections(): Iterable<ConnectionInfo>;
  /** Connection counters. */
  connectionCounters(): { totalCreated: number; refused: number };
  /** Resolves once every change made so far is on disk (at once in memory mode). */
  durable(): Promise<void>;
  /** What the members share. */
  readonly cluster: ClusterServices;
  /** This member's view of its replica set; undefined for a standalone. */
  readonly replica?: ReplicaMember;
  /** This member's fail points, when the `failPoints` option is on. */
  readonly failPoints?: FailPoints;
}

/** A command invocation. */
export interface CommandContext {
  readonly server: ServerState;
  readonly connection: ConnectionInfo;
  /** The target database (`$db`). */
  readonly db: string;
  /** The command document. */
  readonly body: Document;
  /** The command name, the body's first key. */
  readonly name: string;
}

/** Runs one command and returns its reply (`ok: 1` added by the dispatcher when missing). */
export type CommandHandler = (context: CommandContext) => Document | Promise<Document>;

/** The collection name a command targets (the value of its first field). */
export function collectionName(context: CommandContext): string {
  const name = context.body[context.name];
  if (typeof name !== "string" || name === "") {
    throw new CommandError("InvalidNamespace", `collection name has invalid type ${typeof name}`);
  }
  return name;
}

/** An optional non-negative integer argument; BadValue/TypeMismatch otherwise. */
export function optionalCount(body: Document, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) {
    throw new CommandError("TypeMismatch", `Field '${field}' should be numeric, but found ${typeof value}`);
  }
  return number;
}

/** An optional document argument. */
export function optionalDocument(body: Document, field: string): Document | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new CommandError("TypeMismatch", `BSON field '${field}' is the wrong type, expected type 'object'`);
  }
  return value as Document;
}

/** The `cursor` sub-document of a reply. */
export function cursorReply(
  cursor: { id: unknown; ns: string; batch: Document[] },
  first: boolean,
): Document {
  return {
    cursor: first
      ? { firstBatch: cursor.batch, id: cursor.id, ns: cursor.ns }
      : { nextBatch: cursor.batch, id: cursor.id, ns: cursor.ns },
    ok: 1,
  };
}
