/**
 * `GET /dashboard`: the live pool dashboard, served by the app itself with no build step and no CDN. The
 * admin token is exchanged at a login form for an HttpOnly, SameSite=Strict session cookie; the page then
 * reads one Server-Sent Events stream with a sample each second and draws its charts with uPlot, served
 * from the npm package the import map pins.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import dashboardJs from "./dashboard.js" with { type: "text" };
import dashboardCss from "./dashboard.css" with { type: "text" };
import pageHtml from "./page.html" with { type: "text" };
import loginHtml from "./login.html" with { type: "text" };
import type { PoolSample, PoolWarningChange } from "../../db/mod.ts";
import type { ConnectionsReport } from "../health.ts";
import { getLogger } from "../../log.ts";
import { refusal } from "../errors.ts";
import { ADDRESS_WINDOW_MS, LOGIN_FAILURES_PER_ADDRESS, WindowCounter } from "../throttle.ts";
import { isAdminToken, SESSION_TTL_MS, SessionStore } from "./sessions.ts";

export { isAdminToken, SessionStore } from "./sessions.ts";

const log = getLogger(["http", "dashboard"]);

/** The session cookie's name. */
export const SESSION_COOKIE = "zien_dashboard";
/** A sample is sent this often. */
export const SAMPLE_INTERVAL_MS = 1_000;

/** What the dashboard reads. */
export interface DashboardSources {
  adminToken: string;
  /** The admin report as of now, without a fresh server read (it is asked once a second per stream). */
  report(): ConnectionsReport;
  /** The pool history of the last hour, sent once when a stream opens. */
  history(): PoolSample[];
  /** Subscribes to warning transitions; returns the unsubscribe function. */
  onWarning(listener: (change: PoolWarningChange) => void): () => void;
  /** Who the client is, for the wrong-token throttle (`addressKey` of `clientAddress`). */
  clientKey(c: Context): string;
}

/** The dashboard's routes and its open streams. */
export interface Dashboard {
  routes: Hono;
  /** Streams open now. */
  openStreams(): number;
  /** Ends every open stream, so a server shutdown never waits on them. Streams opened later end at once. */
  closeStreams(): void;
}

const ASSETS: Record<string, { body: string; type: string }> = {
  "uplot.js": { body: uplotJs, type: "text/javascript; charset=utf-8" },
  "uplot.css": { body: uplotCss, type: "text/css; charset=utf-8" },
  "dashboard.js": { body: dashboardJs, type: "text/javascript; charset=utf-8" },
  "dashboard.css": { body: dashboardCss, type: "text/css; charset=utf-8" },
};

// Only our own scripts, styles and stream: no inline script, no other origin, no framing.
const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * The dashboard: `GET /dashboard`, `POST /dashboard/login`, `POST /dashboard/logout`, `GET /dashboard/stream`
 * and the page's assets under `/dashboard/assets/`.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ adminToken, report, history, onWarning });
 * app.route("/", dashboard.routes);
 * // at shutdown, before server.shutdown():
 * dashboard.closeStreams();
 * ```
 */
export function createDashboard(sources: DashboardSources): Dashboard {
  const sessions = new SessionStore();
  // Wrong tokens per client, as for failed logins: guessing the admin token is as slow as guessing passwords.
  const wrongTokens = new WindowCounter(LOGIN_FAILURES_PER_ADDRESS, ADDRESS_WINDOW_MS);
  const closers = new Set<() => void>();
  let closed = false;
  const app = new Hono();
  const signedIn = (c: Context) => sessions.valid(getCookie(c, SESSION_COOKIE));
  const loginPage = (error = "") => loginHtml.replace("<!--error-->", escapeHtml(error));

  app.get("/dashboard", (c) => {
    if (!signedIn(c)) return c.html(loginPage(), 200, PAGE_HEADERS);
    return c.html(pageHtml, 200, PAGE_HEADERS);
  });

  app.post("/dashboard/login", async (c) => {
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const token = typeof form.token === "string" ? form.token : "";
    const client = sources.clientKey(c);
    const wait = wrongTokens.take(client);
    if (wait > 0) {
      const page = loginPage(`Too many wrong tokens from your address; try again in ${wait} s.`);
      return c.html(page, 429, { ...PAGE_HEADERS, "Retry-After": String(wait) });
    }
    if (!(await isAdminToken(token, sources.adminToken))) {
      log.warn("dashboard login refused: wrong admin token");
      return c.html(loginPage("That is not the admin token."), 401, PAGE_HEADERS);
    }
    wrongTokens.refund(client);
    setCookie(c, SESSION_COOKIE, sessions.open(), {
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https",
      path: "/dashboard",
      maxAge: SESSION_TTL_MS / 1000,
    });
    log.info("dashboard login");
    return c.redirect("/dashboard", 303);
  });

  app.post("/dashboard/logout", (c) => {
    sessions.close(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: "/dashboard" });
    return c.redirect("/dashboard", 303);
  });

  app.get("/dashboard/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) throw refusal(404, `No dashboard asset named ${c.req.param("name")}.`);
    return c.body(asset.body, 200, {
      "Content-Type": asset.type,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
  });

  app.get("/dashboard/stream", (c) => {
    if (!signedIn(c)) throw refusal(401, "Log in at /dashboard first.");
    return streamSSE(c, async (stream) => {
      const ended = Promise.withResolvers<void>();
      const end = () => ended.resolve();
      closers.add(end);
      stream.onAbort(end);
      const send = (event: string, data: unknown) =>
        stream.writeSSE({ event, data: JSON.stringify(data) }).catch(end);
      const unsubscribe = sources.onWarning((change) => void send("warning", { ...change, at: Date.now() }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await send("history", sources.history());
        while (!closed && !stream.aborted && !stream.closed) {
          await send("sample", { at: Date.now(), ...sources.report(), openStreams: closers.size });
          const tick = new Promise<void>((resolve) => timer = setTimeout(resolve, SAMPLE_INTERVAL_MS));
          await Promise.race([tick, ended.promise]);
          clearTimeout(timer);
        }
      } finally {
        clearTimeout(timer);
        unsubscribe();
        closers.delete(end);
      }
    }, (err) => {
      log.debug("dashboard stream ended: {error}", { error: err.message });
      return Promise.resolve();
    });
  });

  return {
    routes: app,
    openStreams: () => closers.size,
    closeStreams() {
      closed = true;
      for (const end of closers) end();
    },
  };
}
