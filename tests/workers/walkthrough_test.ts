/**
 * The README's walkthrough, as written: its API section's commands (ada registers and journals by text) and
 * then its phone section's (a second person with a window open now), read from README.md and run against the
 * real server. The simulated call arrives and leaves a journal entry, with log lines that tell the story, and
 * the window tick says why it called whom it did not.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, type ServerProcess, spawnServer } from "../helpers/server_process.ts";
import { waitFor } from "../helpers/wait.ts";

/** The `sh` blocks of one README section that run `curl`. */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no section ${heading}`);
  const end = readme.indexOf("\n## ", start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes("curl "));
}

/**
 * Runs the subset of sh the walkthrough uses: `NAME=word`, `NAME=$(curl … | sed -E 's/re/\1/')` and
 * `curl -s URL [-H header]… [-d body]`, with `$NAME` and `$(date -u +%F)` expanded outside single quotes.
 * Written by hand: running the blocks with bash and curl would need both in the test's permissions.
 */
class Walkthrough {
  readonly vars = new Map<string, string>();
  readonly responses: { path: string; status: number; body: string }[] = [];

  constructor(readonly apiUrl: string) {}

  async run(script: string): Promise<void> {
    for (const line of script.replace(/\\\n\s*/g, " ").split("\n")) {
      const command = stripComment(line).trim();
      if (command === "") continue;
      const captured = /^(\w+)=\$\((.*)\)$/.exec(command);
      const assignment = /^(\w+)=(.*)$/.exec(command);
      if (captured) {
        const [curl, sed] = captured[2].split(/\s\|\s*sed -E\s/);
        const body = await this.#curl(curl);
        const [, pattern] = /^'s\/(.*)\/\\1\/'$/.exec(sed.trim()) ?? [];
        assert.ok(pattern, `cannot read the sed of: ${command}`);
        this.vars.set(captured[1], body.replace(new RegExp(pattern), "$1"));
      } else if (assignment) {
        this.vars.set(
          assignment[1],
          assignment[1] === "API" ? this.apiUrl : this.#words(assignment[2]).join(" "),
        );
      } else if (command.startsWith("curl ")) {
        await this.#curl(command);
      } else {
        assert.fail(`the walkthrough runs something this test cannot: ${command}`);
      }
    }
  }

  async #curl(command: string): Promise<string> {
    const words = this.#words(command);
    const url = words.find((w) => w.startsWith("http"))!;
    const headers = new Headers();
    let body: string | undefined;
    for (let i = 0; i < words.length; i++) {
      if (words[i] === "-H") {
        const [name, ...value] = words[++i].split(":");
        headers.set(name.trim(), value.join(":").trim());
      } else if (words[i] === "-d") body = words[++i];
    }
    const response = await fetch(url, { method: body === undefined ? "GET" : "POST", headers, body });
    const text = await response.text();
    this.responses.push({ path: new URL(url).pathname, status: response.status, body: text });
    return text;
  }

  /** Splits into words, expanding outside single quotes. */
  #words(text: string): string[] {
    const words: string[] = [];
    let word: string | undefined;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (/\s/.test(c)) {
        if (word !== undefined) words.push(word);
        word = undefined;
      } else if (c === "'") {
        const close = text.indexOf("'", i + 1);
        word = (word ?? "") + text.slice(i + 1, close);
        i = close;
      } else if (c === '"') {
        let j = i + 1;
        let quoted = "";
        for (; text[j] !== '"'; j++) quoted += text[j] === "\\" ? text[++j] : text[j];
        word = (word ?? "") + this.#expand(quoted);
        i = j;
      } else {
        const rest = /^[^\s'"]+/.exec(text.slice(i))![0];
        word = (word ?? "") + this.#expand(rest);
        i += rest.length - 1;
      }
    }
    if (word !== undefined) words.push(word);
    return words;
  }

  #expand(text: string): string {
    return text.replaceAll("$(date -u +%F)", new Date().toISOString().slice(0, 10))
      .replace(/\$(\w+)/g, (_, name) => this.vars.get(name) ?? "");
  }
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    if (quote !== undefined) {
      if (line[i] === quote) quote = undefined;
    } else if (line[i] === "'" || line[i] === '"') quote = line[i];
    else if (line[i] === "#" && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

async function entriesOf(
  server: ServerProcess,
  token: string,
): Promise<{ mode: string; responses: unknown[] }[]> {
  const response = await fetch(`${server.baseUrl}/api/JournalEntry/_getEntries`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ limit: 5 }),
  });
  return await response.json();
}

Deno.test("the README walkthrough as written: ada journals by text, the second person's call comes and leaves an entry", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, CALL_WINDOW_INTERVAL_MS: "300", CALL_SCHEDULER_INTERVAL_MS: "200" },
  });
  try {
    // One shell for both sections, as a reader who follows the README in one terminal has.
    const shell = new Walkthrough(`${server.baseUrl}/api`);
    for (const block of shellBlocks(readme, "## The API, step by step")) await shell.run(block);
    const refused = shell.responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.path}`);
    assert.deepEqual(
      refused,
      ["409 /api/CallWindow/addRecurringWindow"],
      "only the overlap the README shows",
    );
    const ada = shell.vars.get("TOKEN")!;
    assert.equal((await entriesOf(server, ada)).length, 1, "ada's text reflection is her entry for today");

    const before = shell.responses.length;
    for (const block of shellBlocks(readme, "## A phone reflection, simulated")) await shell.run(block);
    const phone = shell.responses.slice(before);
    assert.ok(phone.length > 0 && phone.every((r) => r.status === 200), JSON.stringify(phone));
    const token = shell.vars.get("TOKEN")!;
    let entries: { mode: string; responses: unknown[] }[] = [];
    await waitFor(async () => (entries = await entriesOf(server, token)).some((e) => e.mode === "phone"), {
      what: "the journal entry of the call",
      timeoutMs: 15_000,
      intervalMs: 100,
    });
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
    // Once the call is made, the next ticks say why nobody is called again.
    await waitFor(
      () =>
        server.logs().some((l) =>
          /^call-window tick: 1 open window\(s\), 0 due, 0 call\(s\) scheduled .*skipped: [1-9]\d* with an entry today/
            .test(l.message)
        ),
      { what: "a tick that skips the person for their entry today" },
    );
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
