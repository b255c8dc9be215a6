// Runs under Node (playwright-core cannot load under Deno's scoped permissions: it probes /proc at import).
// Reads one JSON request per stdin line, answers one JSON line on stdout: { id, ok, value | error }.
// argv: <playwright-core entry file URL> <user-data-dir>
import { createInterface } from "node:readline";

const [entry, profile] = process.argv.slice(2);
const { chromium } = await import(entry);

const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  // The page forbids eval by its CSP; the test evaluates expressions in it.
  bypassCSP: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
let page = context.pages()[0] ?? await context.newPage();
// Every origin a page asked for, so a test can show nothing came from a CDN.
const origins = new Set();
context.on("request", (request) => origins.add(new URL(request.url()).origin));

const ops = {
  async goto({ url }) {
    const response = await page.goto(url);
    return response?.status() ?? 0;
  },
  fill: ({ selector, value }) => page.fill(selector, value),
  async submit({ selector }) {
    const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
    return response?.status() ?? 0;
  },
  text: ({ selector }) => page.textContent(selector),
  evaluate: ({ expression }) => page.evaluate(expression),
  async waitFor({ expression, timeoutMs }) {
    await page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 100 });
    return true;
  },
  async screenshot({ path, selector, fullPage }) {
    const target = selector ? page.locator(selector) : page;
    const bytes = await target.screenshot({ path, fullPage });
    return bytes.length;
  },
  origins: () => [...origins].filter((origin) => origin !== "null"),
  setViewport: ({ width, height }) => page.setViewportSize({ width, height }),
  async reopen() {
    await page.close();
    page = await context.newPage();
    return true;
  },
  async closePage() {
    await page.close();
    return true;
  },
};

const lines = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ id: 0, ok: true, value: "ready" }) + "\n");
for await (const line of lines) {
  const { id, op, ...args } = JSON.parse(line);
  if (op === "close") break;
  try {
    const value = await ops[op](args);
    process.stdout.write(JSON.stringify({ id, ok: true, value: value ?? null }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, ok: false, error: String(error?.message ?? error) }) + "\n");
  }
}
await context.close();
process.exit(0);
