/**
 * Open cursors: ids unique per server, batches by count and size, idle ones reaped.
 *
 * @module
 */
import { calculateObjectSize, type Document, Long } from "bson";
import { CommandError } from "./errors.ts";
import { MAX_BSON_OBJECT_SIZE } from "./wire/protocol.ts";

const DEFAULT_FIRST_BATCH = 101;

interface OpenCursor {
  namespace: string;
  docs: Document[];
  position: number;
  lastUsed: number;
}

/** A batch ready to go into a `cursor` reply. */
export interface CursorReply {
  id: Long;
  ns: string;
  batch: Document[];
}

/** The server's open cursors. */
export class CursorRegistry {
  readonly #cursors = new Map<number, OpenCursor>();
  #nextId = 1 + Math.floor(Math.random() * 2 ** 40);
  #timedOut = 0;
  readonly #idleTimeoutMs: number;

  constructor(idleTimeoutMs: number) {
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  /** How many cursors are open. */
  get size(): number {
    return this.#cursors.size;
  }

  /** How many cursors have been reaped for idleness since start. */
  get timedOut(): number {
    return this.#timedOut;
  }

  /**
   * The first batch of a result; the rest stays in a new cursor unless it fits or `singleBatch` is set.
   */
  open(namespace: string, docs: Document[], batchSize: number | undefined, singleBatch = false): CursorReply {
    const batch = takeBatch(docs, 0, batchSize ?? DEFAULT_FIRST_BATCH);
    if (singleBatch || batch.length >= docs.length) return { id: Long.ZERO, ns: namespace, batch };
    const id = this.#nextId++;
    this.#cursors.set(id, { namespace, docs, position: batch.length, lastUsed: Date.now() });
    return { id: Long.fromNumber(id), ns: namespace, batch };
  }

  /** The next batch of cursor `id`; CursorNotFound if it is unknown, closed or reaped. */
  more(id: number, batchSize: number | undefined): CursorReply {
    const cursor = this.#cursors.get(id);
    if (!cursor) throw new CommandError("CursorNotFound", `cursor id ${id} not found`);
    const batch = takeBatch(cursor.docs, cursor.position, batchSize || Infinity);
    cursor.position += batch.length;
    cursor.lastUsed = Date.now();
    if (cursor.position >= cursor.docs.length) {
      this.#cursors.delete(id);
      return { id: Long.ZERO, ns: cursor.namespace, batch };
    }
    return { id: Long.fromNumber(id), ns: cursor.namespace, batch };
  }

  /** Closes a cursor; false if it was not open. */
  kill(id: number): boolean {
    return this.#cursors.delete(id);
  }

  /** Closes cursors idle for longer than the timeout; returns how many. */
  reap(now = Date.now()): number {
    let reaped = 0;
    for (const [id, cursor] of this.#cursors) {
      if (now - cursor.lastUsed > this.#idleTimeoutMs) {
        this.#cursors.delete(id);
        reaped++;
        this.#timedOut++;
      }
    }
    return reaped;
  }

  /** Closes every cursor. */
  clear(): void {
    this.#cursors.clear();
  }
}

// Batches stop at the count asked for or at 16 MiB of documents, whichever comes first (as mongod does).
function takeBatch(docs: Document[], from: number, count: number): Document[] {
  const end = Math.min(docs.length, from + count);
  if (end - from <= 1) return docs.slice(from, end);
  let bytes = 0;
  let at = from;
  for (; at < end; at++) {
    bytes += calculateObjectSize(docs[at]);
    if (bytes > MAX_BSON_OBJECT_SIZE && at > from) break;
  }
  return docs.slice(from, at);
}
