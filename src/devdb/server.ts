/**
 * The embedded server: one storage (catalog, cursors, log, timers) served by one member (a standalone) or
 * by several on their own ports (a replica set), with users, fail points and the Atlas M0 preset.
 *
 * @module
 */
import type { ClusterServices } from "./commands/context.ts";
import { interruptedReply } from "./commands/guard.ts";
import { UserRegistry } from "./auth/users.ts";
import { CursorRegistry } from "./cursors.ts";
import { FailPoints } from "./fail_points.ts";
import { devdbLogger } from "./log.ts";
import { Member } from "./member.ts";
import { type Journal, openJournal } from "./persist/journal.ts";
import { OpRateLimiter } from "./rate_limit.ts";
import { DEFAULT_STEP_DOWN_SECONDS, ReplicaSet, STEPPING_DOWN_MS } from "./replica/set.ts";
import { RetryableWrites } from "./retryable.ts";
import { Catalog } from "./storage/catalog.ts";
import { sweepExpired } from "./ttl.ts";
import type { DevDb, DevDbMember, DevDbOptions, DevDbStats, DevDbUser } from "./types.ts";

const log = devdbLogger("server");

const DEFAULT_TTL_SWEEP_MS = 60_000;
const DEFAULT_CURSOR_IDLE_MS = 10 * 60_000;
const DEFAULT_ELECTION_DELAY_MS = 2_000;
// mongod's limit on the members of a set.
const MAX_MEMBERS = 50;

/** What the Atlas M0 preset sets unless told otherwise (see ../shared/atlas.md). */
export const ATLAS_M0 = {
  setName: "atlas-devdb-shard-0",
  members: 3,
  maxConnections: 500,
  opsPerSecond: 100,
  database: "zien",
  user: "app",
  password: "app-password",
} as const;

/** Options with the Atlas preset applied and checked. */
interface Resolved extends DevDbOptions {
  opRateLimit: boolean;
}

function resolveOptions(options: DevDbOptions): Resolved {
  const atlas = options.atlasM0 === true ? {} : options.atlasM0 || undefined;
  let resolved: Resolved = { ...options, opRateLimit: false };
  if (atlas) {
    const user = atlas.user ?? ATLAS_M0.user;
    const appUser: DevDbUser = {
      user,
      password: atlas.password ?? ATLAS_M0.password,
      db: "admin",
      roles: [{ role: "readWrite", db: atlas.database ?? ATLAS_M0.database }],
    };
    resolved = {
      ...resolved,
      replicaSet: options.replicaSet ?? { name: ATLAS_M0.setName, members: ATLAS_M0.members },
      maxConnections: options.maxConnections ?? ATLAS_M0.maxConnections,
      users: [...(options.users ?? []), appUser],
      urlUser: options.urlUser ?? user,
      opRateLimit: atlas.opRateLimit !== false,
    };
  }
  const set = resolved.replicaSet;
  if (set) {
    if (typeof set.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(set.name)) {
      throw new Error(
        `replicaSet.name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(set.name)}`,
      );
    }
    const members = set.members ?? 3;
    if (!Number.isInteger(members) || members < 1 || members > MAX_MEMBERS) {
      throw new Error(`replicaSet.members must be an integer from 1 to ${MAX_MEMBERS}, got ${members}`);
    }
    if (set.electionDelayMs !== undefined && !(set.electionDelayMs >= 0)) {
      throw new Error(`replicaSet.electionDelayMs must be >= 0, got ${set.electionDelayMs}`);
    }
  }
  if (resolved.urlUser !== undefined && !resolved.users?.some((user) => user.user === resolved.urlUser)) {
    throw new Error(`urlUser ${resolved.urlUser} is not one of the users`);
  }
  return resolved;
}

// What clients are told to connect to: a wildcard bind is reached through loopback.
function advertisedHostname(bind: string): string {
  if (bind === "0.0.0.0") return "127.0.0.1";
  if (bind === "::" || bind === "[::]") return "::1";
  return bind;
}

