/**
 * The walkthrough a new user follows, over HTTP against the real server: register, set a profile and a window
 * open now, and the simulated call arrives and leaves a journal entry, with log lines that tell the story.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { callAction, signUp } from "../helpers/api.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { waitFor } from "../helpers/wait.ts";
import { zoneInsideItsDay } from "./seed.ts";

Deno.test("register, set a profile and a window open now: the call comes and the entry appears", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, CALL_WINDOW_INTERVAL_MS: "300", CALL_SCHEDULER_INTERVAL_MS: "200" },
  });
  try {
    const token = await signUp(server.baseUrl, "ada");
    const { timezone, date } = zoneInsideItsDay();
    const profile = await callAction(server.baseUrl, "Profile/setProfile", {
      phoneNumber: "+31612345678",
      displayName: "Ada",
      timezone,
    }, token);
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    const window = await callAction(server.baseUrl, "CallWindow/addOneOffWindow", {
      date,
      start: "00:00",
      end: "24:00",
    }, token);
    assert.equal(window.status, 200, JSON.stringify(window.body));
    let entries: { responses: unknown[] }[] = [];
    await waitFor(async () => {
      entries = (await callAction(server.baseUrl, "JournalEntry/_getEntries", { limit: 5 }, token))
        .body as [];
      return entries.length > 0;
    }, { what: "the journal entry", timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(entries.length, 1);
    assert.equal(entries[0].responses.length, 2);
    const story = [
      /^window \S+ open for user \S+ .*: call (\S+) scheduled/,
      /^call (\S+) placed \(attempt 1\)/,
      /^call (\S+) ringing/,
      /^call (\S+) answered/,
      /^call (\S+): transcript for prompt/,
      /^call (\S+) completed on attempt 1/,
      /^journal entry \S+ created for call (\S+)/,
    ];
    const messages = server.logs().map((l) => l.message);
    let from = 0;
    const callIds = new Set<string>();
    for (const step of story) {
      const at = messages.findIndex((m, i) => i >= from && step.test(m));
      assert.ok(at >= 0, `no ${step} after line ${from}:\n${dump(server)}`);
      callIds.add(step.exec(messages[at])![1].replace(/:$/, ""));
      from = at + 1;
    }
    assert.equal(callIds.size, 1, `every line names the same call: ${[...callIds]}`);
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
