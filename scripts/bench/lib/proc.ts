/**
 * A server process's CPU time and memory, read from its own `/metrics` (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`): Deno lets no process read another's `/proc/<pid>` without `-A`.
 *
 * @module
 */

/** One instance's figures at one scrape. */
export interface ProcessFigures {
  /** User plus system CPU time so far, in microseconds. */
  cpuMicros: number;
  rssBytes: number;
}

function figure(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (!match) throw new Error(`/metrics has no ${name}`);
  return Number(match[1]);
}

/**
 * Scrapes `baseUrl/metrics` until `instances` different processes have answered (instances sharing one
 * port through SO_REUSEPORT: each fresh connection lands on one of them) and returns their figures.
 */
export async function scrapeInstances(baseUrl: string, instances: number): Promise<ProcessFigures[]> {
  const seen = new Map<number, ProcessFigures>();
  for (let attempt = 0; seen.size < instances; attempt++) {
    if (attempt >= 50 * instances) throw new Error(`only ${seen.size} of ${instances} instances answered`);
    // A client of its own per scrape, so the kernel picks an instance for a new connection every time.
    const client = Deno.createHttpClient({});
    try {
      const text = await (await fetch(`${baseUrl}/metrics`, { client })).text();
      seen.set(figure(text, "process_start_time_seconds"), {
        cpuMicros: figure(text, "process_cpu_seconds_total") * 1e6,
        rssBytes: figure(text, "process_resident_memory_bytes"),
      });
    } finally {
      client.close();
    }
  }
  return [...seen.values()];
}

/** The figures of every process of a setup, summed. */
export async function scrapeSetup(
  targets: { baseUrl: string; instances: number }[],
): Promise<ProcessFigures> {
  const all = (await Promise.all(targets.map((t) => scrapeInstances(t.baseUrl, t.instances)))).flat();
  return {
    cpuMicros: all.reduce((sum, f) => sum + f.cpuMicros, 0),
    rssBytes: all.reduce((sum, f) => sum + f.rssBytes, 0),
  };
}
