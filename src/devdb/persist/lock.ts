/**
 * The lock on a data directory, held across processes: one devdb per directory, whether it runs under
 * `deno task devdb` or embedded in `deno task start`. Two servers appending to one log would each replay
 * only their own writes, and lose the other's.
 *
 * The lock is an exclusive `flock` on `devdb.lock`, so the kernel drops it when its process dies: a lock
 * left by a dead pid is taken over without asking. The file holds the owner's pid and port, for the
 * message the next one gets.
 *
 * @module
 */
import { devdbLogger } from "../log.ts";

const log = devdbLogger("lock");

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "devdb.lock";

/** Who holds a data directory. */
export interface LockOwner {
  pid: number;
  /** Unknown until that server listens. */
  port?: number;
  startedAt?: string;
}

/** The data directory is locked by a running server. */
export class DataDirInUseError extends Error {
  constructor(readonly dir: string, readonly owner: LockOwner | undefined) {
    const who = owner === undefined
      ? "another process"
      : `process ${owner.pid}${owner.port === undefined ? "" : ` (devdb port ${owner.port})`}`;
    const url = owner?.port === undefined
      ? "its mongodb:// URL"
      : `MONGODB_URL=mongodb://127.0.0.1:${owner.port}/?directConnection=true`;
    super(
      `data directory ${dir} is in use by ${who}. Stop that one first, or run two instances on one ` +
        `database: start it once with \`deno task devdb --data-dir ${dir}\` and give each instance ${url}`,
    );
    this.name = "DataDirInUseError";
  }
}

/** A held lock. */
export interface DataDirLock {
  /** Writes the port this server listens on into the lock file. */
  recordPort(port: number): Promise<void>;
  /** Releases the lock (the file stays; its content is only a hint). */
  release(): void;
}

/**
 * Takes the lock on `dir` (which must exist).
 *
 * @throws {DataDirInUseError} naming the owner when another process, or another server in this one, holds it
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = `${dir}/${LOCK_FILE}`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  try {
    if (!await file.tryLock(true)) throw new DataDirInUseError(dir, await readOwner(path));
    const previous = await readOwner(path);
    if (previous !== undefined && previous.pid !== Deno.pid) {
      log.info("taking over the lock on {dir} left by process {pid}, which has exited", {
        dir,
        pid: previous.pid,
      });
    }
    const owner: LockOwner = { pid: Deno.pid, startedAt: new Date().toISOString() };
    await writeOwner(file, owner);
    return {
      recordPort: (port) => writeOwner(file, { ...owner, port }),
      release: () => {
        file.unlockSync();
        file.close();
      },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await Deno.readTextFile(path));
    return typeof owner?.pid === "number" ? owner : undefined;
  } catch {
    return undefined; // Empty or torn: a lock file is only ever a hint.
  }
}

async function writeOwner(file: Deno.FsFile, owner: LockOwner): Promise<void> {
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
  const bytes = new TextEncoder().encode(JSON.stringify(owner) + "\n");
  for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
}
