/**
 * HTTP test harness: the concept routes mounted the way the app mounts them (after `requestId()`, with the
 * app-wide `errorHandler()`), over real concepts on a fresh embedded database.
 *
 * @module
 */
import { Hono } from "hono";
import { type MongoClientOptions } from "mongodb";
import { errorHandler, requestId } from "../../../src/server/request_context.ts";
import { errorJson } from "../../../src/server/errors.ts";
import { conceptRoutes } from "../../../src/server/concepts/mod.ts";
import type { AddressLimits } from "../../../src/server/throttle.ts";
import { type ConceptHarness, openConcepts } from "../../concepts/harness.ts";

/** What an HTTP test gets. */
export interface ApiHarness extends ConceptHarness {
  app: Hono;
  /** POSTs `body` as JSON to `/api/{path}`, with the token when given, from client address `from`. */
  post(path: string, body?: unknown, token?: string, from?: string): Promise<ApiResponse>;
  /** Sends anything: method, headers, raw body; `from` is the client address the server sees. */
  send(path: string, init: RequestInit, from?: string): Promise<ApiResponse>;
  /** Registers (once per username in this harness) and logs in; returns the token and user id. */
  account(username: string): Promise<{ token: string; user: string }>;
}

/** A response with its body parsed. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** The app as `src/server/app.ts` builds it, minus health, CORS and metrics. */
export function mountApp(
  h: ConceptHarness,
  routeOptions: { throttle?: AddressLimits; trustedProxies?: string[] } = {},
): Hono {
  // deno-lint-ignore no-explicit-any
  const app = new Hono<any>();
  app.use(requestId());
  app.route("/", conceptRoutes({ concepts: h.concepts, ...routeOptions }));
  app.notFound((c) => errorJson(c, 404, `No route for ${c.req.method} ${c.req.path}`));
  app.onError(errorHandler());
  return app;
}

/** Opens a database, the concepts and the app. */
export async function openApi(
  options: {
    tokenCacheMs?: number;
    clientOptions?: MongoClientOptions;
    throttle?: AddressLimits;
    trustedProxies?: string[];
  } = {},
): Promise<ApiHarness> {
  const h = await openConcepts(options);
  const app = mountApp(h, { throttle: options.throttle, trustedProxies: options.trustedProxies });
  const accounts = new Map<string, { token: string; user: string }>();
  const send = async (path: string, init: RequestInit, from?: string): Promise<ApiResponse> => {
    // What Deno.serve hands the app as `c.env`: the client's address.
    const env = from ? { remoteAddr: { transport: "tcp", hostname: from, port: 50_000 } } : undefined;
    const res = await app.request(`/api/${path}`, init, env);
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  const post = (path: string, body: unknown = {}, token?: string, from?: string) =>
    send(path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    }, from);
  return {
    ...h,
    app,
    send,
    post,
    async account(username: string) {
      const known = accounts.get(username);
      if (known) return known;
      const password = `${username} password`;
      const registered = await post("UserAuth/register", { username, password });
      if (registered.status !== 200) {
        throw new Error(`register ${username}: ${JSON.stringify(registered.json)}`);
      }
      const login = await post("UserAuth/login", { username, password });
      if (login.status !== 200) throw new Error(`login ${username}: ${JSON.stringify(login.json)}`);
      accounts.set(username, login.json);
      return login.json;
    },
  };
}
