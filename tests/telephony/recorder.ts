/**
 * A local HTTP server that records every request it gets, for the provider tests: it plays the webhook
 * receiver for the simulated provider and Twilio's API for the Twilio provider.
 *
 * @module
 */

/** One request as the server received it. */
export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  form: URLSearchParams;
}

/** What the handler answers; the default is 200 with an empty TwiML response. */
export type Reply = (request: RecordedRequest) => Response | Promise<Response>;

/** A running recorder; `close()` it at the end of the test. */
export interface Recorder {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a recorder on 127.0.0.1 and a free port. */
export function startRecorder(reply?: Reply): Recorder {
  const requests: RecordedRequest[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const recorded: RecordedRequest = {
      method: request.method,
      url: request.url,
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      form: new URLSearchParams(await request.text()),
    };
    requests.push(recorded);
    if (reply) return await reply(recorded);
    return new Response("<Response/>", { headers: { "content-type": "text/xml" } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** A promise and the function that resolves it, to hold a handler until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

/**
 * `Deno.test` with the op and resource sanitizers on (Deno 2 leaves the op sanitizer off by default), so
 * a timer or a connection a provider leaves behind fails the test.
 */
export function strictTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}
