/**
 * Reading one environment variable, validated: the primitives `config.ts` builds every setting from. A value
 * that is not allowed throws a `ConfigError` naming the variable, the value and what is allowed.
 *
 * @module
 */
import { isIP } from "node:net";
import { z } from "zod";
import { redactUrl } from "./redact.ts";

/** The exit code for a configuration error (EX_CONFIG in sysexits.h). */
export const EXIT_CONFIG = 78;

/** A variable whose value is not allowed. */
export class ConfigError extends Error {
  constructor(readonly variable: string, readonly value: string, readonly allowed: string) {
    super(`Invalid ${variable}=${JSON.stringify(value)}: expected ${allowed}`);
    this.name = "ConfigError";
  }
}

/** The environment as `loadConfig` reads it. */
export type Env = Record<string, string | undefined>;

const intPattern = /^-?\d+$/;

/** An integer variable in `[min, max]`; unset or empty gives `fallback`. */
export function int(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const parsed = z.string().regex(intPattern).transform(Number).pipe(z.number().int().min(min).max(max))
    .safeParse(raw.trim());
  if (!parsed.success) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `an integer >= ${min}`
      : `an integer from ${min} to ${max}`;
    throw new ConfigError(name, raw, range);
  }
  return parsed.data;
}

/** An integer variable of at least `min`, or undefined when unset. */
export function optionalInt(env: Env, name: string, min: number): number | undefined {
  return env[name] === undefined || env[name] === "" ? undefined : int(env, name, 0, min);
}

/** One of `allowed` (case-insensitive); unset gives `fallback`. */
export function oneOf<const T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const parsed = z.enum(allowed).safeParse(raw.trim().toLowerCase());
  if (!parsed.success) throw new ConfigError(name, raw, `one of ${allowed.join(", ")}`);
  return parsed.data as T;
}

/** true/false, 1/0, yes/no or on/off; unset gives `fallback`. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new ConfigError(name, raw, "true or false");
}

/** A comma-separated list of IP addresses; unset gives none. */
export function ipList(env: Env, name: string): string[] {
  const items = (text(env, name) ?? "").split(",").map((item) => item.trim()).filter(Boolean);
  const bad = items.find((item) => isIP(item) === 0);
  if (bad !== undefined) throw new ConfigError(name, bad, "a comma-separated list of IP addresses");
  return items;
}

/** The trimmed value, or undefined when unset or empty. */
export function text(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

/** An http:// or https:// URL without a trailing slash, or undefined when unset. */
export function httpUrl(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
    throw new ConfigError(name, redactUrl(raw), "an http:// or https:// URL");
  }
  return raw.replace(/\/+$/, "");
}
