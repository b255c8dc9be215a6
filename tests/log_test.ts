import assert from "node:assert/strict";

// The sink gathers info lines until the next turn of the event loop; a process that exits right after
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

Deno.test("a warning is written at once, after the info lines gathered before it", async () => {
  // The child logs, then blocks its event loop (no timer can run) while the parent reads what arrived.
  const program = `
    import { getLogger, setupLogging } from "./src/log.ts";
    await setupLogging({ level: "info", format: "json" });
    const log = getLogger(["test"]);
    log.info("gathered");
    log.warn("at once");
    while (true) { /* busy for good: no timer runs and no exit comes, so only a synchronous write can arrive */ }
  `;
  const child = new Deno.Command("deno", {
    args: ["eval", "--quiet", program],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = AbortSignal.timeout(20_000);
    while (text.split("\n").length < 3 && !deadline.aborted) {
      const timedOut = new Promise<never>((_, reject) =>
        deadline.addEventListener("abort", () => reject(new Error(`only got ${JSON.stringify(text)}`)))
      );
      const { value, done } = await Promise.race([reader.read(), timedOut]);
      if (done) break;
      text += value;
    }
    reader.releaseLock();
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.level, l.message]), [["INFO", "gathered"], ["WARNING", "at once"]]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});
