import assert from "node:assert/strict";

// The sink gathers lines until the end of the microtask checkpoint; a process that exits right after
// logging (as a fatal start-up error does) must still have written every line, in order.
Deno.test("lines logged just before Deno.exit() are all written, in order", async () => {
  const program = `
    import { getLogger, setupLogging } from "./src/log.ts";
    await setupLogging({ level: "info", format: "json" });
    const log = getLogger(["test"]);
    for (let i = 0; i < 3; i++) log.info("line {i}", { i });
    log.fatal("last words");
    Deno.exit(7);
  `;
  const output = await new Deno.Command("deno", {
    args: ["eval", "--quiet", program],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 7, new TextDecoder().decode(output.stderr));
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.message), ["line 0", "line 1", "line 2", "last words"]);
});
