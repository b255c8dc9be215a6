/**
 * The embedded server: a TCP listener, its connections, the catalog, cursors, timers and the log.
 *
 * @module
 */
import type { Document } from "bson";
import type { ConnectionInfo, ServerState } from "./commands/context.ts";
import { executeCommand } from "./commands/dispatch.ts";
import { ClientConnection, type ConnectionHost } from "./connection.ts";
import { CursorRegistry } from "./cursors.ts";
import { devdbLogger } from "./log.ts";
import { type Journal, openJournal } from "./persist/journal.ts";
import { Catalog } from "./storage/catalog.ts";
import { sweepExpired } from "./ttl.ts";
import type { DevDb, DevDbOptions, DevDbStats } from "./types.ts";
import type { Request } from "./wire/protocol.ts";

const log = devdbLogger("server");

const DEFAULT_TTL_SWEEP_MS = 60_000;
const DEFAULT_CURSOR_IDLE_MS = 10 * 60_000;

/** A running server; `startDevDb` returns it as a `DevDb`. */
class DevDbServer implements DevDb, ServerState, ConnectionHost {
  readonly catalog: Catalog;
  readonly cursors: CursorRegistry;
  readonly opcounters: DevDbStats["opcounters"] = {
    insert: 0,
    query: 0,
    update: 0,
    delete: 0,
    getmore: 0,
    command: 0,
  };
  readonly hostname: string;
  readonly port: number;
  readonly url: string;
  readonly startedAt = Date.now();
  readonly maxConnections?: number;
  latencyMs = 0;
  readonly #listener: Deno.TcpListener;
  readonly #journal?: Journal;
  readonly #connections = new Map<number, ClientConnection>();
  readonly #serving = new Set<Promise<void>>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #accepting: Promise<void>;
  #nextConnectionId = 1;
  #totalCreated = 0;
  #refused = 0;
  #stopped?: Promise<void>;

  constructor(
    listener: Deno.TcpListener,
    catalog: Catalog,
    journal: Journal | undefined,
    options: DevDbOptions,
  ) {
    this.#listener = listener;
    this.catalog = catalog;
    this.#journal = journal;
    this.maxConnections = options.maxConnections;
    const address = listener.addr as Deno.NetAddr;
    this.hostname = address.hostname;
    this.port = address.port;
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    this.url = `mongodb://${host}:${this.port}/?directConnection=true`;
    const cursorIdleMs = options.cursorIdleTimeoutMs ?? DEFAULT_CURSOR_IDLE_MS;
    this.cursors = new CursorRegistry(cursorIdleMs);
    this.#timers.push(
      setInterval(() => this.#sweep(), options.ttlSweepIntervalMs ?? DEFAULT_TTL_SWEEP_MS),
      setInterval(() => this.cursors.reap(), Math.min(60_000, Math.max(10, cursorIdleMs / 2))),
    );
    this.#accepting = this.#accept();
  }

  connections(): Iterable<ConnectionInfo> {
    return this.#connections.values();
  }

  connectionCounters(): { totalCreated: number; refused: number } {
    return { totalCreated: this.#totalCreated, refused: this.#refused };
  }

  durable(): Promise<void> {
    return this.#journal ? this.#journal.sync() : Promise.resolve();
  }

  execute(connection: ClientConnection, request: Request): Promise<Document> {
    return executeCommand(this, connection, request);
  }

  stats(): DevDbStats {
    const byAppName: Record<string, number> = {};
    for (const connection of this.#connections.values()) {
      byAppName[connection.appName] = (byAppName[connection.appName] ?? 0) + 1;
    }
    return {
      connections: {
        current: this.#connections.size,
        totalCreated: this.#totalCreated,
        refused: this.#refused,
        byAppName,
      },
      opcounters: { ...this.opcounters },
    };
  }

  dropConnections(): void {
    log.info("dropping {count} connections", { count: this.#connections.size });
    for (const connection of this.#connections.values()) connection.close();
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  stop(): Promise<void> {
    return this.#stopped ??= this.#stop();
  }

  async #stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#listener.close();
    await this.#accepting;
    for (const connection of this.#connections.values()) connection.close();
    await Promise.all(this.#serving);
    this.cursors.clear();
    await this.#journal?.close();
    log.info("stopped {url}", { url: this.url });
  }

  async #accept(): Promise<void> {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stopped || error instanceof Deno.errors.BadResource) return;
        log.error("accept failed: {error}", { error });
        continue;
      }
      if (this.maxConnections !== undefined && this.#connections.size >= this.maxConnections) {
        this.#refused++;
        log.warn("connection refused because too many open connections: {current}", {
          current: this.#connections.size,
        });
        conn.close();
        continue;
      }
      try {
        // Replies are single writes; Nagle's algorithm would only hold them back.
        conn.setNoDelay(true);
      } catch {
        // The client already hung up; serve() will see the end of stream.
      }
      this.#totalCreated++;
      const connection = new ClientConnection(conn, this.#nextConnectionId++, this);
      this.#connections.set(connection.id, connection);
      const serving: Promise<void> = connection.serve().finally(() => {
        this.#connections.delete(connection.id);
        this.#serving.delete(serving);
      });
      this.#serving.add(serving);
    }
  }

  #sweep(): void {
    const deleted = sweepExpired(this.catalog);
    if (deleted) log.debug("TTL sweep deleted {deleted} documents", { deleted });
  }
}

/** Starts an embedded MongoDB-compatible server; with `dataDir`, it first replays that directory's log. */
export async function startDevDb(options: DevDbOptions = {}): Promise<DevDb> {
  const catalog = new Catalog();
  const journal = options.dataDir ? await openJournal(options.dataDir, catalog) : undefined;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 0 });
  } catch (error) {
    await journal?.close();
    throw error;
  }
  if (journal) catalog.setSink((record) => journal.append(record));
  const server = new DevDbServer(listener, catalog, journal, options);
  await journal?.recordPort(server.port);
  log.info("listening on {url}", { url: server.url });
  return server;
}
