/**
 * Makes `docs/dashboard.png`, the README's picture of the dashboard, by the same code path as its browser
 * test: the real server against a devdb, Debian's chromium logged in with the admin token, under a little
 * load so the charts have something to show.
 *
 * Usage: `deno task dashboard:screenshot [--out docs/dashboard.png]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startDevDb } from "../src/devdb/mod.ts";
import { spawnServer } from "../tests/helpers/server_process.ts";
import { readEntries, signUp } from "../tests/helpers/api.ts";
import { holdConnections, launchBrowser, openDashboard } from "../tests/helpers/browser.ts";

const { values: args } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
const out = args.out ?? "docs/dashboard.png";
const token = crypto.randomUUID();

const devdb = await startDevDb();
const server = await spawnServer({
  env: {
    MONGODB_URL: devdb.url,
    ADMIN_TOKEN: token,
    DB_MAX_POOL_SIZE: "10",
    DB_MONITOR_COMMANDS: "true",
    DB_WARN_SUSTAIN_MS: "3000",
  },
});
const page = await launchBrowser();
try {
  const status = await openDashboard(page, server.baseUrl, token);
  if (status !== 200) throw new Error(`login answered ${status}`);
  const person = await signUp(server.baseUrl, "screenshot");
  devdb.setLatency(150);
  const load = holdConnections(() => readEntries(server.baseUrl, person), 12, 30_000);
  await page.waitFor("globalThis.zienDashboard.samples >= 12");
  await page.waitFor("document.querySelector('#warnings-active li.warning, #warnings-active li.critical')");
  const size = await page.screenshot(out, { fullPage: true });
  devdb.setLatency(0);
  await load.stop();
  console.log(`wrote ${out} (${size} bytes)`);
} finally {
  await page.close();
  server.signal("SIGTERM");
  await server.exited;
  await devdb.stop();
}
