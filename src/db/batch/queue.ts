/**
 * The in-memory side of a batch writer: events in order, the batch in flight, events waiting for
 * room, and callers waiting for events to be written. No I/O here; the writer drives it.
 *
 * @module
 */
import { type Document, ObjectId } from "mongodb";
import { BSON } from "bson";

// The server's document limit; an event past it would poison every batch it is in.
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/** An event held by the writer. */
export interface Pending {
  doc: Document;
  /** The order of `add()`; what flushes and recovery wait on. */
  seq: number;
}

interface Waiter {
  pending: Pending;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface WrittenWaiter {
  /** Resolves once every event up to this sequence number has left the queue. */
  target: number;
  /** A strict waiter (`flush()`) fails with the first failed attempt; others wait it out. */
  strict: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Events between `add()` and the database, bounded by `maxBuffer` (queued plus in flight). Events leave
 * only from the front, and a failed batch goes back to the front, so sequence numbers stay in order:
 * in flight < queued < waiting for room.
 */
export class PendingEvents {
  readonly #maxBuffer: number;
  #queue: Pending[] = [];
  #inFlight: Pending[] = [];
  #waiting: Waiter[] = [];
  #writtenWaiters: WrittenWaiter[] = [];
  #seq = 0;

  constructor(maxBuffer: number) {
    this.#maxBuffer = maxBuffer;
  }

  /** The sequence number of the last event handed in. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Events queued, not in flight. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The sequence number of the oldest queued event, if any. */
  get headSeq(): number | undefined {
    return this.#queue[0]?.seq;
  }

  /** Events held in memory: queued plus in flight. */
  get held(): number {
    return this.#queue.length + this.#inFlight.length;
  }

  /** Events waiting for room (spilled events being read back; `add()` overflows to disk instead). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether an event would be taken in at once (nobody waits and memory is below `maxBuffer`). */
  hasRoom(): boolean {
    return this.#waiting.length === 0 && this.held < this.#maxBuffer;
  }

  /** Takes `doc` in: resolved at once while there is room, otherwise once room frees up (in order). */
  admit(doc: Document): Promise<void> {
    const pending: Pending = { doc, seq: ++this.#seq };
    if (this.#waiting.length === 0 && this.held < this.#maxBuffer) {
      this.#queue.push(pending);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiting.push({ pending, resolve, reject }));
  }

  /** Moves waiting events in while there is room, resolving their `add()`. */
  admitWaiting(): void {
    while (this.#waiting.length > 0 && this.held < this.#maxBuffer) {
      const waiter = this.#waiting.shift()!;
      this.#queue.push(waiter.pending);
      waiter.resolve();
    }
  }

  /** Takes up to `count` queued events as the batch in flight. */
  take(count: number): Pending[] {
    this.#inFlight = this.#queue.splice(0, count);
    return this.#inFlight;
  }

  /** Ends the batch in flight: `retry` (in order) goes back to the front; room is handed to waiters. */
  finish(retry: Pending[]): void {
    this.#inFlight = [];
    this.#queue.unshift(...retry);
    this.admitWaiting();
  }

  /** The oldest sequence number still held or waiting; Infinity when there is none. */
  oldestSeq(): number {
    return Math.min(
      this.#inFlight[0]?.seq ?? Infinity,
      this.#queue[0]?.seq ?? Infinity,
      this.#waiting[0]?.pending.seq ?? Infinity,
    );
  }

  /** Resolves once every event up to `target` has left; a strict waiter also fails on a failed attempt. */
  whenWritten(target: number, strict: boolean): Promise<void> {
    if (this.oldestSeq() > target) return Promise.resolve();
    return new Promise((resolve, reject) => this.#writtenWaiters.push({ target, strict, resolve, reject }));
  }

  /** After an attempt: resolves the waiters whose events have all left, and fails strict ones on `failure`. */
  settle(failure?: unknown): void {
    const oldest = this.oldestSeq();
    this.#writtenWaiters = this.#writtenWaiters.filter((waiter) => {
      if (waiter.target < oldest) waiter.resolve();
      else if (failure !== undefined && waiter.strict) waiter.reject(failure);
      else return true;
      return false;
    });
  }

  /**
   * Empties everything (for the spill at close), oldest first. `acknowledge(error?)` then resolves the
   * waiting `add()` calls (their events are on disk) or fails them, and fails every written-waiter.
   */
  takeAll(): { events: Pending[]; acknowledge: (failure: unknown, unwritten: unknown) => void } {
    const events = [...this.#inFlight, ...this.#queue, ...this.#waiting.map((w) => w.pending)]
      .sort((a, b) => a.seq - b.seq);
    const waiting = this.#waiting;
    const writtenWaiters = this.#writtenWaiters;
    this.#inFlight = [];
    this.#queue = [];
    this.#waiting = [];
    this.#writtenWaiters = [];
    return {
      events,
      acknowledge: (failure, unwritten) => {
        for (const waiter of waiting) failure === undefined ? waiter.resolve() : waiter.reject(failure);
        for (const waiter of writtenWaiters) waiter.reject(failure ?? unwritten);
      },
    };
  }
}

/**
 * A shallow copy of `event` with an `_id` (kept if it has one), checked to be storable as BSON before it
 * is acknowledged, so that one bad event can never block every batch after it.
 *
 * @throws {TypeError} for a cycle, an unserializable value, or more than 16 MiB
 */
export function prepareEvent(event: Record<string, unknown>): Document {
  const doc: Document = event._id === undefined ? { _id: new ObjectId(), ...event } : { ...event };
  let size: number;
  try {
    // Serializing, not just measuring: only serialize catches e.g. a key with a null byte.
    size = BSON.serialize(doc).length;
  } catch (err) {
    throw new TypeError(`Event cannot be stored as BSON: ${(err as Error).message}`);
  }
  if (size > MAX_EVENT_BYTES) {
    throw new TypeError(`Event is ${size} bytes of BSON; the limit is ${MAX_EVENT_BYTES}`);
  }
  return doc;
}
