/**
 * Debian's chromium, driven by playwright-core: headless, sandbox off (containers have no user namespaces),
 * nothing fetched in the background, and a fresh profile each time. No browser is ever downloaded.
 *
 * playwright-core probes `/proc` when it loads, which Deno allows only with every permission, so it runs in
 * a Node child (`browser_driver.mjs`) that takes one command per line; the test's logic stays here.
 *
 * @module
 */
import type { Page } from "playwright-core";

/** Where Debian's chromium package puts the browser (`scripts/ensure_chromium.sh` installs it). */
export const CHROMIUM = "/usr/bin/chromium";

/** A page in a running browser, one command at a time. */
export interface BrowserPage {
  goto(url: string): Promise<number>;
  fill(selector: string, value: string): Promise<void>;
  /** Clicks `selector` and waits for the navigation it causes; resolves with the final status. */
  submit(selector: string): Promise<number>;
  text(selector: string): Promise<string | null>;
  /** Evaluates a JavaScript expression in the page. */
  evaluate<T>(expression: string): Promise<T>;
  /** Waits until `expression` is truthy in the page. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** Writes a PNG of the page (or of `selector`) and returns its size in bytes. */
  screenshot(path: string, options?: { selector?: string; fullPage?: boolean }): Promise<number>;
  setViewport(width: number, height: number): Promise<void>;
  /** Every origin the browser has requested anything from (http(s) ones; `about:` and `data:` aside). */
  origins(): Promise<string[]>;
  /** Closes the page (ending its streams) and opens a fresh one. */
  reopen(): Promise<void>;
  /** Ends the browser and its profile directory. */
  close(): Promise<void>;
}

// Keeps the type import, so `deno test` caches the package that the Node child loads.
type _Driven = Page;

/**
 * Starts chromium with a new user-data-dir under `.data/tmp/`.
 *
 * @example
 * ```ts
 * const page = await launchBrowser();
 * await page.goto(url);
 * await page.close();
 * ```
 */
export async function launchBrowser(): Promise<BrowserPage> {
  await Deno.mkdir(".data/tmp", { recursive: true });
  const profile = await Deno.makeTempDir({ dir: ".data/tmp", prefix: "chromium-" });
  const driver = new URL("./browser_driver.mjs", import.meta.url).pathname;
  const child = new Deno.Command("node", {
    args: [driver, import.meta.resolve("playwright-core"), profile],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const readLine = async (): Promise<{ id: number; ok: boolean; value?: unknown; error?: string }> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the browser driver exited");
      buffered += value;
    }
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return JSON.parse(line);
  };
  const ready = await readLine();
  if (!ready.ok) throw new Error(`the browser did not start: ${ready.error}`);
  let next = 1;
  let queue = Promise.resolve();
  const call = <T>(op: string, args: Record<string, unknown> = {}): Promise<T> => {
    const id = next++;
    const answer = queue.then(async () => {
      await writer.write(new TextEncoder().encode(JSON.stringify({ id, op, ...args }) + "\n"));
      const reply = await readLine();
      if (!reply.ok) throw new Error(`browser ${op} ${JSON.stringify(args)} failed: ${reply.error}`);
      return reply.value as T;
    });
    queue = answer.then(() => {}, () => {});
    return answer;
  };
  let closed = false;
  return {
    goto: (url) => call("goto", { url }),
    fill: (selector, value) => call("fill", { selector, value }),
    submit: (selector) => call("submit", { selector }),
    text: (selector) => call("text", { selector }),
    evaluate: (expression) => call("evaluate", { expression }),
    waitFor: (expression, timeoutMs = 20_000) => call("waitFor", { expression, timeoutMs }),
    screenshot: (path, options = {}) => call("screenshot", { path, ...options }),
    setViewport: (width, height) => call("setViewport", { width, height }),
    origins: async () => (await call<string[]>("origins")).filter((origin) => origin.startsWith("http")),
    reopen: () => call("reopen"),
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      try {
        await writer.write(new TextEncoder().encode(JSON.stringify({ id: 0, op: "close" }) + "\n"));
        await writer.close();
      } catch {
        // The driver is gone already.
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.status;
      clearTimeout(timer);
      await lines.cancel().catch(() => {});
      await Deno.remove(profile, { recursive: true });
    },
  };
}

/** Logs in to `/dashboard` with `token` and waits for the first live samples; resolves with the login status. */
export async function openDashboard(page: BrowserPage, baseUrl: string, token: string): Promise<number> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill("#token", token);
  const status = await page.submit("button[type=submit]");
  if (status === 200) await page.waitFor("globalThis.zienDashboard?.samples >= 2");
  return status;
}

/**
 * Keeps `concurrency` requests that each hold a connection in flight until `stop()` is called (a bounded
 * load: it ends after `maxMs` on its own).
 */
export function holdConnections(
  request: () => Promise<unknown>,
  concurrency: number,
  maxMs = 60_000,
): { stop(): Promise<void> } {
  let running = true;
  const until = Date.now() + maxMs;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running && Date.now() < until) await request().catch(() => {});
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
