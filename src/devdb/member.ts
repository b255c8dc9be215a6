/**
 * One member of the embedded server: a TCP listener on its own port, its connections and counters.
 * A standalone is one member; a replica set is several, all sharing the cluster's storage.
 *
 * @module
 */
import type { Document } from "bson";
import type { ClusterServices, ConnectionInfo, ServerState } from "./commands/context.ts";
import { executeCommand } from "./commands/dispatch.ts";
import { ClientConnection, type ConnectionHost } from "./connection.ts";
import type { CursorRegistry } from "./cursors.ts";
import type { FailPoints } from "./fail_points.ts";
import { devdbLogger } from "./log.ts";
import type { ReplicaMember } from "./replica/set.ts";
import type { Catalog } from "./storage/catalog.ts";
import type { DevDbStats } from "./types.ts";
import type { Request } from "./wire/protocol.ts";

const log = devdbLogger("server");

/** A listening member; `listen()` binds it, `kill()` closes it like a crashed mongod. */
export class Member implements ServerState, ConnectionHost {
  readonly cluster: ClusterServices;
  readonly opcounters: DevDbStats["opcounters"] = {
    insert: 0,
    query: 0,
    update: 0,
    delete: 0,
    getmore: 0,
    command: 0,
  };
  readonly hostname: string;
  readonly startedAt = Date.now();
  readonly maxConnections?: number;
  replica?: ReplicaMember;
  failPoints?: FailPoints;
  #port: number;
  #listener?: Deno.TcpListener;
  #accepting?: Promise<void>;
  readonly #connections = new Map<number, ClientConnection>();
  readonly #serving = new Set<Promise<void>>();
  #nextConnectionId = 1;
  #totalCreated = 0;
  #refused = 0;

  constructor(cluster: ClusterServices, hostname: string, port: number, maxConnections?: number) {
    this.cluster = cluster;
    this.hostname = hostname;
    this.#port = port;
    this.maxConnections = maxConnections;
  }

  get catalog(): Catalog {
    return this.cluster.catalog;
  }

  get cursors(): CursorRegistry {
    return this.cluster.cursors;
  }

  get latencyMs(): number {
    return this.cluster.latencyMs;
  }

  /** The bound port (the one asked for until `listen()` has picked a free one). */
  get port(): number {
    return this.#port;
  }

  /** `host:port` as clients and `hello.hosts` name it. */
  get address(): string {
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    return `${host}:${this.#port}`;
  }

  /** Whether the listener is open. */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** Binds the listener (on the same port again after a kill) and starts accepting. */
  listen(bindHostname: string): void {
    const listener = Deno.listen({ hostname: bindHostname, port: this.#port });
    this.#listener = listener;
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(listener);
  }

  /** Closes the listener and every socket and waits until every connection has finished. */
  async kill(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.close();
    await this.#accepting;
    for (const connection of this.#connections.values()) connection.close();
    await Promise.all(this.#serving);
  }

  connections(): Iterable<ConnectionInfo> {
    return this.#connections.values();
  }

  /** The open connections themselves, for step-down and `dropConnections`. */
  clientConnections(): Iterable<ClientConnection> {
    return this.#connections.values();
  }

  connectionCounters(): { totalCreated: number; refused: number } {
    return { totalCreated: this.#totalCreated, refused: this.#refused };
  }

  durable(): Promise<void> {
    return this.cluster.durable();
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

  async #accept(listener: Deno.TcpListener): Promise<void> {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#listener !== listener || error instanceof Deno.errors.BadResource) return;
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
}
