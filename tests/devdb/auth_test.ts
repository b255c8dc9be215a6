import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";

Deno.test("PLAIN authentication is accepted with any credentials; SCRAM is refused as not enabled", async () => {
  const devdb = await startDevDb();
  const withUser = devdb.url.replace("mongodb://", "mongodb://zien:s3cret@");
  const plain = new MongoClient(`${withUser}&authMechanism=PLAIN&authSource=%24external`);
  const scram = new MongoClient(withUser, { serverSelectionTimeoutMS: 500 });
  try {
    await plain.db("app").collection("notes").insertOne({ n: 1 });
    assert.equal(await plain.db("app").collection("notes").countDocuments(), 1);
    await assert.rejects(scram.connect(), /mechanism SCRAM-SHA-256 which is not enabled/);
  } finally {
    await plain.close();
    await scram.close();
    await devdb.stop();
  }
});
