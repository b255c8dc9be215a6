/**
 * `deno task connections` against a real server: its tables parsed back into figures, `--watch` redrawing,
 * and the one-line errors for a wrong token and an unreachable server.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { appConnections, freePort } from "../helpers/runtime.ts";
import { readEntries, signUp } from "../helpers/api.ts";

const ADMIN_TOKEN = "connections-admin-token-for-tests";

function connections(args: string[], token = ADMIN_TOKEN): Deno.Command {
  return new Deno.Command("deno", {
    args: ["run", "-P=connections", "--quiet", "scripts/connections.ts", ...args],
    env: { ADMIN_TOKEN: token },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
}

/** The table whose header line starts with `first`, as one record per row. */
function parseTable(output: string, first: string): Record<string, string>[] {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => line.startsWith(first));
  assert.ok(start >= 0, `no table starting with ${first} in:\n${output}`);
  const header = lines[start].split(/ {2,}/);
  const rows = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    const cells = line.split(/ {2,}/);
    rows.push(Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""])));
  }
  return rows;
}

Deno.test("deno task connections prints the pool, the server's view, workers and writers", async (t) => {
  const devdb = await startDevDb();
  const server = await spawnServer({ env: { MONGODB_URL: devdb.url, ADMIN_TOKEN, DB_MAX_POOL_SIZE: "7" } });
  try {
    const token = await signUp(server.baseUrl, "connections-cli");
    await Promise.all(Array.from({ length: 10 }, () => readEntries(server.baseUrl, token)));

    await t.step("one report, parsed back", async () => {
      const { code, stdout, stderr } = await connections(["--url", server.baseUrl]).output();
      const output = new TextDecoder().decode(stdout);
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const [pool] = parseTable(output, "in use");
      assert.equal(pool.max, "7");
      assert.ok(Number(pool["in use"]) + Number(pool.idle) <= 7, output);
      assert.match(pool["wait p99"], /^\d+(\.\d+)? ms$/);
      assert.equal(pool.timeouts, "0");
      const view = parseTable(output, "server view");
      const ours = view.find((row) => row["server view"] === "this instance");
      assert.equal(Number(ours?.connections), appConnections(devdb, server.pid), output);
      assert.deepEqual(parseTable(output, "worker").map((row) => row.worker), [
        "call-window",
        "call-scheduler",
      ]);
      assert.deepEqual(parseTable(output, "batch writer").map((row) => row["batch writer"]).sort(), [
        "analytics_events",
        "call_events",
        "usage_events",
      ]);
      assert.match(output, /Warnings:\n {2}none/);
    });

    await t.step("--watch redraws in place", async () => {
      const child = connections(["--url", server.baseUrl, "--watch", "--interval", "0.2"]).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      try {
        while (text.split("\x1b[H\x1b[2J").length < 4) text += (await reader.read()).value ?? "";
      } finally {
        child.kill("SIGTERM");
        await reader.cancel();
        await child.stderr.cancel();
        await child.status;
      }
      const screens = text.split("\x1b[H\x1b[2J").filter(Boolean);
      assert.ok(screens.length >= 3);
      for (const screen of screens.slice(0, 2)) assert.equal(parseTable(screen, "in use")[0].max, "7");
    });

    await t.step("a wrong token and an unreachable URL are one clear line each", async () => {
      const wrong = await connections(["--url", server.baseUrl], "not-the-token").output();
      assert.equal(wrong.code, 1);
      assert.match(new TextDecoder().decode(wrong.stderr), /refused ADMIN_TOKEN \(401\)/);
      const away = `http://127.0.0.1:${freePort()}`;
      const unreachable = await connections(["--url", away]).output();
      assert.equal(unreachable.code, 1);
      assert.match(new TextDecoder().decode(unreachable.stderr), new RegExp(`cannot reach ${away}`));
      const missing = await new Deno.Command("deno", {
        args: ["run", "-P=connections", "--quiet", "scripts/connections.ts"],
        env: { ADMIN_TOKEN: "" },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(missing.code, 2);
      assert.match(new TextDecoder().decode(missing.stderr), /ADMIN_TOKEN is not set/);
    });

    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
