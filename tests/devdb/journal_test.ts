import assert from "node:assert/strict";
import { openJournal } from "../../src/devdb/persist/journal.ts";
import { Catalog } from "../../src/devdb/storage/catalog.ts";
import { tempDataDir } from "./harness.ts";

const policy = { minRecords: 50, ratio: 2 };

Deno.test("the log compacts once it outgrows the live data, and replays to the same state", async () => {
  const dataDir = await tempDataDir();
  try {
    const catalog = new Catalog();
    const journal = await openJournal(dataDir, catalog, policy);
    catalog.setSink((record) => journal.append(record));
    const coll = catalog.ensure("app", "counters");
    coll.createIndex({ v: 2, key: { name: 1 }, name: "name_1", unique: true });
    coll.insert({ _id: 1, name: "one", n: 0 });
    coll.insert({ _id: 2, name: "two", n: 0 });
    let current = coll.byId(1)!;
    for (let n = 1; n <= 200; n++) {
      const next = { ...current, n };
      coll.replace(current, next);
      current = next;
      await journal.sync();
    }
    // Compaction runs after a flush once the log holds over 2x the live records (4 here).
    assert.ok(journal.recordCount < 60, `expected a compacted log, found ${journal.recordCount} records`);
    await journal.close();

    const replayed = new Catalog();
    const reopened = await openJournal(dataDir, replayed, policy);
    try {
      const restored = replayed.get("app", "counters")!;
      assert.deepEqual(restored.byId(1), { _id: 1, name: "one", n: 200 });
      assert.deepEqual(restored.byId(2), { _id: 2, name: "two", n: 0 });
      assert.deepEqual(restored.indexSpecs().map((spec) => spec.name), ["_id_", "name_1"]);
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("records appended in one tick share one write (group commit)", async () => {
  const dataDir = await tempDataDir();
  try {
    const catalog = new Catalog();
    const journal = await openJournal(dataDir, catalog, { minRecords: 1_000_000, ratio: 2 });
    catalog.setSink((record) => journal.append(record));
    const coll = catalog.ensure("app", "batch");
    await journal.sync();
    const syncsBefore = journal.syncCount;
    for (let i = 0; i < 100; i++) coll.insert({ _id: i });
    await Promise.all(Array.from({ length: 10 }, () => journal.sync()));
    assert.equal(journal.recordCount, 101);
    assert.equal(journal.syncCount - syncsBefore, 1);
    await journal.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a log cut inside its header starts empty, and a foreign file is refused", async () => {
  const dataDir = await tempDataDir();
  try {
    await Deno.writeFile(`${dataDir}/devdb.log`, new TextEncoder().encode("ZDV"));
    const catalog = new Catalog();
    const journal = await openJournal(dataDir, catalog, policy);
    assert.equal(journal.recordCount, 0);
    await journal.close();
    assert.equal((await Deno.stat(`${dataDir}/devdb.log`)).size, 8);

    await Deno.writeFile(`${dataDir}/devdb.log`, new TextEncoder().encode("not a devdb log at all"));
    await assert.rejects(openJournal(dataDir, new Catalog(), policy), /is not a devdb log/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
