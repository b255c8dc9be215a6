/**
 * Where a batch writer's events go when its memory is full: spill files on disk, written in groups (one
 * file, one fsync for every event that overflowed meanwhile), within a cap on the bytes this writer keeps
 * there. Past the cap, or without a spill directory, an event is refused at once: nothing is ever held
 * waiting for the database, and nothing acknowledged is dropped later.
 *
 * @module
 */
import type { Document } from "mongodb";
import { EJSON } from "bson";
import { listSpillFiles, writeSpillFile } from "./spill.ts";
import { WriterFullError } from "./types.ts";

interface Overflowing {
  doc: Document;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The disk side of one writer's buffer. */
export class SpillOverflow {
  readonly #dir: string | undefined;
  readonly #writer: string;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #pending: Overflowing[] = [];
  #writing: Promise<void> | undefined;
  /** Bytes of this writer's spill files on disk, plus those reserved by events on their way there. */
  #bytes = 0;
  #counted: Promise<void> | undefined;
  /** Spill files whose sizes are counted in `#bytes`, so a recovered one can give its room back. */
  readonly #sizes = new Map<string, number>();

  constructor(dir: string | undefined, writer: string, maxBytes: number, now: () => number) {
    this.#dir = dir;
    this.#writer = writer;
    this.#maxBytes = maxBytes;
    this.#now = now;
  }

  /** Bytes this writer keeps (or is about to keep) in spill files. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Puts `doc` on disk with the others that overflow meanwhile; resolves once its file is synced.
   *
   * @throws {WriterFullError} at once when there is no spill directory or no room left under the cap;
   *   later when the file cannot be written (a full disk, say)
   */
  add(doc: Document): Promise<void> {
    if (this.#dir === undefined) {
      return Promise.reject(
        new WriterFullError(this.#writer, "memory is full and there is no spill directory"),
      );
    }
    const bytes = EJSON.stringify(doc, { relaxed: false }).length + 1;
    if (this.#bytes + bytes > this.#maxBytes) {
      return Promise.reject(
        new WriterFullError(this.#writer, `memory is full and its spill files hold ${this.#bytes} bytes`),
      );
    }
    this.#bytes += bytes;
    return new Promise((resolve, reject) => {
      this.#pending.push({ doc, bytes, resolve, reject });
      this.#writing ??= this.#writeAll().finally(() => (this.#writing = undefined));
    });
  }

  /** Resolves once every event handed in so far is on disk or refused. */
  async idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  /** Counts the spill files already on disk (from an earlier run) against the cap; once. */
  countExisting(): Promise<void> {
    return this.#counted ??= (async () => {
      if (this.#dir === undefined) return;
      const { files } = await listSpillFiles(this.#dir, this.#writer);
      for (const file of files) await this.#track(file.path);
    })();
  }

  /** Gives the room of a deleted spill file back. */
  fileRemoved(path: string): void {
    const size = this.#sizes.get(path);
    if (size === undefined) return;
    this.#sizes.delete(path);
    this.#bytes = Math.max(0, this.#bytes - size);
  }

  async #track(path: string): Promise<void> {
    if (this.#sizes.has(path)) return;
    try {
      const { size } = await Deno.stat(path);
      this.#sizes.set(path, size);
      this.#bytes += size;
    } catch {
      // Gone already (recovered meanwhile): nothing to count.
    }
  }

  async #writeAll(): Promise<void> {
    while (this.#pending.length > 0) {
      const group = this.#pending;
      this.#pending = [];
      const reserved = group.reduce((sum, item) => sum + item.bytes, 0);
      try {
        const path = await writeSpillFile(
          this.#dir!,
          this.#writer,
          group.map((item) => item.doc),
          this.#now(),
        );
        this.#bytes -= reserved;
        await this.#track(path);
        for (const item of group) item.resolve();
      } catch (err) {
        this.#bytes -= reserved;
        const error = new WriterFullError(
          this.#writer,
          `memory is full and the spill file failed: ${(err as Error).message}`,
        );
        for (const item of group) item.reject(error);
      }
    }
  }
}
