/**
 * Session tokens: 32 random bytes handed to the client once; only their SHA-256 is ever stored.
 *
 * @module
 */

import { createHash } from "node:crypto";

const TOKEN_BYTES = 32;

/** What a token looks like on the wire: 32 bytes in unpadded base64url. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A fresh random token. */
export function newToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
}

/**
 * The SHA-256 of a token, in hex: the only form the database sees. Synchronous on purpose: it runs on every
 * authenticated request, and `crypto.subtle.digest` costs about ten times as much per call.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
