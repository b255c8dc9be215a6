/**
 * Users, their SCRAM secrets and their built-in roles, turned into privileges once when a user is added so
 * that a command's check is a Set lookup.
 *
 * @module
 */
import { CommandError } from "../errors.ts";
import type { DevDbRole, DevDbUser } from "../types.ts";
import { type ScramMechanism, type ScramSecret, scramSecret } from "./scram.ts";

/** An action a command needs on its database (or, for cluster actions, on the cluster). */
export type Action =
  | "find"
  | "insert"
  | "update"
  | "remove"
  | "createCollection"
  | "createIndex"
  | "dropCollection"
  | "dropIndex"
  | "collMod"
  | "dropDatabase"
  | "listCollections"
  | "listIndexes"
  | "dbStats"
  | "collStats"
  | "createUser"
  | "dropUser"
  | "viewUser";

/** An action on the cluster as a whole. */
export type ClusterAction =
  | "serverStatus"
  | "inprog"
  | "replSetGetStatus"
  | "replSetStateChange"
  | "hostInfo"
  | "getCmdLineOpts"
  | "getLog"
  | "listDatabases"
  | "fsync"
  | "configureFailPoint";

const READ: Action[] = ["find", "listCollections", "listIndexes", "dbStats", "collStats"];
const READ_WRITE: Action[] = [
  ...READ,
  "insert",
  "update",
  "remove",
  "createCollection",
  "createIndex",
  "dropCollection",
  "dropIndex",
];
const DB_ADMIN: Action[] = [
  "listCollections",
  "listIndexes",
  "dbStats",
  "collStats",
  "createCollection",
  "createIndex",
  "dropCollection",
  "dropIndex",
  "collMod",
  "dropDatabase",
];
const CLUSTER_MONITOR: ClusterAction[] = [
  "serverStatus",
  "inprog",
  "replSetGetStatus",
  "hostInfo",
  "getCmdLineOpts",
  "getLog",
  "listDatabases",
];

/** The built-in roles this server knows: db-scoped actions, actions on every db, and cluster actions. */
const ROLES: Record<
  string,
  { db?: Action[]; anyDb?: Action[]; cluster?: ClusterAction[]; adminOnly?: true }
> = {
  read: { db: READ },
  readWrite: { db: READ_WRITE },
  dbAdmin: { db: DB_ADMIN },
  clusterMonitor: {
    cluster: CLUSTER_MONITOR,
    anyDb: ["listCollections", "listIndexes", "dbStats", "collStats"],
    adminOnly: true,
  },
  readAnyDatabase: { anyDb: READ, cluster: ["listDatabases"], adminOnly: true },
  readWriteAnyDatabase: { anyDb: READ_WRITE, cluster: ["listDatabases"], adminOnly: true },
  dbAdminAnyDatabase: { anyDb: DB_ADMIN, cluster: ["listDatabases"], adminOnly: true },
  root: { adminOnly: true },
};

/** What a user may do: checked per command in O(1). */
export interface Privileges {
  /** root: everything. */
  readonly all: boolean;
  readonly anyDb: ReadonlySet<Action>;
  readonly byDb: ReadonlyMap<string, ReadonlySet<Action>>;
  readonly cluster: ReadonlySet<ClusterAction>;
}

/** Whether `privileges` allow `action` on `db`. */
export function allows(privileges: Privileges, action: Action, db: string): boolean {
  return privileges.all || privileges.anyDb.has(action) || privileges.byDb.get(db)?.has(action) === true;
}

/** Whether `privileges` allow the cluster action. */
export function allowsCluster(privileges: Privileges, action: ClusterAction): boolean {
  return privileges.all || privileges.cluster.has(action);
}

/** A stored user. */
export interface StoredUser {
  readonly user: string;
  readonly db: string;
  readonly roles: DevDbRole[];
  readonly secrets: Record<ScramMechanism, ScramSecret>;
  readonly privileges: Privileges;
}

function privilegesOf(roles: DevDbRole[]): Privileges {
  let all = false;
  const anyDb = new Set<Action>();
  const byDb = new Map<string, Set<Action>>();
  const cluster = new Set<ClusterAction>();
  for (const { role, db } of roles) {
    const definition = ROLES[role];
    if (role === "root") all = true;
    for (const action of definition.db ?? []) {
      if (!byDb.has(db)) byDb.set(db, new Set());
      byDb.get(db)!.add(action);
    }
    for (const action of definition.anyDb ?? []) anyDb.add(action);
    for (const action of definition.cluster ?? []) cluster.add(action);
  }
  return { all, anyDb, byDb, cluster };
}

/** Parses `roles` as createUser takes them; RoleNotFound (31) for one this server does not know. */
export function parseRoles(roles: unknown, userDb: string): DevDbRole[] {
  if (!Array.isArray(roles)) throw new CommandError("BadValue", '"roles" must be an array');
  return roles.map((entry) => {
    const role = typeof entry === "string" ? { role: entry, db: userDb } : entry as DevDbRole;
    if (typeof role?.role !== "string" || typeof role.db !== "string") {
      throw new CommandError("BadValue", "a role must be a string or a { role, db } document");
    }
    const definition = Object.hasOwn(ROLES, role.role) ? ROLES[role.role] : undefined;
    if (!definition || (definition.adminOnly && role.db !== "admin")) {
      throw new CommandError("RoleNotFound", `Could not find role: ${role.role}@${role.db}`);
    }
    return { role: role.role, db: role.db };
  });
}

/** The users of the process, by `db.user`. */
export class UserRegistry {
  readonly #users = new Map<string, StoredUser>();

  /** How many users exist; 0 means authentication is off. */
  get size(): number {
    return this.#users.size;
  }

  /** Adds a user; Location51003 if it exists, RoleNotFound for an unknown role. */
  add(spec: DevDbUser): StoredUser {
    const db = spec.db ?? "admin";
    if (typeof spec.user !== "string" || spec.user === "") {
      throw new CommandError("BadValue", "User name is empty");
    }
    if (typeof spec.password !== "string" || spec.password === "") {
      throw new CommandError("BadValue", "A password is required (this server supports SCRAM only)");
    }
    const key = `${db}.${spec.user}`;
    if (this.#users.has(key)) {
      throw new CommandError("Location51003", `User "${spec.user}@${db}" already exists`);
    }
    const roles = parseRoles(spec.roles, db);
    const user: StoredUser = {
      user: spec.user,
      db,
      roles,
      secrets: {
        "SCRAM-SHA-1": scramSecret("SCRAM-SHA-1", spec.user, spec.password),
        "SCRAM-SHA-256": scramSecret("SCRAM-SHA-256", spec.user, spec.password),
      },
      privileges: privilegesOf(roles),
    };
    this.#users.set(key, user);
    return user;
  }

  /** Removes a user; false if there was none. */
  remove(db: string, user: string): boolean {
    return this.#users.delete(`${db}.${user}`);
  }

  /** The user `user` of database `db`. */
  find(db: string, user: string): StoredUser | undefined {
    return this.#users.get(`${db}.${user}`);
  }

  /** Every user of `db` (every user when `db` is undefined). */
  list(db?: string): StoredUser[] {
    return [...this.#users.values()].filter((user) => db === undefined || user.db === db);
  }
}
