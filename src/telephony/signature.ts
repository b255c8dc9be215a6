/**
 * Twilio's request signature (`X-Twilio-Signature`): HMAC-SHA1, keyed with the account's auth token, over
 * the full URL followed by every POST parameter's name and value, names sorted; base64.
 *
 * The simulated provider signs with `signTwilioRequest`, the webhook routes check with
 * `verifyTwilioSignature`, so the same code path is exercised with and without a real Twilio.
 *
 * @example
 * ```ts
 * const form = await request.formData();
 * const ok = await verifyTwilioSignature({
 *   authToken,
 *   url: publicRequestUrl(publicBaseUrl, request.url),
 *   params: form,
 *   signature: request.headers.get(TWILIO_SIGNATURE_HEADER),
 * });
 * if (!ok) return new Response("Forbidden", { status: 403 });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";

/** The header Twilio puts its signature in. */
export const TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature";

/**
 * POST parameters: a form (`URLSearchParams`, `FormData` with text fields) or a record whose repeated
 * fields are arrays.
 */
export type SignedParams =
  | URLSearchParams
  | FormData
  | Record<string, string | readonly string[] | undefined>;

/** What is signed: the URL exactly as Twilio requested it, and the POST parameters. */
export interface SignInput {
  /** The account's auth token, the HMAC key. */
  authToken: string;
  /** The full URL, scheme, host, path and query string. */
  url: string;
  /** The POST parameters; none for a GET. */
  params?: SignedParams;
}

const encoder = new TextEncoder();

function entriesOf(params: SignedParams | undefined): [string, string][] {
  if (params === undefined) return [];
  if (params instanceof URLSearchParams || params instanceof FormData) {
    const entries: [string, string][] = [];
    // A file field is not something Twilio sends; it is left out rather than signed as "[object File]".
    for (const [name, value] of params.entries()) if (typeof value === "string") entries.push([name, value]);
    return entries;
  }
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === "string") entries.push([name, value]);
    else for (const item of value) entries.push([name, item]);
  }
  return entries;
}

// Code-unit order, as Twilio's helper libraries sort; a repeated name contributes each of its values,
// in sorted order, each preceded by the name.
function signedData(url: string, params: SignedParams | undefined): string {
  const entries = entriesOf(params).sort(([a, x], [b, y]) =>
    a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0
  );
  let data = url;
  for (const [name, value] of entries) data += name + value;
  return data;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The `X-Twilio-Signature` value Twilio would send for this request.
 *
 * @example
 * ```ts
 * await signTwilioRequest({ authToken: "12345", url: "https://example.com/hook", params: { CallSid: "CA1" } });
 * ```
 */
export async function signTwilioRequest(input: SignInput): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(input.authToken),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(signedData(input.url, input.params)));
  return base64(new Uint8Array(mac));
}

const defaultPorts: Record<string, string> = { "https:": "443", "http:": "80" };

// Twilio's helper libraries accept a signature made over the URL with or without the scheme's default
// port, because which of the two Twilio signs depends on how the URL was configured.
function urlVariants(url: string): string[] {
  const variants = [url];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return variants;
  }
  const port = defaultPorts[parsed.protocol];
  if (parsed.port === "" && port !== undefined) {
    const auth = parsed.username === ""
      ? ""
      : `${parsed.username}${parsed.password ? ":" + parsed.password : ""}@`;
    variants.push(`${parsed.protocol}//${auth}${parsed.host}:${port}${parsed.pathname}${parsed.search}`);
    variants.push(parsed.href.replace(/#.*$/, ""));
  }
  return [...new Set(variants)];
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whether `signature` is Twilio's signature of this request. False, never an exception, for a missing,
 * malformed or different-length signature. Compared in constant time.
 *
 * @example
 * ```ts
 * await verifyTwilioSignature({ authToken, url, params: form, signature: headers.get("X-Twilio-Signature") });
 * ```
 */
export async function verifyTwilioSignature(
  input: SignInput & { signature: string | null | undefined },
): Promise<boolean> {
  const { signature } = input;
  if (typeof signature !== "string" || signature === "" || input.authToken === "") return false;
  for (const url of urlVariants(input.url)) {
    const expected = await signTwilioRequest({ authToken: input.authToken, url, params: input.params });
    if (constantTimeEqual(expected, signature)) return true;
  }
  return false;
}
