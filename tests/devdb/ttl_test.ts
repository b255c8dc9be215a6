import assert from "node:assert/strict";
import { waitFor } from "../helpers/wait.ts";
import { withDevDb } from "./harness.ts";

Deno.test("a TTL index deletes expired documents on the sweep interval", () =>
  withDevDb(async ({ db }) => {
    const sessions = db.collection("sessions");
    await sessions.createIndex({ lastSeen: 1 }, { expireAfterSeconds: 60 });
    const now = Date.now();
    await sessions.insertMany([
      { name: "stale", lastSeen: new Date(now - 120_000) },
      { name: "fresh", lastSeen: new Date(now) },
      { name: "no date", lastSeen: "yesterday" },
      { name: "stale in an array", lastSeen: [new Date(now + 3_600_000), new Date(now - 300_000)] },
    ]);
    await waitFor(async () => (await sessions.countDocuments()) === 2, {
      timeoutMs: 5_000,
      what: "the sweep",
    });
    assert.deepEqual((await sessions.find().toArray()).map((doc) => doc.name), ["fresh", "no date"]);
  }, { ttlSweepIntervalMs: 20 }));
