/**
 * The persistence log of a `dataDir`: append-only, fsynced before acknowledging, group-committed,
 * replayed at start, its torn tail dropped, and compacted when it outgrows the live data.
 *
 * Fsync policy: every batch of records is written and `fdatasync`ed before any write it contains is
 * acknowledged. Records appended while a sync is in flight are written together by the next one
 * (group commit), so concurrent writers share the cost of one fsync.
 *
 * @module
 */
import type { Document } from "bson";
import { devdbLogger } from "../log.ts";
import type { Catalog } from "../storage/catalog.ts";
import { type DataDirLock, lockDataDir } from "./lock.ts";
import { decodeLog, encodeRecord, hasLogHeader, LOG_MAGIC } from "./record.ts";

const log = devdbLogger("journal");

const LOG_FILE = "devdb.log";
const COMPACT_FILE = "devdb.log.compact";

/** When to compact: the log holds at least this many records and more than `ratio` times the live ones. */
export interface CompactionPolicy {
  minRecords: number;
  ratio: number;
}

const DEFAULT_POLICY: CompactionPolicy = { minRecords: 10_000, ratio: 2 };

/** The log a server appends its changes to. */
export interface Journal {
  /** Queues a record; it reaches the disk with the next group commit. */
  append(record: Document): void;
  /** Resolves once every record appended so far is on disk. */
  sync(): Promise<void>;
  /** Rewrites the log as the current state only. */
  compact(): Promise<void>;
  /** How many records the log file holds. */
  readonly recordCount: number;
  /** How many write-and-fsync rounds have run (fewer than writes when group commit shares them). */
  readonly syncCount: number;
  /** Writes the server's port into the data directory's lock file, for the message a second server gets. */
  recordPort(port: number): Promise<void>;
  /** Flushes what is queued, closes the file and releases the data directory. */
  close(): Promise<void>;
}

class FileJournal implements Journal {
  readonly #dir: string;
  readonly #lock: DataDirLock;
  readonly #catalog: Catalog;
  readonly #policy: CompactionPolicy;
  #file: Deno.FsFile;
  #queue: Uint8Array[] = [];
  #appended = 0;
  #durable = 0;
  #waiters: { upTo: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  #flushing?: Promise<void>;
  #failure?: Error;
  #records: number;
  #syncs = 0;
  #closed = false;

  constructor(
    dir: string,
    lock: DataDirLock,
    file: Deno.FsFile,
    catalog: Catalog,
    records: number,
    policy: CompactionPolicy,
  ) {
    this.#dir = dir;
    this.#lock = lock;
    this.#file = file;
    this.#catalog = catalog;
    this.#records = records;
    this.#policy = policy;
  }

  get recordCount(): number {
    return this.#records;
  }

  get syncCount(): number {
    return this.#syncs;
  }

  recordPort(port: number): Promise<void> {
    return this.#lock.recordPort(port);
  }

