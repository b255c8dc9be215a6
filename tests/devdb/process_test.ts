import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { spawnDevDb } from "../helpers/devdb_process.ts";
import { parseCliArgs } from "../../src/devdb/cli_args.ts";
import { tempDataDir } from "./harness.ts";

Deno.test("the devdb CLI serves the driver, exits on SIGTERM and keeps its data across restarts", async () => {
  const dataDir = await tempDataDir();
  try {
    const first = await spawnDevDb({ dataDir });
    assert.match(first.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true$/);
    const client = new MongoClient(first.url, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db("app").collection("c").insertOne({ survived: true });
    } finally {
      await client.close();
    }
    await first.stop();

    const second = await spawnDevDb({ dataDir, port: first.port });
    assert.equal(second.port, first.port);
    const again = new MongoClient(second.url, { serverSelectionTimeoutMS: 5_000 });
    try {
      assert.equal(await again.db("app").collection("c").countDocuments({ survived: true }), 1);
    } finally {
      await again.close();
      await second.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the devdb CLI exits 0 on SIGTERM with clients still connected", async () => {
  const devdb = await spawnDevDb({ maxConnections: 10 });
  const client = new MongoClient(devdb.url, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db("admin").command({ ping: 1 });
    const status = await client.db("admin").command({ serverStatus: 1 });
    assert.equal(status.pid, devdb.pid);
    assert.equal(status.connections.available + status.connections.current, 10);
  } finally {
    await devdb.stop();
    await client.close();
  }
  const { code, signal } = await devdb.status;
  assert.equal(signal, null);
  assert.equal(code, 0);
});

Deno.test("the CLI arguments default to port 27017 and .data/devdb, and reject nonsense", () => {
  assert.deepEqual(parseCliArgs([]), { options: { port: 27017, dataDir: ".data/devdb" }, help: false });
  assert.deepEqual(
    parseCliArgs(["--port=0", "--in-memory", "--max-connections", "500", "--hostname", "0.0.0.0"]),
    {
      options: { port: 0, dataDir: undefined, maxConnections: 500, hostname: "0.0.0.0" },
      help: false,
    },
  );
  assert.ok("error" in parseCliArgs(["--port", "70000"]));
  assert.ok("error" in parseCliArgs(["--bogus"]));
});
