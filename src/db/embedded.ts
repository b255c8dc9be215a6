/**
 * Development mode: the embedded devdb on its own Deno Worker thread, so database work does not share
 * the server's event loop.
 *
 * @module
 */
import type { DevDbOptions, DevDbWorkerRequest, DevDbWorkerResponse } from "../devdb/mod.ts";

/** The embedded devdb did not start; `reason` is the worker's error class name (`DataDirInUseError`). */
export class EmbeddedDevDbError extends Error {
  constructor(message: string, readonly reason: string | undefined) {
    super(message);
    this.name = "EmbeddedDevDbError";
  }
}

/** A devdb running on a worker thread. */
export interface EmbeddedDevDb {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the devdb on a Worker thread and resolves with its URL once it listens.
 *
 * @example
 * ```ts
 * const devdb = await startEmbeddedDevDb({ dataDir: ".data/devdb" });
 * const client = new MongoClient(devdb.url);
 * ```
 */
export function startEmbeddedDevDb(options: DevDbOptions): Promise<EmbeddedDevDb> {
  const worker = new Worker(new URL("../devdb/worker.ts", import.meta.url), { type: "module" });
  const post = (message: DevDbWorkerRequest) => worker.postMessage(message);
  const next = () =>
    new Promise<DevDbWorkerResponse>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<DevDbWorkerResponse>) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`devdb worker failed: ${event.message}`));
      };
    });
  const started = next();
  post({ type: "start", options });
  return started.then((reply) => {
    if (reply.type !== "started") {
      worker.terminate();
      if (reply.type === "error") throw new EmbeddedDevDbError(reply.message, reply.name);
      throw new EmbeddedDevDbError(`embedded devdb did not start: ${reply.type}`, undefined);
    }
    return {
      url: reply.url,
      async stop() {
        const stopped = next();
        post({ type: "stop" });
        await stopped;
        worker.terminate();
      },
    };
  }, (err) => {
    worker.terminate();
    throw err;
  });
}
