/**
 * One client connection: reads frames, runs them one at a time, writes the replies.
 *
 * @module
 */
import type { Document } from "bson";
import type { ConnectionInfo } from "./commands/context.ts";
import { FrameReader } from "./wire/frame_reader.ts";
import { decodeRequest, encodeReply, ProtocolError, type Request } from "./wire/protocol.ts";
import { devdbLogger } from "./log.ts";

const log = devdbLogger("connection");

/** What a connection needs from its server. */
export interface ConnectionHost {
  /** Runs one request and returns its reply. */
  execute(connection: ClientConnection, request: Request): Promise<Document>;
  /** The reply delay in milliseconds. */
  readonly latencyMs: number;
}

let nextOpId = 1;

/** A client's socket and what `currentOp` reports about it. */
export class ClientConnection implements ConnectionInfo {
  readonly id: number;
  readonly remote: string;
  appName = "";
  clientMetadata?: Document;
  active = false;
  currentCommand?: Document;
  currentNamespace?: string;
  currentOpId?: number;
  readonly #conn: Deno.Conn;
  readonly #host: ConnectionHost;
  #closed = false;
  #delay?: { timer: ReturnType<typeof setTimeout>; resolve: () => void };

  constructor(conn: Deno.Conn, id: number, host: ConnectionHost) {
    this.#conn = conn;
    this.id = id;
    this.#host = host;
    const address = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${address.hostname}:${address.port}`;
  }

  /** Serves requests until the client leaves, the socket is closed or a frame is malformed. */
  async serve(): Promise<void> {
    const reader = new FrameReader(this.#conn);
    try {
      while (!this.#closed) {
        const frame = await reader.next();
        if (!frame) break;
        const request = decodeRequest(frame);
        const reply = await this.#run(request);
        if (request.moreToCome || this.#closed) continue;
        const latency = this.#host.latencyMs;
        if (latency > 0) await this.#sleep(latency);
        if (this.#closed) break;
        await this.#writeAll(encodeReply(request, reply));
      }
    } catch (error) {
      if (error instanceof ProtocolError) {
        log.warn("closing connection {connectionId} from {client}: {reason}", {
          connectionId: this.id,
          client: this.remote,
          reason: error.message,
        });
      } else if (!this.#closed && !isDisconnect(error)) {
        log.error("connection {connectionId} failed: {error}", { connectionId: this.id, error });
      }
    } finally {
      this.close();
    }
  }

  /** Closes the socket; a request in flight finishes but its reply is dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#delay) {
      clearTimeout(this.#delay.timer);
      this.#delay.resolve();
      this.#delay = undefined;
    }
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #run(request: Request): Promise<Document> {
    this.active = true;
    this.currentCommand = request.body;
    this.currentOpId = nextOpId++;
    const db = request.body.$db ?? "admin";
    const target = request.body[Object.keys(request.body)[0]];
    this.currentNamespace = typeof target === "string" ? `${db}.${target}` : `${db}.$cmd`;
    try {
      return await this.#host.execute(this, request);
    } finally {
      this.active = false;
      this.currentCommand = this.currentNamespace = this.currentOpId = undefined;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#delay = undefined;
        resolve();
      }, ms);
      this.#delay = { timer, resolve };
    });
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }
}

function isDisconnect(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected;
}
