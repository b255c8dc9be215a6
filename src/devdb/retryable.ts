/**
 * Retryable writes: the reply to each session's latest `txnNumber`, so that a write the driver retries
 * (same `lsid`, same `txnNumber`) gets the first answer instead of being applied twice.
 *
 * The record is shared by every member, as mongod's `config.transactions` is replicated.
 *
 * @module
 */
import type { Binary, Document } from "bson";
import { CommandError } from "./errors.ts";

// Sessions remembered at most; the oldest is forgotten first (the driver reuses a small pool of sessions).
const MAX_SESSIONS = 10_000;

/** The write commands a `txnNumber` makes retryable. */
export const RETRYABLE_WRITE_COMMANDS = new Set([
  "insert",
  "update",
  "delete",
  "findAndModify",
  "findandmodify",
]);

interface Record {
  txnNumber: number;
  reply: Promise<Document>;
}

/** The latest retryable write of each session. */
export class RetryableWrites {
  readonly #sessions = new Map<string, Record>();

  /**
   * Runs `write` once per (lsid, txnNumber): a retry awaits and returns the first attempt's reply; an older
   * txnNumber is refused with TransactionTooOld (225). A failed attempt (ok: 0 or a throw) is forgotten.
   */
  run(lsid: Document, txnNumber: number, write: () => Document | Promise<Document>): Promise<Document> {
    const key = sessionKey(lsid);
    const known = this.#sessions.get(key);
    if (known && known.txnNumber === txnNumber) return known.reply;
    if (known && txnNumber < known.txnNumber) {
      throw new CommandError(
        "TransactionTooOld",
        `Retryable write with txnNumber ${txnNumber} is prohibited on session ${key} because a newer ` +
          `retryable write with txnNumber ${known.txnNumber} has already started on this session.`,
      );
    }
    const reply = Promise.resolve().then(write);
    const record: Record = { txnNumber, reply };
    this.#sessions.delete(key);
    this.#sessions.set(key, record);
    if (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const forget = () => {
      if (this.#sessions.get(key) === record) this.#sessions.delete(key);
    };
    reply.then((document) => document.ok === 0 && forget(), forget);
    return reply;
  }
}

function sessionKey(lsid: Document): string {
  const id = lsid.id as Binary | undefined;
  if (!id || typeof id.toString !== "function") {
    throw new CommandError("InvalidOptions", "lsid must be a document with a UUID id");
  }
  return id.toString("hex");
}
