/**
 * The server side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802 / 7677) as mongod speaks it, on node:crypto.
 * Written by hand: the npm SCRAM libraries are client-side only.
 *
 * saslprep is approximated: ASCII passwords are exact; others are NFKC-normalised, which matches the driver
 * for common text but not for every code point RFC 4013 maps or prohibits.
 *
 * @module
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { Binary } from "bson";
import { CommandError } from "../errors.ts";

/** The two mechanisms. */
export type ScramMechanism = "SCRAM-SHA-1" | "SCRAM-SHA-256";

/** What is stored for a user and mechanism: never the password. */
export interface ScramSecret {
  readonly salt: string;
  readonly iterations: number;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

const SETTINGS = {
  "SCRAM-SHA-1": { digest: "sha1", keyLength: 20, saltLength: 16, iterations: 10_000 },
  "SCRAM-SHA-256": { digest: "sha256", keyLength: 32, saltLength: 28, iterations: 15_000 },
} as const;

/** Whether `name` is a mechanism this server speaks. */
export function isScramMechanism(name: unknown): name is ScramMechanism {
  return name === "SCRAM-SHA-1" || name === "SCRAM-SHA-256";
}

function hmac(mechanism: ScramMechanism, key: Uint8Array, text: string): Uint8Array {
  return createHmac(SETTINGS[mechanism].digest, key).update(text).digest();
}

function hash(mechanism: ScramMechanism, bytes: Uint8Array): Uint8Array {
  return createHash(SETTINGS[mechanism].digest).update(bytes).digest();
}

/** Derives the stored secret (salt, iterations, StoredKey, ServerKey) for a password. */
export function scramSecret(mechanism: ScramMechanism, user: string, password: string): ScramSecret {
  const settings = SETTINGS[mechanism];
  // SCRAM-SHA-1 in MongoDB hashes the MONGODB-CR digest, not the password itself.
  const input = mechanism === "SCRAM-SHA-1"
    ? createHash("md5").update(`${user}:mongo:${password}`).digest("hex")
    : password.normalize("NFKC");
  const salt = randomBytes(settings.saltLength);
  const salted = pbkdf2Sync(input, salt, settings.iterations, settings.keyLength, settings.digest);
  const clientKey = hmac(mechanism, salted, "Client Key");
  return {
    salt: salt.toString("base64"),
    iterations: settings.iterations,
    storedKey: hash(mechanism, clientKey),
    serverKey: hmac(mechanism, salted, "Server Key"),
  };
}

/** The stored secrets of one user, as a conversation looks them up. */
export interface ScramUser {
  readonly user: string;
  readonly db: string;
  readonly secrets: Record<ScramMechanism, ScramSecret>;
}

function authenticationFailed(): CommandError {
  return new CommandError("AuthenticationFailed", "Authentication failed.");
}

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of message.split(",")) {
    const at = part.indexOf("=");
    if (at > 0) map.set(part.slice(0, at), part.slice(at + 1));
  }
  return map;
}

function text(payload: unknown): string {
  if (payload instanceof Binary) {
    return new TextDecoder().decode(payload.buffer.subarray(0, payload.position));
  }
  if (payload instanceof Uint8Array) return new TextDecoder().decode(payload);
  if (typeof payload === "string") return payload;
  throw new CommandError("BadValue", "SASL payload must be binary data");
}

/** One SCRAM exchange: `saslStart` creates it, `saslContinue` finishes it. */
export class ScramConversation {
  readonly mechanism: ScramMechanism;
  readonly db: string;
  readonly userName: string;
  /** The client asked to skip the empty last step (`options.skipEmptyExchange`). */
  skipEmptyExchange = false;
  readonly #lookup: (db: string, user: string) => ScramUser | undefined;
  readonly #clientFirstBare: string;
  readonly #serverFirst: string;
  readonly #nonce: string;
  #verified?: ScramUser;
  #finished = false;

  /** Parses the client-first message; the user is looked up when the proof arrives. */
  constructor(
    mechanism: ScramMechanism,
    db: string,
    payload: unknown,
    lookup: (db: string, user: string) => ScramUser | undefined,
  ) {
    this.mechanism = mechanism;
    this.db = db;
    this.#lookup = lookup;
    const message = text(payload);
    // gs2 header: "n,," (no channel binding, no authzid); the bare message follows the second comma.
    const headerEnd = message.indexOf(",", message.indexOf(",") + 1);
    if (!/^[ny],/.test(message) || headerEnd < 0) {
      throw new CommandError("BadValue", "malformed SCRAM message");
    }
    this.#clientFirstBare = message.slice(headerEnd + 1);
    const fields = attributes(this.#clientFirstBare);
    const user = fields.get("n");
    const clientNonce = fields.get("r");
    if (!user || !clientNonce) throw new CommandError("BadValue", "malformed SCRAM client-first message");
    this.userName = user.replaceAll("=2C", ",").replaceAll("=3D", "=");
    this.#nonce = clientNonce + randomBytes(24).toString("base64");
    // An unknown user gets a salt too, so that whether a user exists is not told before the proof.
    const secret = lookup(db, this.userName)?.secrets[mechanism];
    const salt = secret?.salt ?? createHash("sha256").update(`${db}.${this.userName}`).digest("base64");
    this.#serverFirst = `r=${this.#nonce},s=${salt},i=${
      secret?.iterations ?? SETTINGS[mechanism].iterations
    }`;
  }

  /** The server-first message. */
  get serverFirst(): Binary {
    return new Binary(new TextEncoder().encode(this.#serverFirst));
  }

  /** The verified user, once the proof has been checked. */
  get verified(): ScramUser | undefined {
    return this.#verified;
  }

  /**
   * Takes the client-final message (or, after the proof, the empty last step): the server signature and
   * whether the conversation is done. AuthenticationFailed (18) for a wrong proof or an unknown user.
   */
  step(payload: unknown): { payload: Binary; done: boolean } {
    if (this.#verified) {
      this.#finished = true;
      return { payload: new Binary(new Uint8Array()), done: true };
    }
    if (this.#finished) throw authenticationFailed();
    this.#finished = true;
    const message = text(payload);
    const proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0) throw authenticationFailed();
    const withoutProof = message.slice(0, proofAt);
    const fields = attributes(withoutProof);
    if (fields.get("r") !== this.#nonce) throw authenticationFailed();
    const user = this.#lookup(this.db, this.userName);
    const secret = user?.secrets[this.mechanism];
    if (!user || !secret) throw authenticationFailed();
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    let proof: Uint8Array;
    try {
      proof = Uint8Array.from(atob(message.slice(proofAt + 3)), (c) => c.charCodeAt(0));
    } catch {
      throw authenticationFailed();
    }
    const signature = hmac(this.mechanism, secret.storedKey, authMessage);
    if (proof.length !== signature.length) throw authenticationFailed();
    const clientKey = proof.map((byte, i) => byte ^ signature[i]);
    if (!timingSafeEqual(hash(this.mechanism, clientKey), secret.storedKey)) throw authenticationFailed();
    this.#verified = user;
    const serverSignature = btoa(String.fromCharCode(...hmac(this.mechanism, secret.serverKey, authMessage)));
    return {
      payload: new Binary(new TextEncoder().encode(`v=${serverSignature}`)),
      done: this.skipEmptyExchange,
    };
  }
}
