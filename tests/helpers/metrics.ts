/**
 * Reading one figure from a running server's `/metrics`, the way a scraper sees it.
 *
 * @module
 */

/**
 * The value of the sample `name` whose labels include `labels`; 0 when there is none (Prometheus counters
 * that were never incremented are often absent). `token` is the metrics bearer token, if one is set.
 *
 * @example
 * ```ts
 * await scrapeMetric(server.baseUrl, "zien_batch_batches_total", { writer: "usage_events" });
 * ```
 */
export async function scrapeMetric(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
  token?: string,
): Promise<number> {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${text}`);
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = match[2] ?? "";
    if (wanted.every((label) => given.includes(label))) return Number(match[3]);
  }
  return 0;
}