/** A running server; `startDevDb` returns it as a `DevDb`. */
class DevDbServer implements DevDb, ClusterServices {
  readonly catalog: Catalog;
  readonly cursors: CursorRegistry;
  readonly users = new UserRegistry();
  readonly retryableWrites = new RetryableWrites();
  readonly rateLimiter?: OpRateLimiter;
  readonly atlasM0: boolean;
  latencyMs = 0;
  readonly replicaSet?: ReplicaSet;
  url = "";
  readonly #members: Member[];
  readonly #bindHostname: string;
  readonly #failPoints: boolean;
  readonly #journal?: Journal;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #stopped?: Promise<void>;

  constructor(catalog: Catalog, journal: Journal | undefined, options: Resolved) {
    this.catalog = catalog;
    this.#journal = journal;
    this.atlasM0 = Boolean(options.atlasM0);
    if (options.opRateLimit) this.rateLimiter = new OpRateLimiter(ATLAS_M0.opsPerSecond);
    this.#failPoints = options.failPoints === true;
    this.#bindHostname = options.hostname ?? "127.0.0.1";
    const advertised = advertisedHostname(this.#bindHostname);
    const count = options.replicaSet ? options.replicaSet.members ?? 3 : 1;
    const port = options.port ?? 0;
    this.#members = Array.from(
      { length: count },
      (_, i) => new Member(this, advertised, port === 0 ? 0 : port + i, options.maxConnections),
    );
    for (const user of options.users ?? []) this.users.add(user);
    const cursorIdleMs = options.cursorIdleTimeoutMs ?? DEFAULT_CURSOR_IDLE_MS;
    this.cursors = new CursorRegistry(cursorIdleMs);
    if (options.replicaSet) {
      const set = options.replicaSet;
      // The hosts are known once every member is bound; listen() fills them in before anyone connects.
      this.replicaSet = new ReplicaSet(
        set.name,
        this.#members.map(() => ""),
        set.electionDelayMs ?? DEFAULT_ELECTION_DELAY_MS,
        (index) => this.#closeOnStepDown(index),
      );
    }
    this.#timers.push(
      setInterval(() => this.#sweep(), options.ttlSweepIntervalMs ?? DEFAULT_TTL_SWEEP_MS),
      setInterval(() => this.cursors.reap(), Math.min(60_000, Math.max(10, cursorIdleMs / 2))),
    );
  }

  /** Binds every member; on failure closes the ones already bound and rethrows. */
  async listen(options: Resolved): Promise<void> {
    try {
      for (const member of this.#members) member.listen(this.#bindHostname);
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#members.forEach((member, i) => {
      member.failPoints = this.#failPoints ? new FailPoints() : undefined;
      if (this.replicaSet) {
        this.replicaSet.hosts[i] = member.address;
        member.replica = this.replicaSet.views[i];
      }
    });
    this.url = this.#url(options);
  }

