/**
 * One client connection: reads frames, runs them one at a time, writes the replies; streams awaitable
 * hellos (exhaust) as mongod does for the driver's monitors.
 *
 * @module
 */
import type { Document } from "bson";
import type { AuthenticatedUser, ConnectionInfo } from "./commands/context.ts";
import type { ScramConversation } from "./auth/scram.ts";
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

const HELLO_COMMANDS = new Set(["hello", "isMaster", "ismaster"]);

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
  user?: AuthenticatedUser;
  sasl?: ScramConversation;
  /** Whether it has run anything but hello: the driver's pooled connections do, its monitors do not. */
  application = false;
  readonly #conn: Deno.Conn;
  readonly #host: ConnectionHost;
  readonly #closing = new AbortController();
  #closed = false;
  #interruption?: Document;
  #closeAfterReply = false;
  // The command being answered, from its frame until its reply is written.
  #answering?: Document;
  #graceTimer?: ReturnType<typeof setTimeout>;
  readonly #pauses = new Set<() => void>();

  constructor(conn: Deno.Conn, id: number, host: ConnectionHost) {
    this.#conn = conn;
    this.id = id;
    this.#host = host;
    const address = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${address.hostname}:${address.port}`;
  }

  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  get interrupted(): boolean {
    return this.#interruption !== undefined;
  }

  /** Serves requests until the client leaves, the socket is closed or a frame is malformed. */
  async serve(): Promise<void> {
    const reader = new FrameReader(this.#conn);
    // While a hello streams, a read stays pending so that a client hanging up ends the stream at once.
    let pending: Promise<Uint8Array | null> | undefined;
    let clientSpoke = false;
    try {
      while (!this.#closed) {
        const frame = await (pending ?? reader.next());
        pending = undefined;
        clientSpoke = false;
        if (!frame) break;
        let request = decodeRequest(frame);
        this.#answering = request.body;
        while (!this.#closed) {
          let reply = await this.#run(request);
          if (this.#host.latencyMs > 0 && !this.#closed) await this.pause(this.#host.latencyMs);
          // A step-down while the request was being answered replaces its reply.
          if (this.#interruption) [reply, this.#interruption] = [this.#interruption, undefined];
          if (request.moreToCome || this.#closed) break;
          const streaming = request.exhaustAllowed && reply.ok === 1 && reply.topologyVersion !== undefined &&
            request.body.maxAwaitTimeMS !== undefined && HELLO_COMMANDS.has(Object.keys(request.body)[0]);
          await this.#writeAll(encodeReply(request, reply, streaming));
          if (this.#closeAfterReply) this.close();
          if (!streaming) break;
          pending ??= reader.next().then((next) => {
            clientSpoke = next !== null;
            if (!next) this.close();
            return next;
          }, () => {
            // The socket failed or was closed under the read: the stream is over.
            this.close();
            return null;
          });
          // The client spoke while streaming: the stream ends with the reply just sent.
          if (clientSpoke) break;
          request = { ...request, body: { ...request.body, topologyVersion: reply.topologyVersion } };
        }
        this.#answering = undefined;
      }
      await pending?.catch(() => null);
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
    clearTimeout(this.#graceTimer);
    this.#closing.abort();
    this.#wake();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  /**
   * Ends the connection as a primary stepping down does: an operation in flight is answered with
   * `interruption` (a hello in flight with the new topology), then the socket closes. An idle application
   * connection still answers what arrives in the next `graceMs` (which the step-down refuses, with a label
   * the driver retries on) before it closes; an idle monitoring connection closes at once.
   */
  closeForStepDown(interruption: (command: Document) => Document, graceMs: number): void {
    if (this.#closed) return;
    this.#closeAfterReply = true;
    const command = this.#answering;
    if (command) {
      if (!HELLO_COMMANDS.has(Object.keys(command)[0])) this.#interruption = interruption(command);
      this.#wake();
      return;
    }
    if (!this.application) return this.close();
    this.#graceTimer = setTimeout(() => this.close(), graceMs);
  }

  /** Waits `ms`, or less if the connection closes or its operation is interrupted. */
  pause(ms: number): Promise<void> {
    if (this.#closed || this.#interruption) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#pauses.add(done);
    });
  }

  #wake(): void {
    for (const done of [...this.#pauses]) done();
  }

  async #run(request: Request): Promise<Document> {
    this.active = true;
    this.currentCommand = request.body;
    this.currentOpId = nextOpId++;
    const db = request.body.$db ?? "admin";
    const name = Object.keys(request.body)[0];
    if (!this.application && !HELLO_COMMANDS.has(name)) this.application = true;
    const target = request.body[name];
    this.currentNamespace = typeof target === "string" ? `${db}.${target}` : `${db}.$cmd`;
    try {
      return await this.#host.execute(this, request);
    } finally {
      this.active = false;
      this.currentCommand = this.currentNamespace = this.currentOpId = undefined;
    }
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
