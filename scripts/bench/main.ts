/**
 * `deno task bench [name ...]`: runs the benchmarks one after another, each in its own process, and prints
 * their tables. With no names it runs them all; `deno task bench devdb runtime` runs two.
 *
 * @module
 */

const BENCHES = [
  "devdb",
  "monitoring",
  "runtime",
  "profile",
  "entries",
  "calls",
  "batching",
  "stats_cache",
  "elections",
] as const;

const wanted = Deno.args.length > 0 ? Deno.args : [...BENCHES];
const unknown = wanted.filter((name) => !(BENCHES as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${BENCHES.join(", ")}`);
  Deno.exit(2);
}

let failed = 0;
for (const name of wanted) {
  console.log(`\n## ${name}\n`);
  const { code } = await new Deno.Command("deno", {
    args: ["run", "-P=bench", "--quiet", `scripts/bench/${name}.ts`],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (code !== 0) {
    failed++;
    console.error(`benchmark ${name} exited with ${code}`);
  }
}
Deno.exit(failed === 0 ? 0 : 1);
