/**
 * UserAuth: accounts, passwords and bearer tokens.
 *
 * @module
 */
export * from "./user_auth.ts";
export * from "./schemas.ts";
export { PBKDF2_ITERATIONS } from "./password.ts";
export { FREE_ATTEMPTS, lockSeconds, MAX_LOCK_SECONDS } from "./login_throttle.ts";
