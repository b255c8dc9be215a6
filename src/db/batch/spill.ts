/**
 * Spill files: the events a batch writer could not write before its shutdown deadline, kept on disk until
 * the next start writes them.
 *
 * One file per spill, `<writer>-<epoch ms>-<random>.jsonl`, one event per line in canonical Extended JSON,
 * so ObjectIds, Dates and number types come back exactly. A file is written under a temporary name,
 * fsynced, then renamed: a file with its final name is always complete.
 *
 * @module
 */
import { type Document, EJSON } from "bson";
import { join } from "node:path";

/** A spill file that is ready to recover. */
export interface SpillFile {
  path: string;
  /** When it was written (epoch ms), from its name. */
  writtenAt: number;
}

/** What is in the spill directory for one writer. */
export interface SpillListing {
  files: SpillFile[];
  /** Temporary files left by a process that died while spilling; never recovered automatically. */
  incomplete: string[];
}

const encoder = new TextEncoder();

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Encodes events as canonical EJSON lines. */
export function encodeEvents(events: readonly Document[]): string {
  return events.map((event) => EJSON.stringify(event, { relaxed: false }) + "\n").join("");
}

/** Writes `text` to `dir/fileName` atomically: a temporary name, fsync, rename, then the directory fsynced. */
async function writeAtomically(dir: string, fileName: string, text: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, fileName);
  const temporary = `${path}.tmp`;
  const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
  try {
    const bytes = encoder.encode(text);
    for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
  await syncDirectory(dir);
  return path;
}

// Makes the rename itself durable. Not every platform lets a directory be opened for fsync: best effort.
async function syncDirectory(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // The file's contents are already synced; only the rename might not survive a power cut.
  }
}

/**
 * Writes `events` to a new spill file for `writer` under `dir` and returns its path.
 *
 * @example
 * ```ts
 * await writeSpillFile(".data/spill", "usage_events", events, Date.now());
 * // .data/spill/usage_events-1732380000000-9f8e7d6c.jsonl
 * ```
 */
export function writeSpillFile(
  dir: string,
  writer: string,
  events: readonly Document[],
  now: number,
): Promise<string> {
  return writeAtomically(dir, `${writer}-${now}-${randomSuffix()}.jsonl`, encodeEvents(events));
}

/**
 * Keeps events the server refused for good in `<writer>-rejected-<epoch ms>-<random>.jsonl` under `dir`,
 * each line `{ event, code, message }`, for an operator to look at; recovery never reads these. Returns
 * where they went, or why they were not kept, for the log line.
 */
export async function keepRejected(
  dir: string | undefined,
  writer: string,
  entries: readonly { event: Document; code: number; message: string }[],
  now: number,
): Promise<string> {
  if (dir === undefined) return "not kept (no spillDir)";
  const lines = entries.map(({ event, code, message }) => ({ event, code, message }));
  try {
    return `kept in ${await writeAtomically(
      dir,
      `${writer}-rejected-${now}-${randomSuffix()}.jsonl`,
      encodeEvents(lines),
    )}`;
  } catch (err) {
    return `not kept (${(err as Error).message})`;
  }
}

/** The spill files of `writer` under `dir`, oldest first; none when `dir` does not exist. */
export async function listSpillFiles(dir: string, writer: string): Promise<SpillListing> {
  const complete = new RegExp(`^${escapeRegExp(writer)}-(\\d+)-[0-9a-f]+\\.jsonl$`);
  const partial = new RegExp(`^${escapeRegExp(writer)}-(\\d+)-[0-9a-f]+\\.jsonl\\.tmp$`);
  const listing: SpillListing = { files: [], incomplete: [] };
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const match = complete.exec(entry.name);
      if (match) listing.files.push({ path: join(dir, entry.name), writtenAt: Number(match[1]) });
      else if (partial.test(entry.name)) listing.incomplete.push(join(dir, entry.name));
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return listing;
    throw err;
  }
  listing.files.sort((a, b) => a.writtenAt - b.writtenAt || a.path.localeCompare(b.path));
  return listing;
}

/**
 * Reads the events of a spill file.
 *
 * @throws {SyntaxError} naming the file and line when a line is not an EJSON object
 */
export async function readSpillFile(path: string): Promise<Document[]> {
  const text = await Deno.readTextFile(path);
  const events: Document[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    let event: unknown;
    try {
      event = EJSON.parse(lines[i], { relaxed: false });
    } catch (err) {
      throw new SyntaxError(`${path}:${i + 1}: not Extended JSON (${(err as Error).message})`);
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      throw new SyntaxError(`${path}:${i + 1}: not an event object`);
    }
    events.push(event as Document);
  }
  return events;
}
