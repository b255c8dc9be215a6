/**
 * `deno task connections [--url URL] [--watch] [--interval SECONDS]`: the dashboard's figures as tables in
 * the terminal, for a server with no browser. Reads the admin report (`GET /api/health/connections`) over
 * HTTP with `ADMIN_TOKEN` from the environment; `--watch` redraws it like top until Ctrl-C.
 *
 * Exit codes: 0 shown, 1 refused or unreachable, 2 bad usage (no ADMIN_TOKEN, bad flag).
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Rows of cells under a header, columns padded and separated by two spaces. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

// deno-lint-ignore no-explicit-any -- the report is JSON whose sections each module shapes
type Json = any;

const ms = (value: number | null | undefined) => value === null || value === undefined ? "-" : `${value} ms`;
const ago = (at: number | null, now: number) =>
  at === null ? "never" : `${Math.round((now - at) / 1000)} s ago`;

function serverRows(view: Json): (string | number)[][] {
  if (!view) return [["(not read yet)", "-", "-", ""]];
  const rows: (string | number)[][] = [];
  const groups = (byApp: Json, where: string) => {
    if (!byApp?.available) return void rows.push([where || "all", "unavailable", "-", byApp?.reason ?? ""]);
    for (
      const [key, label] of [["thisInstance", "this instance"], ["otherInstances", "other instances"], [
        "otherClients",
        "other clients",
      ]]
    ) {
      const group = byApp[key];
      const names = Object.entries(group.appNames).map(([name, n]) => `${name || "(none)"}:${n}`).join(" ");
      rows.push([where ? `${where} ${label}` : label, group.connections, group.active, names]);
    }
  };
  if (Array.isArray(view.members)) {
    for (const member of view.members) {
      groups(member.byApp, member.address);
    }
  } else groups(view.byApp, "");
  return rows;
}

/** The report as the terminal shows it. */
export function formatReport(report: Json, url: string, now = Date.now()): string {
  const { pool, server, budget, workers = [], batchWriters = [], stats, commands } = report.stats;
  const lookups = stats ? stats.hits + stats.misses : 0;
  const parts = [
    `zien connections at ${url} (${report.timestamp})`,
    "",
    formatTable(["in use", "idle", "pending", "max", "wait p50", "wait p99", "timeouts", "utilization"], [[
      pool.inUse,
      pool.idle,
      pool.waiting,
      pool.maxPoolSize,
      ms(pool.checkoutWaitMs.p50),
      ms(pool.checkoutWaitMs.p99),
      pool.checkoutFailures.timeout,
      `${Math.round(pool.utilization * 100)}%`,
    ]]),
    "",
    `Budget: ${budget.perInstance} per instance, worst case ${budget.worstCase}, DB_CONNECTION_LIMIT ` +
    `${budget.connectionLimit ?? "not set"} (${budget.status})`,
    formatTable(["server view", "connections", "active", "appNames"], serverRows(server)),
    "",
    "Warnings:",
    ...(report.warnings.length === 0
      ? ["  none"]
      : report.warnings.map((w: Json) => `  ${w.level} ${w.kind}: ${w.message}`)),
    "",
    formatTable(
      ["worker", "last tick", "duration", "ticks", "failures", "leases"],
      workers.map((w: Json) => [
        w.name,
        ago(w.lastTickAt, now),
        ms(w.lastDurationMs),
        w.ticks,
        w.failures,
        w.leasesHeld ?? "-",
      ]),
    ),
    "",
    formatTable(
      ["batch writer", "buffered", "flushed", "retries", "spilled"],
      batchWriters.map((b: Json) => [b.name, b.buffered, b.flushed, b.retries, b.spilled]),
    ),
    "",
    `Stats cache: ${lookups > 0 ? `${Math.round((stats.hits / lookups) * 100)}%` : "-"} hits ` +
    `(${stats?.hits ?? 0} hits, ${stats?.misses ?? 0} misses)`,
  ];
  if (commands?.enabled) {
    parts.push(
      "",
      formatTable(
        ["collection", "command", "count", "p99"],
        commands.slowest.map((c: Json) => [c.collection, c.command, c.count, ms(c.p99Ms)]),
      ),
    );
  }
  return parts.join("\n");
}

/** A refusal or an unreachable server, said in one line. */
class FetchError extends Error {}

async function fetchReport(url: string, token: string): Promise<Json> {
  let response: Response;
  try {
    response = await fetch(new URL("/api/health/connections", url), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new FetchError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (response.status === 401) {
    await response.body?.cancel();
    throw new FetchError(`${url} refused ADMIN_TOKEN (401): it is not this server's admin token`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new FetchError(`${url} answered ${response.status} for the admin report`);
  }
  return await response.json();
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: Deno.args,
      options: {
        url: { type: "string" },
        watch: { type: "boolean", default: false },
        interval: { type: "string", default: "2" },
      },
    }).values;
  } catch (err) {
    console.error(`connections: ${(err as Error).message}`);
    return 2;
  }
  const token = Deno.env.get("ADMIN_TOKEN");
  if (!token) {
    console.error("connections: ADMIN_TOKEN is not set; export the server's admin token and run again");
    return 2;
  }
  const url = args.url ?? `http://127.0.0.1:${Deno.env.get("PORT") ?? "8000"}`;
  const intervalMs = Number(args.interval) * 1000;
  if (!(intervalMs >= 100)) {
    console.error(`connections: --interval ${args.interval} is not a number of seconds (at least 0.1)`);
    return 2;
  }
  if (!args.watch) {
    try {
      console.log(formatReport(await fetchReport(url, token), url));
      return 0;
    } catch (err) {
      if (!(err instanceof FetchError)) throw err;
      console.error(`connections: ${err.message}`);
      return 1;
    }
  }
  for (;;) {
    let screen: string;
    try {
      screen = formatReport(await fetchReport(url, token), url);
    } catch (err) {
      if (!(err instanceof FetchError)) throw err;
      screen = `connections: ${err.message} (retrying every ${args.interval} s)`;
    }
    // Home and clear, then the screen: a redraw in place, like top.
    await Deno.stdout.write(new TextEncoder().encode(`\x1b[H\x1b[2J${screen}\n`));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

if (import.meta.main) Deno.exit(await main());
