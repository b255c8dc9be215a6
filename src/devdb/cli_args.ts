/**
 * The devdb command line: `[--port N] [--data-dir DIR | --in-memory] [--max-connections N] [--hostname H]`,
 * `[--replica-set NAME [--members N] [--election-delay-ms N]] [--user NAME:PASSWORD:ROLE[,ROLE]]...`,
 * `[--atlas-m0 [--no-op-rate-limit]] [--fail-points]`.
 *
 * Parsed by hand: `node:util`'s parseArgs would do, but it cannot say which numbers are valid.
 *
 * @module
 */
import type { DevDbOptions, DevDbRole, DevDbUser } from "./types.ts";

/** The default port, MongoDB's own, so that tools find the server without being told. */
export const DEFAULT_PORT = 27017;
/** Where the data lives unless `--data-dir` or `--in-memory` says otherwise. */
export const DEFAULT_DATA_DIR = ".data/devdb";

/** The usage line. */
export const USAGE = [
  "usage: deno task devdb [--port N] [--data-dir DIR | --in-memory] [--max-connections N] [--hostname HOST]",
  "         [--replica-set NAME [--members N] [--election-delay-ms MS]] [--user NAME:PASSWORD:ROLE[,ROLE...]]",
  "         [--atlas-m0 [--no-op-rate-limit]] [--fail-points]",
  "  ROLE is root, clusterMonitor, readAnyDatabase, readWriteAnyDatabase, or read/readWrite/dbAdmin@DB.",
  "  With --replica-set the members listen on PORT, PORT+1, ... (--port 0: each a free port).",
].join("\n");

// Roles that live on admin; the others name their database as ROLE@DB.
const ADMIN_ROLES = new Set([
  "root",
  "clusterMonitor",
  "readAnyDatabase",
  "readWriteAnyDatabase",
  "dbAdminAnyDatabase",
]);

/** Parses `NAME:PASSWORD:ROLE[,ROLE]` (the password may contain ':'). */
export function parseUserArg(value: string | undefined): DevDbUser | string {
  const first = value?.indexOf(":") ?? -1;
  const last = value?.lastIndexOf(":") ?? -1;
  if (!value || first <= 0 || last === first || last === value.length - 1) {
    return `--user needs NAME:PASSWORD:ROLE[,ROLE], got ${value ?? "nothing"}`;
  }
  const roles: DevDbRole[] = [];
  for (const spec of value.slice(last + 1).split(",")) {
    const [role, db] = spec.split("@");
    if (ADMIN_ROLES.has(role) && db === undefined) roles.push({ role, db: "admin" });
    else if (db) roles.push({ role, db });
    else return `--user: role ${role} needs a database, as ${role}@DB`;
  }
  return { user: value.slice(0, first), password: value.slice(first + 1, last), db: "admin", roles };
}

/** The parsed command line, or a usage error. */
export type CliArgs = { options: DevDbOptions; help: boolean } | { error: string };

function integer(flag: string, value: string | undefined, min: number, max: number): number | string {
  const number = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || number < min || number > max) {
    return `${flag} needs an integer from ${min} to ${max}, got ${value ?? "nothing"}`;
  }
  return number;
}

/** Parses `args` (flags as `--flag value` or `--flag=value`). */
export function parseCliArgs(args: string[]): CliArgs {
  const options: DevDbOptions = { port: DEFAULT_PORT, dataDir: DEFAULT_DATA_DIR };
  let membersFlag: number | undefined;
  let electionDelayMs: number | undefined;
  let noRateLimit = false;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const takeValue = () => inline ?? args[++i];
    switch (flag) {
      case "--help":
      case "-h":
        return { options, help: true };
      case "--port": {
        const port = integer(flag, takeValue(), 0, 65535);
        if (typeof port === "string") return { error: port };
        options.port = port;
        break;
      }
      case "--max-connections": {
        const max = integer(flag, takeValue(), 1, 1_000_000);
        if (typeof max === "string") return { error: max };
        options.maxConnections = max;
        break;
      }
      case "--data-dir": {
        const dir = takeValue();
        if (!dir) return { error: "--data-dir needs a directory" };
        options.dataDir = dir;
        break;
      }
      case "--in-memory":
        options.dataDir = undefined;
        break;
      case "--replica-set": {
        const name = takeValue();
        if (!name) return { error: "--replica-set needs a name" };
        options.replicaSet = { ...options.replicaSet, name };
        break;
      }
      case "--members": {
        const members = integer(flag, takeValue(), 1, 50);
        if (typeof members === "string") return { error: members };
        membersFlag = members;
        break;
      }
      case "--election-delay-ms": {
        const delay = integer(flag, takeValue(), 0, 600_000);
        if (typeof delay === "string") return { error: delay };
        electionDelayMs = delay;
        break;
      }
      case "--user": {
        const user = parseUserArg(takeValue());
        if (typeof user === "string") return { error: user };
        options.users = [...(options.users ?? []), user];
        break;
      }
      case "--atlas-m0":
        options.atlasM0 = options.atlasM0 || true;
        break;
      case "--no-op-rate-limit":
        noRateLimit = true;
        break;
      case "--fail-points":
        options.failPoints = true;
        break;
      case "--hostname": {
        const hostname = takeValue();
        if (!hostname) return { error: "--hostname needs an address" };
        options.hostname = hostname;
        break;
      }
      default:
        return { error: `unknown argument ${args[i]}` };
    }
  }
  if (noRateLimit) {
    if (!options.atlasM0) return { error: "--no-op-rate-limit goes with --atlas-m0" };
    options.atlasM0 = { opRateLimit: false };
  }
  if (
    (membersFlag !== undefined || electionDelayMs !== undefined) && !options.replicaSet && !options.atlasM0
  ) {
    return { error: "--members and --election-delay-ms need --replica-set NAME (or --atlas-m0)" };
  }
  if (membersFlag !== undefined || electionDelayMs !== undefined) {
    const name = options.replicaSet?.name ?? "atlas-devdb-shard-0";
    options.replicaSet = { name, members: membersFlag ?? 3, electionDelayMs };
  }
  return { options, help: false };
}