  #url(options: Resolved): string {
    const user = options.users?.find((candidate) => candidate.user === options.urlUser);
    const credentials = user ? `${encodeURIComponent(user.user)}:${encodeURIComponent(user.password)}@` : "";
    const authSource = user ? `&authSource=${encodeURIComponent(user.db ?? "admin")}` : "";
    const hosts = this.#members.map((member) => member.address).join(",");
    const topology = this.replicaSet
      ? `replicaSet=${encodeURIComponent(this.replicaSet.name)}`
      : "directConnection=true";
    return `mongodb://${credentials}${hosts}/?${topology}${authSource}`;
  }

  get port(): number {
    return this.#members[0].port;
  }

  get hostname(): string {
    return this.#members[0].hostname;
  }

  get members(): readonly DevDbMember[] {
    return this.#members.map((member) => ({ host: member.hostname, port: member.port }));
  }

  primaryIndex(): number | null {
    return this.replicaSet ? this.replicaSet.primaryIndex() : 0;
  }

  stepDown(seconds = DEFAULT_STEP_DOWN_SECONDS): Promise<void> {
    if (!this.replicaSet) return Promise.reject(new Error("stepDown needs a replica set"));
    const primary = this.replicaSet.primaryIndex();
    if (primary === null) return Promise.reject(new Error("there is no primary to step down"));
    this.replicaSet.stepDown(primary, seconds);
    return Promise.resolve();
  }

  async killMember(i: number): Promise<void> {
    const member = this.#member(i);
    if (!member.listening) return;
    log.info("killing member {index} ({address})", { index: i, address: member.address });
    this.replicaSet?.memberDown(i);
    await member.kill();
  }

  // deno-lint-ignore require-await
  async restartMember(i: number): Promise<void> {
    const member = this.#member(i);
    if (member.listening) return;
    member.listen(this.#bindHostname);
    // A restarted mongod has forgotten its fail points.
    if (member.failPoints) member.failPoints = new FailPoints();
    this.replicaSet?.memberUp(i);
    log.info("restarted member {index} ({address})", { index: i, address: member.address });
  }

  #member(i: number): Member {
    const member = this.#members[i];
    if (!member) throw new RangeError(`no member ${i}: there are ${this.#members.length}`);
    return member;
  }

  // mongod fails the operations in flight on a primary that steps down (11602). Like mongod before 4.2,
  // this one also closes its client connections once they have answered what they hold (the held hellos
  // the new topology): the driver's monitor sees its socket close and clears the pool.
  #closeOnStepDown(index: number): void {
    for (const connection of this.#members[index].clientConnections()) {
      if (connection.currentCommand?.replSetStepDown !== undefined) continue;
      connection.closeForStepDown(interruptedReply, STEPPING_DOWN_MS);
    }
  }

  durable(): Promise<void> {
    return this.#journal ? this.#journal.sync() : Promise.resolve();
  }

  stats(): DevDbStats {
    const total = this.memberStats(0);
    for (const member of this.#members.slice(1)) {
      const stats = member.stats();
      total.connections.current += stats.connections.current;
      total.connections.totalCreated += stats.connections.totalCreated;
      total.connections.refused += stats.connections.refused;
      for (const [name, count] of Object.entries(stats.connections.byAppName)) {
        total.connections.byAppName[name] = (total.connections.byAppName[name] ?? 0) + count;
      }
      for (const key of Object.keys(total.opcounters) as (keyof DevDbStats["opcounters"])[]) {
        total.opcounters[key] += stats.opcounters[key];
      }
    }
    return total;
  }

  memberStats(i: number): DevDbStats {
    return this.#member(i).stats();
  }

  dropConnections(): void {
    for (const member of this.#members) {
      log.info("dropping {count} connections", { count: member.stats().connections.current });
      for (const connection of member.clientConnections()) connection.close();
    }
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  stop(): Promise<void> {
    return this.#stopped ??= this.#stop();
  }

  async #stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.replicaSet?.stop();
    await Promise.all(this.#members.map((member) => member.kill()));
    this.cursors.clear();
    await this.#journal?.close();
    log.info("stopped {url}", { url: this.#members.map((member) => member.address).join(",") });
  }

  #sweep(): void {
    const deleted = sweepExpired(this.catalog);
    if (deleted) log.debug("TTL sweep deleted {deleted} documents", { deleted });
  }
}

/**
 * Starts an embedded MongoDB-compatible server (a replica set with `replicaSet`); with `dataDir`, it first
 * replays that directory's log. Rejects on invalid options or a port in use.
 */
export async function startDevDb(options: DevDbOptions = {}): Promise<DevDb> {
  const resolved = resolveOptions(options);
  const catalog = new Catalog();
  const journal = resolved.dataDir ? await openJournal(resolved.dataDir, catalog) : undefined;
  let server: DevDbServer;
  try {
    server = new DevDbServer(catalog, journal, resolved);
  } catch (error) {
    await journal?.close();
    throw error;
  }
  await server.listen(resolved);
  if (journal) catalog.setSink((record) => journal.append(record));
  log.info("listening on {hosts}", { hosts: server.members.map((m) => `${m.host}:${m.port}`).join(",") });
  return server;
}