  append(record: Document): void {
    if (this.#closed) throw new Error("the log is closed");
    this.#queue.push(encodeRecord(record));
    this.#appended++;
    this.#flushing ??= this.#flushLoop();
  }

  sync(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#durable >= this.#appended) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ upTo: this.#appended, resolve, reject }));
  }

  async compact(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    await (this.#flushing = this.#flushLoop(true));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      while (this.#flushing) await this.#flushing;
      if (this.#failure) throw this.#failure;
    } finally {
      this.#closed = true;
      this.#file.close();
      this.#lock.release();
    }
  }

  async #flushLoop(forceCompaction = false): Promise<void> {
    // Let the command that appended finish its synchronous work, so its records share one write.
    await Promise.resolve();
    try {
      while (this.#queue.length) {
        const batch = this.#queue;
        const upTo = this.#appended;
        this.#queue = [];
        await writeAll(this.#file, concat(batch));
        await this.#file.syncData();
        this.#syncs++;
        this.#records += batch.length;
        this.#durable = upTo;
        this.#release();
      }
      if (forceCompaction || this.#shouldCompact()) await this.#compact();
    } catch (error) {
      this.#failure = error as Error;
      log.error("writing the log failed: {error}", { error });
      for (const waiter of this.#waiters) waiter.reject(this.#failure);
      this.#waiters = [];
    } finally {
      this.#flushing = undefined;
      if (this.#queue.length && !this.#failure && !this.#closed) this.#flushing = this.#flushLoop();
    }
  }

  #release(): void {
    const pending = [];
    for (const waiter of this.#waiters) {
      if (waiter.upTo <= this.#durable) waiter.resolve();
      else pending.push(waiter);
    }
    this.#waiters = pending;
  }

  #shouldCompact(): boolean {
    return this.#records >= this.#policy.minRecords &&
      this.#records > this.#policy.ratio * this.#catalog.documentCount();
  }

  // Records queued during compaction already show in the snapshot; appending them again afterwards is
  // harmless because every record sets state (a whole document, a drop) rather than changing it.
  async #compact(): Promise<void> {
    const before = this.#records;
    const snapshot: Uint8Array[] = [LOG_MAGIC];
    for (const record of this.#catalog.snapshot()) snapshot.push(encodeRecord(record));
    const compactPath = `${this.#dir}/${COMPACT_FILE}`;
    const compacted = await Deno.open(compactPath, { write: true, create: true, truncate: true });
    try {
      await writeAll(compacted, concat(snapshot));
      await compacted.syncData();
    } finally {
      compacted.close();
    }
    await Deno.rename(compactPath, `${this.#dir}/${LOG_FILE}`);
    await syncDirectory(this.#dir);
    this.#file.close();
    this.#file = await Deno.open(`${this.#dir}/${LOG_FILE}`, { read: true, write: true });
    await this.#file.seek(0, Deno.SeekMode.End);
    this.#records = snapshot.length - 1;
    log.info("compacted the log from {before} to {after} records", { before, after: this.#records });
  }
}

/**
 * Opens (or creates) the log in `dir`, replays it into `catalog`, drops a torn tail, and returns the
 * journal to append to.
 */
export async function openJournal(
  dir: string,
  catalog: Catalog,
  policy: CompactionPolicy = DEFAULT_POLICY,
): Promise<Journal> {
  // Taken before reading the log: a second server (in any process) must not replay, let alone append.
  const lock = await lockDataDir(await ensureDir(dir));
  const path = `${dir}/${LOG_FILE}`;
  let bytes: Uint8Array;
  let file: Deno.FsFile;
  try {
    bytes = await readIfExists(path);
    file = await Deno.open(path, { read: true, write: true, create: true });
  } catch (error) {
    lock.release();
    throw error;
  }
  let records = 0;
  try {
    // A crash while a new log was being created can leave part of its header; the log is empty then.
    if (bytes.length < LOG_MAGIC.length && bytes.every((byte, i) => byte === LOG_MAGIC[i])) {
      await file.truncate(0);
      await writeAll(file, LOG_MAGIC);
      await file.syncData();
    } else {
      if (!hasLogHeader(bytes)) throw new Error(`${path} is not a devdb log`);
      const decoded = decodeLog(bytes);
      for (const record of decoded.records) catalog.apply(record);
      records = decoded.records.length;
      if (decoded.validEnd < bytes.length) {
        log.warn("dropping a torn log tail of {bytes} bytes ({reason}) in {path}", {
          bytes: bytes.length - decoded.validEnd,
          reason: decoded.stopReason,
          path,
        });
        await file.truncate(decoded.validEnd);
        await file.syncData();
      }
    }
    await file.seek(0, Deno.SeekMode.End);
  } catch (error) {
    file.close();
    lock.release();
    throw error;
  }
  log.info("replayed {records} log records from {path}", { records, path });
  const journal = new FileJournal(dir, lock, file, catalog, records, policy);
  if (records >= policy.minRecords && records > policy.ratio * catalog.documentCount()) {
    await journal.compact();
  }
  return journal;
}

async function ensureDir(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

async function readIfExists(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Uint8Array();
    throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.syncData();
  } finally {
    handle.close();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
}
