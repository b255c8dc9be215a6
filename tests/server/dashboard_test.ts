/**
 * The pool dashboard in a real browser (Debian's chromium driven by playwright-core) against the real
 * server: login, live figures, load moving the figures and the chart, a utilization warning that starts and
 * clears, a refused token, a screenshot that is not blank; and a shutdown that does not wait on open streams.
 */
import assert from "node:assert/strict";
import { startDevDb } from "../../src/devdb/mod.ts";
import { dump, spawnServer } from "../helpers/server_process.ts";
import { readEntries, signUp } from "../helpers/api.ts";
import { holdConnections, launchBrowser, openDashboard } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait.ts";
import { LOGIN_FAILURES_PER_ADDRESS } from "../../src/server/throttle.ts";

const ADMIN_TOKEN = "dashboard-admin-token-for-tests";
const SCREENSHOT = ".data/dashboard_test.png";

async function adminReport(baseUrl: string) {
  const response = await fetch(`${baseUrl}/api/health/connections`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test("the dashboard: login, live figures, load, a warning that starts and clears", async (t) => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: {
      MONGODB_URL: devdb.url,
      ADMIN_TOKEN,
      // Large enough that one connection coming back leaves utilization at 80% (the monitor restarts the
      // sustain period whenever it dips below).
      DB_MAX_POOL_SIZE: "10",
      DB_MIN_POOL_SIZE: "0",
      DB_WARN_SUSTAIN_MS: "1000",
      DB_WAIT_QUEUE_TIMEOUT_MS: "20000",
      DB_MONITOR_COMMANDS: "true",
    },
  });
  const page = await launchBrowser();
  try {
    await t.step("a wrong token is refused, and the stream needs a session", async () => {
      assert.equal(await openDashboard(page, server.baseUrl, "not-the-token"), 401);
      assert.match((await page.text("#login-error")) ?? "", /not the admin token/);
      const stream = await fetch(`${server.baseUrl}/dashboard/stream`);
      assert.equal(stream.status, 401);
      await stream.body?.cancel();
    });

    await t.step("the token logs in and the live figures show", async () => {
      assert.equal(await openDashboard(page, server.baseUrl, ADMIN_TOKEN), 200);
      assert.equal(await page.text("#max"), "10");
      assert.match((await page.text("#status")) ?? "", /^live/);
      assert.match((await page.text("#server-table")) ?? "", /this instance/);
      assert.match((await page.text("#workers-table")) ?? "", /call-scheduler/);
      // Nobody to call: the call-scheduler holds 0 leases; the call-window worker takes none ("–").
      const leases = await page.evaluate<Record<string, string>>(
        "Object.fromEntries([...document.querySelectorAll('#workers-table tbody tr')]" +
          ".map((r) => [r.cells[0].textContent, r.cells[5].textContent]))",
      );
      assert.deepEqual(leases, { "call-window": "–", "call-scheduler": "0" });
      const workers = (await adminReport(server.baseUrl)).stats.workers;
      assert.equal(workers.find((w: { name: string }) => w.name === "call-scheduler").leasesHeld, 0);
      assert.match((await page.text("#writers-table")) ?? "", /usage_events/);
      assert.equal((await adminReport(server.baseUrl)).stats.dashboard.openStreams, 1);
    });

    await t.step(
      "load moves the in-use figure and the chart; the warning starts and then clears",
      async () => {
        const token = await signUp(server.baseUrl, "dashboard-load");
        const before = await page.evaluate<number>(
          "Math.max(0, ...globalThis.zienDashboard.poolChart.data[1])",
        );
        assert.equal(before, 0);
        devdb.setLatency(300);
        const load = holdConnections(() => readEntries(server.baseUrl, token), 16);
        try {
          await page.waitFor("Number(document.getElementById('in-use').textContent) >= 8");
          await page.waitFor("Math.max(...globalThis.zienDashboard.poolChart.data[1]) >= 8");
          await page.waitFor("document.querySelector('#warnings-active li.critical') !== null");
          assert.match((await page.text("#warnings-active")) ?? "", /at or above 80%/);
          assert.match((await page.text("#warnings-log")) ?? "", /started: critical utilization/);
          await page.waitFor("Number(document.getElementById('pending').textContent) > 0");
        } finally {
          devdb.setLatency(0);
          await load.stop();
        }
        await page.waitFor("document.querySelector('#warnings-active li.none') !== null");
        assert.match((await page.text("#warnings-log")) ?? "", /cleared: critical utilization/);
        assert.equal(await page.text("#in-use"), "0");
        await page.waitFor(
          "document.getElementById('commands-table').textContent.includes('JournalEntry.entries')",
        );
      },
    );

    await t.step("a screenshot under .data/ that is not blank", async () => {
      const size = await page.screenshot(SCREENSHOT, { fullPage: true });
      const png = await Deno.readFile(SCREENSHOT);
      assert.equal(png.length, size);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      await page.reopen();
      await page.goto("about:blank");
      const blank = await page.screenshot(".data/tmp/blank_test.png");
      assert.ok(size > 5 * blank, `dashboard ${size} bytes, blank page ${blank} bytes`);
    });

    await t.step("on a phone-sized screen nothing is wider than the screen", async () => {
      await page.reopen();
      await page.setViewport(390, 844);
      // The session cookie from the login above still holds.
      assert.equal(await page.goto(`${server.baseUrl}/dashboard`), 200);
      await page.waitFor("globalThis.zienDashboard?.samples >= 2");
      const widths = await page.evaluate<{ page: number; chart: number }>(
        "({ page: document.documentElement.scrollWidth, chart: document.querySelector('#pool-chart canvas').clientWidth })",
      );
      assert.ok(widths.page <= 390, `the page is ${widths.page} px wide on a 390 px screen`);
      assert.ok(widths.chart > 200 && widths.chart <= 390, `the chart is ${widths.chart} px wide`);
      await page.screenshot(".data/dashboard_phone_test.png", { fullPage: true });
      await page.reopen();
    });

    await t.step("closing the page ends its stream", async () => {
      await waitFor(async () => (await adminReport(server.baseUrl)).stats.dashboard.openStreams === 0, {
        what: "the dashboard stream to end after the page closed",
      });
    });

    await t.step("the API reference at /docs renders the document, from this server only", async () => {
      assert.equal(await page.goto(`${server.baseUrl}/docs`), 200);
      await page.waitFor("document.body.innerText.includes('/api/UserAuth/login')");
      assert.match((await page.text("body")) ?? "", /Zien API/);
      assert.deepEqual(
        await page.origins(),
        [server.baseUrl],
        "the dashboard and /docs load nothing from elsewhere",
      );
    });

    await t.step("the token never reaches the cookie or the logs", () => {
      assert.ok(!JSON.stringify(server.logs()).includes(ADMIN_TOKEN), "the admin token was logged");
      assert.ok(!server.stderr().includes(ADMIN_TOKEN));
    });

    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
  } finally {
    await page.close();
    await server.kill();
    await devdb.stop();
  }
});

