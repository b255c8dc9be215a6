/**
 * A replica-set devdb in its own process, driven over stdin: `replica_set_process.ts` starts it, so the
 * database's work does not share the test's event loop. Argument: the `DevDbOptions` as JSON. The first
 * stdout line is `{"url": ..., "members": [...]}`; then each stdin line `{"id", "op", "args"}` gets one
 * stdout line `{"id", "result"}` or `{"id", "error"}`. `stop` (or the end of stdin) stops the server and exits.
 *
 * @module
 */
import { type DevDbOptions, startDevDb } from "../../src/devdb/mod.ts";

const devdb = await startDevDb(JSON.parse(Deno.args[0] ?? "{}") as DevDbOptions);
const encoder = new TextEncoder();
const write = (value: unknown) => Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));
write({ url: devdb.url, members: devdb.members });

const operations: Record<string, (...args: number[]) => unknown> = {
  primaryIndex: () => devdb.primaryIndex(),
  stepDown: (seconds) => devdb.stepDown(seconds),
  killMember: (i) => devdb.killMember(i),
  restartMember: (i) => devdb.restartMember(i),
  memberStats: (i) => devdb.memberStats(i),
  allMemberStats: () => devdb.members.map((_, i) => devdb.memberStats(i)),
  setLatency: (ms) => devdb.setLatency(ms),
  stop: () => devdb.stop(),
};

// Each request is answered when it settles, so a stats read is not held up behind a step-down.
async function answer(line: string): Promise<void> {
  const { id, op, args } = JSON.parse(line);
  try {
    write({ id, result: (await operations[op](...(args ?? []))) ?? null });
  } catch (err) {
    write({ id, error: err instanceof Error ? err.message : String(err) });
  }
  if (op === "stop") Deno.exit(0);
}

let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    void answer(buffered.slice(0, newline));
    buffered = buffered.slice(newline + 1);
  }
}
await devdb.stop();
