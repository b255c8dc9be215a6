/**
 * Writing spill files back: each complete file of a writer, oldest first, its events handed back with their
 * `_id`s (so an event that had in fact been written is not doubled), and the file deleted once they are in
 * the database. Runs at start and, after an overflow, once the database answers again.
 *
 * @module
 */
import type { Document } from "mongodb";
import { getLogger } from "../../log.ts";
import { describeError } from "./outcome.ts";
import { prepareEvent } from "./queue.ts";
import { listSpillFiles, readSpillFile } from "./spill.ts";

const log = getLogger(["db", "batch"]);

/** What recovery needs of its writer. */
export interface RecoveryTarget {
  /** The writer's name: its spill files start with it. */
  name: string;
  dir: string;
  /** Takes a spilled event back, waiting for room in memory; throws once the writer is closing. */
  admit(doc: Document): Promise<void>;
  /** Resolves once every event taken so far is written. */
  written(): Promise<void>;
  /** Called before each listing of the directory (the writer clears its "files pending" flag). */
  beforeListing(): void;
  /** A file's `events` are written and the file is deleted. */
  removed(path: string, events: number): void;
}

/**
 * Recovers `target`'s spill files until none is left (files written meanwhile included). A file that cannot
 * be read is logged and left in place; so are `.tmp` files, which are reported when `warnIncomplete`.
 *
 * @returns how many files and events were recovered
 * @throws whatever `admit` throws (a writer closing: the files stay for the next start)
 */
export async function recoverSpillFiles(
  target: RecoveryTarget,
  options: { warnIncomplete: boolean },
): Promise<{ files: number; events: number }> {
  const recovered = { files: 0, events: 0 };
  const unreadable = new Set<string>();
  let warnIncomplete = options.warnIncomplete;
  while (true) {
    target.beforeListing();
    const listing = await listSpillFiles(target.dir, target.name);
    for (const path of warnIncomplete ? listing.incomplete : []) {
      log.warn("batch writer {writer}: leaving incomplete spill file {path} for an operator", {
        writer: target.name,
        path,
      });
    }
    // Only at the first listing: later, a `.tmp` file may be an overflow this process is writing.
    warnIncomplete = false;
    const file = listing.files.find((f) => !unreadable.has(f.path));
    if (!file) return recovered;
    let events: Document[];
    try {
      events = await readSpillFile(file.path);
    } catch (err) {
      unreadable.add(file.path);
      log.error("batch writer {writer}: cannot read spill file {path}, leaving it: {error}", {
        writer: target.name,
        path: file.path,
        error: describeError(err),
      });
      continue;
    }
    for (const event of events) await target.admit(event._id === undefined ? prepareEvent(event) : event);
    await target.written();
    try {
      await Deno.remove(file.path);
    } catch (err) {
      // Another process on the same spill directory recovered it too: its `_id`s kept the events single.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    target.removed(file.path, events.length);
    recovered.files++;
    recovered.events += events.length;
    log.info("batch writer {writer}: recovered {count} events from {path}", {
      writer: target.name,
      count: events.length,
      path: file.path,
    });
  }
}
