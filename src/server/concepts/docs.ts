/**
 * `GET /docs`: the API reference, rendered in the browser by Swagger UI from `/api/openapi.json`. Its
 * bundle is served from the npm package the import map pins (swagger-ui-dist), never from a CDN, and the
 * page's CSP keeps it from reaching any other origin.
 *
 * @module
 */
import { Hono } from "hono";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Zien API reference</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  </head>
  <body>
    <div id="app"></div>
    <script src="/docs/assets/swagger-ui.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

// External, so the CSP needs no inline script.
const INIT = `SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#app", validatorUrl: "none" });
`;

const HEADERS = {
  "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "font-src 'self' data:; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
};

let bundle: Promise<{ js: string; css: string }> | undefined;

// Loaded on the first request: the bundle is about 1.5 MB, and most processes never serve it.
function swaggerUi(): Promise<{ js: string; css: string }> {
  bundle ??= Promise.all([
    import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "text" } }),
    import("swagger-ui-dist/swagger-ui.css", { with: { type: "text" } }),
  ]).then(([js, css]) => ({ js: js.default as string, css: css.default as string }));
  return bundle;
}

/**
 * `GET /docs` and its two scripts under `/docs/assets/`.
 *
 * @example
 * ```ts
 * app.route("/", docsRoutes());
 * ```
 */
export function docsRoutes(): Hono {
  const app = new Hono();
  app.get("/docs", (c) => c.html(PAGE, 200, HEADERS));
  app.get(
    "/docs/assets/init.js",
    (c) => c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8", ...HEADERS }),
  );
  const cached = { "Cache-Control": "public, max-age=3600", ...HEADERS };
  app.get(
    "/docs/assets/swagger-ui.js",
    async (c) =>
      c.body((await swaggerUi()).js, 200, { "Content-Type": "text/javascript; charset=utf-8", ...cached }),
  );
  app.get(
    "/docs/assets/swagger-ui.css",
    async (c) =>
      c.body((await swaggerUi()).css, 200, { "Content-Type": "text/css; charset=utf-8", ...cached }),
  );
  return app;
}
