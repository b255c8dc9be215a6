/**
 * The calls benchmark of issue 5: claims per second and calls completed end to end per second with 1, 2 and
 * 3 instances; the call-window tick's duration with 1,000 and 10,000 people; the server-side connection peak
 * all the while, against the pool caps. One devdb in its own process, real `src/main.ts` instances, the
 * simulated provider. Prints markdown (with date and machine) to stdout, progress to stderr.
 *
 * Usage: `deno run -P=bench scripts/bench/calls.ts [--claims 1000] [--people 300] [--ticks 1000,10000]
 * [--instances 1,2,3]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { spawnDevDb } from "../../tests/helpers/devdb_process.ts";
import { describeMachine } from "./lib/devdb_report.ts";
import {
  benchContext,
  type ClaimsResult,
  type EndToEndResult,
  measureClaims,
  measureEndToEnd,
  measureWindowTick,
  type WindowTickResult,
} from "./lib/calls_measure.ts";
import { instancesTable, notes, windowTickTable } from "./lib/calls_report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    claims: { type: "string", default: "1000" },
    people: { type: "string", default: "300" },
    ticks: { type: "string", default: "1000,10000" },
    instances: { type: "string", default: "1,2,3" },
  },
});
const list = (text: string) => text.split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0);

const devdb = await spawnDevDb();
const context = benchContext(devdb.url);
const claims: ClaimsResult[] = [];
const endToEnd: EndToEndResult[] = [];
const ticks: WindowTickResult[] = [];
try {
  for (const instances of list(values.instances)) {
    const c = await measureClaims(context, instances, Number(values.claims));
    console.error(
      `claims, ${instances} instance(s): ${c.perSecond.toFixed(0)}/s, peak ${c.connections.peak}`,
    );
    claims.push(c);
    const e = await measureEndToEnd(context, instances, Number(values.people));
    console.error(
      `end to end, ${instances} instance(s): ${e.perSecond.toFixed(1)}/s, peak ${e.connections.peak}`,
    );
    endToEnd.push(e);
  }
  for (const people of list(values.ticks)) {
    const t = await measureWindowTick(context, people);
    console.error(`window tick, ${people} people: ${t.firstTickMs} ms then ${t.steadyTickMs} ms`);
    ticks.push(t);
  }
} finally {
  await context.client.close();
  await context.sampler.close();
  await devdb.stop();
}

console.log(await describeMachine());
console.log();
console.log(instancesTable(claims, endToEnd));
console.log();
console.log(windowTickTable(ticks));
console.log();
console.log(notes());