Deno.test("the session cookie is HttpOnly and SameSite=Strict, and a stop with an open stream is prompt", async () => {
  const devdb = await startDevDb();
  const server = await spawnServer({
    env: { MONGODB_URL: devdb.url, ADMIN_TOKEN, SHUTDOWN_TIMEOUT_MS: "30000" },
  });
  try {
    const login = await fetch(`${server.baseUrl}/dashboard/login`, {
      method: "POST",
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
      redirect: "manual",
    });
    assert.equal(login.status, 303);
    await login.body?.cancel();
    const cookie = login.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^zien_dashboard=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.ok(!cookie.includes(ADMIN_TOKEN));

    const stream = await fetch(`${server.baseUrl}/dashboard/stream`, {
      headers: { cookie: cookie.split(";")[0] },
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream");
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("event: sample")) text += (await reader.read()).value ?? "";

    // Wrong tokens are throttled per address, like failed logins.
    const tryToken = (token: string) =>
      fetch(`${server.baseUrl}/dashboard/login`, {
        method: "POST",
        body: new URLSearchParams({ token }),
        redirect: "manual",
      });
    for (let i = 0; i < LOGIN_FAILURES_PER_ADDRESS; i++) {
      const wrong = await tryToken(`guess-${i}`);
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
    }
    const throttled = await tryToken("one-more-guess");
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get("retry-after")) > 0);
    await throttled.body?.cancel();

    const stoppedAt = Date.now();
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0, dump(server));
    const tookMs = Date.now() - stoppedAt;
    assert.ok(tookMs < 10_000, `the shutdown took ${tookMs} ms with a stream open (its deadline is 30 s)`);
    assert.ok(server.logs().some((l) => l.message === "shutdown complete"), dump(server));
    // The stream ended from the server's side.
    while (!(await reader.read()).done) { /* drain what was sent before the end */ }
  } finally {
    await server.kill();
    await devdb.stop();
  }
});
