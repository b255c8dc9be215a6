/**
 * The calls benchmark's markdown: claims and end-to-end calls per second by instance count, the window tick
 * by people, and the server-side connection peak of each against the pool caps.
 *
 * @module
 */
import type { ClaimsResult, EndToEndResult, WindowTickResult } from "./calls_measure.ts";
import { APP_MAX_POOL_SIZE, MONITORING_CONNECTIONS } from "./runtime_report.ts";

const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const rate = (n: number) => Math.round(n).toLocaleString("en-US");
const cap = (instances: number) => instances * (APP_MAX_POOL_SIZE + MONITORING_CONNECTIONS);
const peak = (p: number, instances: number) =>
  `${p} / ${cap(instances)}${p <= cap(instances) ? "" : " **over**"}`;

/** Claims and end-to-end calls per second with 1, 2 and 3 instances. */
export function instancesTable(claims: ClaimsResult[], endToEnd: EndToEndResult[]): string {
  const rows = claims.map((c) => {
    const e = endToEnd.find((x) => x.instances === c.instances);
    return line([
      c.instances,
      `${rate(c.perSecond)} (${c.calls} in ${c.seconds.toFixed(2)} s)`,
      peak(c.connections.peak, c.instances),
      e ? `${e.perSecond.toFixed(1)} (${e.people} in ${e.seconds.toFixed(1)} s)` : "",
      e ? peak(e.connections.peak, e.instances) : "",
    ]);
  });
  return [
    line([
      "instances",
      "claims/s (claimed and placed)",
      "connection peak / cap",
      "calls/s end to end (window -> entry)",
      "connection peak / cap",
    ]),
    line(["---", "---", "---", "---", "---"]),
    ...rows,
  ].join("\n");
}

/** The window tick's duration by people. */
export function windowTickTable(ticks: WindowTickResult[]): string {
  return [
    line([
      "people with a window open",
      "first tick (all due)",
      "per person",
      "next tick (none due)",
      "its reads",
      "connection peak / cap",
    ]),
    line(["---", "---", "---", "---", "---", "---"]),
    ...ticks.map((t) =>
      line([
        rate(t.people),
        `${rate(t.firstTickMs)} ms`,
        `${(t.firstTickMs / t.people).toFixed(2)} ms`,
        `${rate(t.steadyTickMs)} ms`,
        t.steadyTickReads,
        peak(t.connections.peak, 1),
      ])
    ),
  ].join("\n");
}

/** What the figures mean, below the tables. */
export function notes(): string {
  return [
    `Caps: each instance's pool (DB_MAX_POOL_SIZE ${APP_MAX_POOL_SIZE}) plus ${MONITORING_CONNECTIONS} monitoring ` +
    "connections, counted server-side (the devdb's currentOp, by appName) every ~100 ms.",
    "Claims: PENDING calls all due at one instant once every instance is up; the time runs to the last " +
    "placement (CALL_CONCURRENCY 4 per instance; the simulated phone rings on, so only the initiated and " +
    "ringing callbacks land meanwhile).",
    "End to end: the people's windows are open; from the first instance ready to the last journal entry, each " +
    "call through the simulated provider's callbacks over HTTP (20 ms ring, two prompts).",
    "Window tick: one instance, the scheduler idle; the first tick claims each occurrence and starts a " +
    "reflection and a call for everyone, the next only reads (pages of 500 open windows, 6 bulk queries a page).",
    "Reads: find and getMore commands of the next tick, a fixed number per page of 500 open windows. The devdb " +
    "answers them from the indexes as MongoDB does (compound prefixes, `$in` on a first field, partial indexes " +
    "the filter implies), so the tick grows with the pages' results, not with people x pages.",
    "Every instance and the bench share the machine with the devdb (a single-threaded, in-memory server), so " +
    "the figures are the database's ceiling on this machine rather than the app's.",
  ].join("\n");
}
