/**
 * A Web Worker entry that runs the embedded server on its own thread.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ type: "start", options: { port: 0 } } satisfies DevDbWorkerRequest);
 * // -> { type: "started", url, port }; later post { type: "stop" } -> { type: "stopped" }
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { startDevDb } from "./server.ts";
import type { DevDb, DevDbWorkerRequest, DevDbWorkerResponse } from "./types.ts";

let server: DevDb | undefined;

function reply(message: DevDbWorkerResponse): void {
  self.postMessage(message);
}

async function handle(request: DevDbWorkerRequest): Promise<void> {
  if (request.type === "start") {
    if (server) return reply({ type: "error", message: `already started at ${server.url}` });
    try {
      server = await startDevDb(request.options ?? {});
      reply({ type: "started", url: server.url, port: server.port });
    } catch (error) {
      reply({ type: "error", message: (error as Error).message, name: (error as Error).name });
    }
  } else if (request.type === "stop") {
    const running = server;
    server = undefined;
    await running?.stop();
    reply({ type: "stopped" });
  } else {
    reply({ type: "error", message: `unknown message type ${(request as { type?: unknown }).type}` });
  }
}

// Messages are handled one at a time, so a stop that arrives during a start waits for it.
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<DevDbWorkerRequest>) => {
  queue = queue.then(() => handle(event.data));
};
