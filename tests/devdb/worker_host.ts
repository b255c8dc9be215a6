/**
 * A child process for worker_test.ts: hosts `src/devdb/worker.ts` in a Worker, prints each reply as a JSON
 * line, and asks the worker to stop when its stdin closes.
 *
 * Run in its own process because a Worker needs read access to its module files (`src/devdb/`), which
 * the `test` permission set does not grant; this process gets exactly that and loopback networking.
 *
 * @module
 */
import type { DevDbWorkerRequest, DevDbWorkerResponse } from "../../src/devdb/mod.ts";

const worker = new Worker(new URL("../../src/devdb/worker.ts", import.meta.url), { type: "module" });
const encoder = new TextEncoder();

function ask(request: DevDbWorkerRequest): Promise<DevDbWorkerResponse> {
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<DevDbWorkerResponse>) => resolve(event.data);
    worker.postMessage(request);
  });
}

function print(message: DevDbWorkerResponse): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(message) + "\n"));
}

print(await ask({ type: "start", options: JSON.parse(Deno.args[0] ?? "{}") }));
print(await ask({ type: "start" }));
for await (const _ of Deno.stdin.readable) {
  // Wait for the parent to close stdin.
}
print(await ask({ type: "stop" }));
worker.terminate();
