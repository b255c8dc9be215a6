/**
 * The devdb benchmark's markdown table and the machine description above it.
 *
 * @module
 */

/** One measured cell. */
export interface Result {
  storage: "memory" | "dataDir";
  operation: string;
  clients: number;
  opsPerSecond: number;
  ratioToPing: number;
}

/** Date, CPU and runtime, from what the `bench` permission set allows. */
export async function describeMachine(): Promise<string> {
  let cpu = "CPU model unknown (/proc/cpuinfo not readable)";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpu;
  } catch {
    // The bench permission set may only read .data/.
  }
  let os = `${Deno.build.os} ${Deno.build.arch}`;
  try {
    os += ` ${Deno.osRelease()}`;
  } catch {
    // osRelease needs the sys permission.
  }
  return [
    `Measured ${
      new Date().toISOString().slice(0, 16).replace("T", " ")
    } UTC on ${navigator.hardwareConcurrency} cores, ${cpu}`,
    `${os}, Deno ${Deno.version.deno}, npm:mongodb 7.9.0; the server runs in its own process (spawnDevDb).`,
  ].join("\n");
}

/** The results as a markdown table, one row per operation, columns per storage and client count. */
export function markdownTable(results: Result[]): string {
  const columns = [...new Set(results.map((r) => `${r.storage}|${r.clients}`))];
  const operations = [...new Set(results.map((r) => r.operation))];
  const header = [
    "operation",
    ...columns.map((c) => {
      const [storage, clients] = c.split("|");
      return `${storage}, ${clients} client${clients === "1" ? "" : "s"}`;
    }),
  ];
  const rows = operations.map((operation) => [
    operation,
    ...columns.map((c) => {
      const r = results.find((x) => `${x.storage}|${x.clients}` === c && x.operation === operation);
      return r
        ? `${Math.round(r.opsPerSecond).toLocaleString("en-US")} ops/s (${r.ratioToPing.toFixed(2)}x)`
        : "";
    }),
  ]);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
