/**
 * Shared pieces of the runtime tests: the server's own count of one instance's connections, and a free port.
 *
 * @module
 */
import type { DevDb } from "../../src/devdb/mod.ts";
import { APP_NAME_PREFIX } from "../../src/db/client.ts";

/** Connections the devdb has open for the app instance running as `pid` (its appName ends with the pid). */
export function appConnections(devdb: DevDb, pid: number): number {
  let total = 0;
  for (const [appName, count] of Object.entries(devdb.stats().connections.byAppName)) {
    if (appName.startsWith(APP_NAME_PREFIX) && appName.endsWith(`:${pid}`)) total += count;
  }
  return total;
}

/** Connections the devdb has open for any instance of this app. */
export function allAppConnections(devdb: DevDb): number {
  return Object.entries(devdb.stats().connections.byAppName)
    .filter(([appName]) => appName.startsWith(APP_NAME_PREFIX))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** A loopback port that was free a moment ago (for staging a database that appears later). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
