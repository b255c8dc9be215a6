import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import type { DevDbWorkerResponse } from "../../src/devdb/mod.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
}

function hostWorker(options: object) {
  return new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read=src/devdb",
      "--allow-net=127.0.0.1",
      "tests/devdb/worker_host.ts",
      JSON.stringify(options),
    ],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

Deno.test("the worker entry runs a server on its own thread and stops it on request", async () => {
  const child = hostWorker({ port: 0 });
  const replies = lines(child.stdout);
  const next = async () => JSON.parse((await replies.next()).value ?? "null") as DevDbWorkerResponse;
  try {
    const started = await next();
    assert.equal(started.type, "started");
    if (started.type !== "started") return;
    assert.match(started.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true$/);
    assert.equal(new URL(started.url).port, String(started.port));
    const second = await next();
    assert.equal(second.type, "error", "a second start is refused");

    const client = new MongoClient(started.url, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db("app").collection("c").insertOne({ fromWorker: true });
      assert.equal(await client.db("app").collection("c").countDocuments({ fromWorker: true }), 1);
    } finally {
      await client.close();
    }
    await child.stdin.close();
    assert.deepEqual(await next(), { type: "stopped" });
    const refused = await Deno.connect({ hostname: "127.0.0.1", port: started.port }).then(
      (conn) => (conn.close(), false),
      () => true,
    );
    assert.equal(refused, true, "the port is closed after stop");
  } finally {
    for await (const _ of replies) { /* drain */ }
    const status = await child.status;
    assert.equal(status.code, 0);
  }
});
